"""The daily lake dataset: cleaned trips laid out by pickup date, one folder per day."""

import dagster as dg

from taxi_assets.chunks import MonthChunks
from taxi_assets.keys import CLEANED, DAILY, asset_key
from taxi_assets.metadata import column_schema
from taxi_assets.partitions import DAILY_BACKFILL, daily_partitions, days_in
from taxi_assets.resources import LAKE_DAYS_IO_MANAGER, LAKE_MONTHS
from taxi_assets.schema import PICKUP_DATE, TripSchema


def build_daily_trips(schema: TripSchema) -> dg.AssetsDefinition:
    service = schema.service
    descriptions = schema.descriptions(snake=True)

    @dg.asset(
        key=asset_key(service, DAILY),
        description=f"{schema.title}, cleaned, as a parquet dataset partitioned by pickup_date.",
        # The cleaned months a range of days needs, read one month at a time.
        ins={"cleaned": dg.AssetIn(key=asset_key(service, CLEANED), input_manager_key=LAKE_MONTHS)},
        partitions_def=daily_partitions(service),
        backfill_policy=DAILY_BACKFILL,
        io_manager_key=LAKE_DAYS_IO_MANAGER,
        group_name=service,
        kinds={"parquet", "pyarrow"},
        metadata={
            "partition_expr": PICKUP_DATE,
            "dagster/column_schema": column_schema(schema.cleaned_arrow_schema, descriptions),
        },
    )
    def daily_trips(context: dg.AssetExecutionContext, cleaned: MonthChunks) -> MonthChunks:
        # Month by month: a range of any length holds one month in memory at a time.
        return cleaned.within(days_in(context.partition_time_window))

    return daily_trips
