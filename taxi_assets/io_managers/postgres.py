"""The PostgreSQL tables' IO manager: a month replaced per run, a batch at a time; read back as Arrow."""

import dagster as dg
import pyarrow as pa

from taxi_assets.batches import Batches, Seen
from taxi_assets.errors import reported
from taxi_assets.metadata import day_column, descriptions_of, rows_metadata, table_name
from taxi_assets.resources.postgres import PostgresResource


class PostgresIOManager(dg.ConfigurableIOManager):
    """A month of cleaned trips in the course's table, swapped in at once."""

    postgres: dg.ResourceDependency[PostgresResource]

    @reported
    def handle_output(self, context: dg.OutputContext, obj: Batches | pa.Table) -> None:
        pg, metadata = self.postgres, context.definition_metadata
        table, column = table_name(metadata), day_column(metadata)
        window = context.asset_partitions_time_window
        seen = Seen(Batches.of(obj))
        pg.evolve_table(table, seen.rows.schema, column, descriptions_of(metadata, seen.rows.schema))
        pg.replace_month(table, column, seen.batches(), window.start.date(), window.end.date())
        context.add_output_metadata(
            {
                **rows_metadata(seen, descriptions_of(metadata)),
                "dagster/table_name": f"{pg.dbname}.{pg.schema_name}.{table}",
                "postgres": f"{pg.where} table {pg.schema_name}.{table}",
            }
        )

    @reported
    def load_input(self, context: dg.InputContext) -> pa.Table:
        metadata = context.upstream_output.definition_metadata if context.upstream_output else {}
        window = context.asset_partitions_time_window
        return self.postgres.read_days(
            table_name(metadata), day_column(metadata), window.start.date(), window.end.date()
        )
