"""The warehouse table: the daily lake dataset loaded into DuckDB (locally) or BigQuery (cloud)."""

import dagster as dg
import pandas as pd

from taxi_assets.assets.daily import DAILY_BACKFILL, daily_key
from taxi_assets.assets.metadata import column_schema, frame_metadata
from taxi_assets.constants import WAREHOUSE, trips_table
from taxi_assets.partitions import daily_partitions
from taxi_assets.resources import WAREHOUSE_IO_MANAGER
from taxi_assets.schema import PICKUP_DATE, TripSchema


def warehouse_key(schema: TripSchema) -> dg.AssetKey:
    return dg.AssetKey([WAREHOUSE, trips_table(schema.service)])


def _rows_per_day(frame: pd.DataFrame) -> dict[str, int]:
    # Count first, format the few keys after: a str() per row costs seconds on a month.
    counts = frame[PICKUP_DATE].value_counts(sort=False)
    return {pd.Timestamp(day).strftime("%Y-%m-%d"): int(n) for day, n in counts.items()}


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
    def warehouse_trips(context: dg.AssetExecutionContext, daily: pd.DataFrame) -> dg.Output[pd.DataFrame]:
        return dg.Output(daily, metadata=frame_metadata(daily, descriptions))

    @dg.asset_check(
        asset=warehouse_trips,
        name="matches_lake",
        additional_ins={"daily": dg.AssetIn(key=daily_key(schema))},
        partitions_def=daily_partitions,
        description="Each day has as many rows in the warehouse as in the lake.",
    )
    def warehouse_matches_lake(warehouse: pd.DataFrame, daily: pd.DataFrame) -> dg.AssetCheckResult:
        in_warehouse, in_lake = _rows_per_day(warehouse), _rows_per_day(daily)
        differing = {
            day: {"warehouse": in_warehouse.get(day, 0), "lake": in_lake.get(day, 0)}
            for day in sorted(set(in_warehouse) | set(in_lake))
            if in_warehouse.get(day, 0) != in_lake.get(day, 0)
        }
        return dg.AssetCheckResult(
            passed=not differing,
            metadata={
                "warehouse_rows": len(warehouse),
                "lake_rows": len(daily),
                "days_differing": dg.MetadataValue.json(differing),
            },
        )

    return [warehouse_trips, warehouse_matches_lake]
