"""The daily lake dataset: cleaned trips laid out by pickup date, one folder per day."""

import dagster as dg

from taxi_assets.assets.cleaned import cleaned_key
from taxi_assets.chunks import MonthChunks
from taxi_assets.constants import DAILY, trips_table
from taxi_assets.metadata import column_schema
from taxi_assets.partitions import daily_partitions, days_in
from taxi_assets.schema import PICKUP_DATE, TripSchema


def daily_key(schema: TripSchema) -> dg.AssetKey:
    return dg.AssetKey([DAILY, trips_table(schema.service)])


# A range of days runs as one run (one process per step, not per day) that reads each cleaned
# month once, a month at a time; this is also what `--partition-range` on the CLI requires.
DAILY_BACKFILL = dg.BackfillPolicy.single_run()


def build_daily_trips(schema: TripSchema) -> dg.AssetsDefinition:
    service = schema.service
    descriptions = schema.descriptions(snake=True)

    @dg.asset(
        key=daily_key(schema),
        description=f"{service.title()}-cab cleaned trips as a parquet dataset partitioned by pickup_date.",
        ins={"cleaned": dg.AssetIn(key=cleaned_key(schema))},
        partitions_def=daily_partitions,
        backfill_policy=DAILY_BACKFILL,
        group_name=service,
        kinds={"parquet", "pandas"},
        metadata={
            "partition_expr": PICKUP_DATE,
            "dagster/column_schema": column_schema(schema.cleaned_arrow_schema, descriptions),
        },
    )
    def daily_trips(context: dg.AssetExecutionContext, cleaned: MonthChunks) -> MonthChunks:
        # Month by month: a range of any length holds one month in memory at a time.
        return cleaned.within(days_in(context.partition_time_window))

    return daily_trips
