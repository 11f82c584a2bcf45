"""The PostgreSQL tables' IO manager: each month of a service's cleaned trips replaced whole, and
read back a month at a time.

An IO manager rather than an asset that writes through the resource: the table is a store of the
cleaned months that other assets may read, as the lake's are, so it stores and loads them the same
way (``Months``, a batch at a time).
"""

import dagster as dg

from taxi_assets.batches import CountedRows
from taxi_assets.constants import postgres_table
from taxi_assets.errors import as_dagster_failure
from taxi_assets.keys import service_of
from taxi_assets.metadata import rows_metadata, table_descriptions
from taxi_assets.months import MonthRows, Months
from taxi_assets.partitions import days_of, span
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.schema import PICKUP_DATE, SCHEMAS


class PostgresIOManager(dg.ConfigurableIOManager):
    """Each month of cleaned trips in the course's table (`{service}_cab_data`), swapped in at once.
    A run's months go in one after the other: a month that fails leaves itself and the months after
    it as they were, and those before it hold the lake's cleaned rows, as a re-run leaves them.
    """

    postgres: dg.ResourceDependency[PostgresResource]

    @as_dagster_failure
    def handle_output(self, context: dg.OutputContext, months: Months) -> None:
        pg, service = self.postgres, service_of(context.asset_key)
        table, partitions = postgres_table(service), months.partition_metadata_for(context)
        for month in months:
            first, end = span(month.days)
            counted = CountedRows(month.rows)
            descriptions = table_descriptions(service, counted.rows.schema)
            pg.evolve_table(table, counted.rows.schema, PICKUP_DATE, descriptions)
            pg.replace_month(table, PICKUP_DATE, counted.batches(), first, end)
            partitions.add(
                month.month,
                {
                    **rows_metadata(counted, descriptions),
                    "postgres": f"{pg.where} table {pg.schema_name}.{table}",
                },
            )

    @as_dagster_failure
    def load_input(self, context: dg.InputContext) -> Months:
        # Each month's rows streamed a batch at a time when asked for, typed as the lake's cleaned
        # months (a missing table fails here, naming it).
        service = service_of(context.asset_key)
        table, lake_types = postgres_table(service), SCHEMAS[service].cleaned_arrow_schema
        found = [
            MonthRows.whole(
                month, self.postgres.read_days(table, PICKUP_DATE, *span(days_of(month))).typed_as(lake_types)
            )
            for month in context.asset_partition_keys
        ]
        return Months(lambda: found)
