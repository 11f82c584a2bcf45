"""The daily lake dataset: cleaned trips laid out by pickup date, one folder per day."""

import dagster as dg
import pandas as pd

from taxi_assets.assets.cleaned import cleaned_key
from taxi_assets.assets.metadata import column_schema, frame_metadata
from taxi_assets.constants import DAILY, trips_table
from taxi_assets.partitions import daily_partitions
from taxi_assets.schema import PICKUP_DATE, TripSchema
from taxi_assets.transform import rows_in_window


def daily_key(schema: TripSchema) -> dg.AssetKey:
    return dg.AssetKey([DAILY, trips_table(schema.service)])


# A range of days runs as one run: each source month is read once, not once per day.
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
    def daily_trips(context: dg.AssetExecutionContext, cleaned: pd.DataFrame) -> dg.Output[pd.DataFrame]:
        window = context.partition_time_window
        frame = rows_in_window(cleaned, window.start.date(), window.end.date())
        return dg.Output(frame, metadata=frame_metadata(frame, descriptions))

    return daily_trips
