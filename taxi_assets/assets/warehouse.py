"""The warehouse table: the daily lake dataset loaded into DuckDB (locally) or BigQuery (cloud)."""

import dagster as dg

from taxi_assets.assets.daily import DAILY_BACKFILL, daily_key
from taxi_assets.chunks import DayCounts, MonthChunks
from taxi_assets.constants import WAREHOUSE, trips_table
from taxi_assets.metadata import column_schema
from taxi_assets.partitions import daily_partitions
from taxi_assets.resources import WAREHOUSE_IO_MANAGER
from taxi_assets.schema import PICKUP_DATE, TripSchema


def warehouse_key(schema: TripSchema) -> dg.AssetKey:
    return dg.AssetKey([WAREHOUSE, trips_table(schema.service)])


def build_warehouse_trips(schema: TripSchema) -> list[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    service = schema.service
    descriptions = schema.descriptions(snake=True)

    @dg.asset(
        key=warehouse_key(schema),
        description=f"{service.title()}-cab trips in the warehouse, one table partitioned by pickup_date.",
        ins={"daily": dg.AssetIn(key=daily_key(schema))},
        partitions_def=daily_partitions,
        backfill_policy=DAILY_BACKFILL,
        io_manager_key=WAREHOUSE_IO_MANAGER,
        pool="warehouse",  # DuckDB has one writer at a time; BigQuery has quotas
        group_name=service,
        kinds={"pandas", "sql"},
        metadata={
            "partition_expr": PICKUP_DATE,
            "dagster/column_schema": column_schema(schema.cleaned_arrow_schema, descriptions),
        },
    )
    def warehouse_trips(daily: MonthChunks) -> MonthChunks:
        return daily

    @dg.asset_check(
        asset=warehouse_trips,
        name="matches_lake",
        additional_ins={"daily": dg.AssetIn(key=daily_key(schema))},
        partitions_def=daily_partitions,
        description="Each day has as many rows in the warehouse as in the lake.",
    )
    def warehouse_matches_lake(warehouse: DayCounts, daily: DayCounts) -> dg.AssetCheckResult:
        differing = {
            day: {"warehouse": warehouse.counts.get(day, 0), "lake": daily.counts.get(day, 0)}
            for day in sorted(set(warehouse.counts) | set(daily.counts))
            if warehouse.counts.get(day, 0) != daily.counts.get(day, 0)
        }
        return dg.AssetCheckResult(
            passed=not differing,
            metadata={
                "warehouse_rows": sum(warehouse.counts.values()),
                "lake_rows": sum(daily.counts.values()),
                "days_differing": dg.MetadataValue.json(differing),
            },
        )

    return [warehouse_trips, warehouse_matches_lake]
