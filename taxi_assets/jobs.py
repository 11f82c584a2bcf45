"""The two partitioned jobs schedules and sensors launch: a source month, and a range of days."""

import dagster as dg

from taxi_assets.constants import SERVICES
from taxi_assets.keys import DAILY_STAGES, MONTHLY_STAGES, asset_keys

# Run tags the run queue limits in dagster.yaml (tag_concurrency_limits on taxi/writes).
WRITES_TAG = "taxi/writes"

monthly_job = dg.define_asset_job(
    "monthly_trips",
    selection=dg.AssetSelection.assets(*(k for s in SERVICES for k in asset_keys(s, MONTHLY_STAGES))),
    description="One source month of every service: download, clean, load into Postgres.",
    tags={WRITES_TAG: "postgres"},
)

daily_job = dg.define_asset_job(
    "daily_trips",
    selection=dg.AssetSelection.assets(*(k for s in SERVICES for k in asset_keys(s, DAILY_STAGES))),
    description="Days of cleaned trips into the daily lake dataset and the warehouse.",
    tags={WRITES_TAG: "warehouse"},
)
