"""The warehouse table: the daily lake dataset loaded into DuckDB (locally) or BigQuery (cloud)."""

import dagster as dg

from taxi_assets.chunks import MonthChunks
from taxi_assets.constants import warehouse_table
from taxi_assets.errors import reported
from taxi_assets.keys import DAILY, WAREHOUSE, asset_key
from taxi_assets.metadata import column_schema, counts_agree
from taxi_assets.partitions import DAILY_BACKFILL, daily_partitions, days_in
from taxi_assets.resources import WAREHOUSE_IO_MANAGER, warehouse_kind
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.warehouse import Warehouse
from taxi_assets.schema import PICKUP_DATE, TripSchema


def build_warehouse_trips(schema: TripSchema) -> list[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    service = schema.service
    descriptions = schema.descriptions(snake=True)
    key, daily_key, table = asset_key(service, WAREHOUSE), asset_key(service, DAILY), warehouse_table(service)

    @dg.asset(
        key=key,
        description=f"{schema.title} in the warehouse, one table partitioned by pickup_date.",
        ins={"daily": dg.AssetIn(key=daily_key)},
        partitions_def=daily_partitions(service),
        backfill_policy=DAILY_BACKFILL,
        io_manager_key=WAREHOUSE_IO_MANAGER,
        pool="warehouse",  # DuckDB has one writer at a time; BigQuery has quotas
        group_name=service,
        kinds={warehouse_kind(), "pyarrow"},
        metadata={
            "partition_expr": PICKUP_DATE,
            "dagster/table_name": table,
            "dagster/column_schema": column_schema(schema.cleaned_arrow_schema, descriptions),
        },
    )
    def warehouse_trips(daily: MonthChunks) -> MonthChunks:
        return daily

    @dg.asset_check(
        asset=key,
        name="matches_lake",
        partitions_def=daily_partitions(service),
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
