"""The course's PostgreSQL tables: a service's cleaned trips, each month replaced whole."""

import dagster as dg

from taxi_assets.constants import postgres_table
from taxi_assets.defs.assets import downstream_of_cleaned, for_every_service, matches_lake
from taxi_assets.io_managers import POSTGRES_IO_MANAGER
from taxi_assets.keys import CLEANED, POSTGRES, asset_key
from taxi_assets.months import Months
from taxi_assets.partitions import months_in
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.schema import PICKUP_DATE, TripSchema


def build_postgres_trips(schema: TripSchema) -> list[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    service = schema.service
    key, cleaned_key, table = (
        asset_key(service, POSTGRES),
        asset_key(service, CLEANED),
        postgres_table(service),
    )

    @dg.asset(
        **downstream_of_cleaned(schema, POSTGRES, daily=False, table=table),
        description=f"{schema.title}, cleaned, in PostgreSQL (the course's {table}), by month.",
        ins={"cleaned": dg.AssetIn(key=cleaned_key)},
        io_manager_key=POSTGRES_IO_MANAGER,
        kinds={"postgres", "pyarrow"},
    )
    def postgres_trips(context: dg.AssetExecutionContext, cleaned: Months) -> Months:
        # The cleaned months as the lake holds them: the IO manager copies each in a batch at a time.
        return cleaned.with_partition_metadata(context, key)

    def counts(postgres: PostgresResource, lake: Lake, window: dg.TimeWindow) -> tuple[dict, dict]:
        in_postgres = postgres.day_counts(table, PICKUP_DATE, window.start.date(), window.end.date())
        in_lake: dict[str, int] = {}
        for month in months_in(window):
            in_lake |= lake.month_day_counts(cleaned_key.path, month, PICKUP_DATE)
        return in_postgres, in_lake

    check = matches_lake(
        key,
        "postgres",
        "Each day of the month has as many rows in PostgreSQL as the lake's cleaned month: a failed or "
        "missing load shows here as PostgreSQL behind the lake.",
        counts,
    )
    return [postgres_trips, check]


@dg.definitions
def postgres_trips() -> dg.Definitions:
    return for_every_service(build_postgres_trips)
