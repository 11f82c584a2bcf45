"""The daily lake dataset: cleaned trips laid out by pickup date, one folder per day."""

import dagster as dg

from taxi_assets.defs.assets import downstream_of_cleaned, for_every_service
from taxi_assets.io_managers import LAKE_DAYS_IO_MANAGER
from taxi_assets.keys import CLEANED, DAILY, asset_key
from taxi_assets.months import Months
from taxi_assets.partitions import days_in
from taxi_assets.schema import TripSchema


def build_daily_trips(schema: TripSchema) -> dg.AssetsDefinition:
    @dg.asset(
        **downstream_of_cleaned(schema, DAILY, daily=True),
        description=f"{schema.title}, cleaned, as a parquet dataset partitioned by pickup_date.",
        # The cleaned months a range of days touches, read one month at a time.
        ins={"cleaned": dg.AssetIn(key=asset_key(schema.service, CLEANED))},
        io_manager_key=LAKE_DAYS_IO_MANAGER,
        kinds={"parquet", "pyarrow"},
    )
    def daily_trips(context: dg.AssetExecutionContext, cleaned: Months) -> Months:
        # Month by month: a range of any length holds one month in memory at a time.
        return cleaned.within(days_in(context.partition_time_window))

    return daily_trips


@dg.definitions
def daily_trips() -> dg.Definitions:
    return for_every_service(build_daily_trips)
