"""The warehouse table: the daily lake dataset loaded into DuckDB (locally) or BigQuery (cloud)."""

import dagster as dg

from taxi_assets.chunks import MonthChunks
from taxi_assets.constants import warehouse_table
from taxi_assets.defs.assets import downstream_of_cleaned, for_every_service
from taxi_assets.defs.resources import warehouse_kind
from taxi_assets.errors import reported
from taxi_assets.io_managers import WAREHOUSE_IO_MANAGER
from taxi_assets.keys import DAILY, WAREHOUSE, asset_key
from taxi_assets.metadata import counts_agree
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
    def warehouse_trips(daily: MonthChunks) -> MonthChunks:
        return daily

    @dg.asset_check(
        asset=key,
        name="matches_lake",
        description="Each day has as many rows in the warehouse as in the lake.",
    )
    @reported
    def warehouse_matches_lake(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, lake: Lake
    ) -> dg.AssetCheckResult:
        window = context.partition_time_window
        in_warehouse = warehouse.day_counts(table, PICKUP_DATE, window.start.date(), window.end.date())
        in_lake = lake.day_counts(daily_key.path, PICKUP_DATE, days_in(window))
        return counts_agree(in_warehouse, in_lake, "warehouse")

    return [warehouse_trips, warehouse_matches_lake]


@dg.definitions
def warehouse_trips() -> dg.Definitions:
    return for_every_service(build_warehouse_trips)
