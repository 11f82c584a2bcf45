"""The PostgreSQL tables' IO manager: a month of a service's cleaned trips replaced per run."""

import dagster as dg
import pyarrow as pa

from taxi_assets.batches import Batches, Seen
from taxi_assets.constants import postgres_table
from taxi_assets.errors import reported
from taxi_assets.keys import service_of
from taxi_assets.metadata import rows_metadata, table_descriptions
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.schema import PICKUP_DATE


class PostgresIOManager(dg.ConfigurableIOManager):
    """A month of cleaned trips in the course's table (`{service}_cab_data`), swapped in at once."""

    postgres: dg.ResourceDependency[PostgresResource]

    @reported
    def handle_output(self, context: dg.OutputContext, obj: Batches | pa.Table) -> None:
        pg, service = self.postgres, service_of(context.asset_key)
        window = context.asset_partitions_time_window
        seen = Seen(Batches.of(obj))
        table, descriptions = postgres_table(service), table_descriptions(service, seen.rows.schema)
        pg.evolve_table(table, seen.rows.schema, PICKUP_DATE, descriptions)
        pg.replace_month(table, PICKUP_DATE, seen.batches(), window.start.date(), window.end.date())
        context.add_output_metadata(
            {**rows_metadata(seen, descriptions), "postgres": f"{pg.where} table {pg.schema_name}.{table}"}
        )

    def load_input(self, context: dg.InputContext) -> None:
        raise NotImplementedError("nothing reads the PostgreSQL tables back through Dagster")
