"""The warehouse table: the daily lake dataset loaded into DuckDB (locally) or BigQuery (cloud)."""

import dagster as dg

from taxi_assets.constants import warehouse_table
from taxi_assets.defs.assets import downstream_of_cleaned, for_every_service, matches_lake
from taxi_assets.defs.resources import warehouse_kind
from taxi_assets.io_managers import WAREHOUSE_IO_MANAGER
from taxi_assets.keys import DAILY, WAREHOUSE, asset_key
from taxi_assets.months import Months
from taxi_assets.partitions import days_in
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.warehouse import Warehouse
from taxi_assets.schema import PICKUP_DATE, TripSchema


def build_warehouse_trips(schema: TripSchema) -> list[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    service = schema.service
    key, daily_key, table = asset_key(service, WAREHOUSE), asset_key(service, DAILY), warehouse_table(service)

    @dg.asset(
        **downstream_of_cleaned(schema, WAREHOUSE, daily=True, table=table),
        description=f"{schema.title} in the warehouse, one table partitioned by pickup_date.",
        ins={"daily": dg.AssetIn(key=daily_key)},
        io_manager_key=WAREHOUSE_IO_MANAGER,
        # One warehouse run at a time (dagster.yaml's pools, applied in the run queue): DuckDB has
        # one writer, BigQuery has quotas.
        pool="warehouse",
        kinds={warehouse_kind(), "pyarrow"},
    )
    def warehouse_trips(daily: Months) -> Months:
        return daily

    def counts(warehouse: Warehouse, lake: Lake, window: dg.TimeWindow) -> tuple[dict, dict]:
        in_warehouse = warehouse.day_counts(table, PICKUP_DATE, window.start.date(), window.end.date())
        return in_warehouse, lake.day_counts(daily_key.path, PICKUP_DATE, days_in(window))

    check = matches_lake(
        key, "warehouse", "Each day has as many rows in the warehouse as in the lake.", counts
    )
    return [warehouse_trips, check]


@dg.definitions
def warehouse_trips() -> dg.Definitions:
    return for_every_service(build_warehouse_trips)
