"""The PostgreSQL tables' IO manager: each month of a service's cleaned trips replaced whole."""

import dagster as dg

from taxi_assets.batches import Seen
from taxi_assets.constants import postgres_table
from taxi_assets.errors import reported
from taxi_assets.keys import service_of
from taxi_assets.metadata import rows_metadata, table_descriptions
from taxi_assets.months import Months, teller
from taxi_assets.partitions import month_bounds
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.schema import PICKUP_DATE


class PostgresIOManager(dg.ConfigurableIOManager):
    """Each month of cleaned trips in the course's table (`{service}_cab_data`), swapped in at once.
    A run's months go in one after the other: a month that fails leaves itself and the months after
    it as they were, and those before it hold the lake's cleaned rows, as a re-run leaves them.
    """

    postgres: dg.ResourceDependency[PostgresResource]

    @reported
    def handle_output(self, context: dg.OutputContext, months: Months) -> None:
        pg, service = self.postgres, service_of(context.asset_key)
        tell = teller(context, months)
        table = postgres_table(service)
        for month, rows in months:
            first, end = (bound.date() for bound in month_bounds(month))
            seen = Seen(rows)
            descriptions = table_descriptions(service, seen.rows.schema)
            pg.evolve_table(table, seen.rows.schema, PICKUP_DATE, descriptions)
            pg.replace_month(table, PICKUP_DATE, seen.batches(), first, end)
            tell(
                month,
                {
                    **rows_metadata(seen, descriptions),
                    "postgres": f"{pg.where} table {pg.schema_name}.{table}",
                },
            )

    def load_input(self, context: dg.InputContext) -> None:
        raise NotImplementedError("nothing reads the PostgreSQL tables back through Dagster")
