"""The partitioned jobs schedules and sensors launch, per service: a source month, and a range of days.

A job has one partitions definition, and each service's months are its own (yellow from 2011,
green from 2013-08, FHV from 2015 at the TLC): so each service has its two jobs.
"""

import dagster as dg

from taxi_assets.keys import DAILY_STAGES, MONTHLY_STAGES, asset_keys
from taxi_assets.publishers import configured_services

# Run tags the run queue limits in dagster.yaml (tag_concurrency_limits on taxi/writes).
WRITES_TAG = "taxi/writes"


def monthly_job_name(service: str) -> str:
    return f"{service}_monthly_trips"


def daily_job_name(service: str) -> str:
    return f"{service}_daily_trips"


monthly_jobs = {
    service: dg.define_asset_job(
        monthly_job_name(service),
        selection=dg.AssetSelection.assets(*asset_keys(service, MONTHLY_STAGES)),
        description=f"One source month of {service} trips: download, clean, load into Postgres.",
        tags={WRITES_TAG: "postgres"},
    )
    for service in configured_services()
}

daily_jobs = {
    service: dg.define_asset_job(
        daily_job_name(service),
        selection=dg.AssetSelection.assets(*asset_keys(service, DAILY_STAGES)),
        description=f"Days of cleaned {service} trips into the daily lake dataset and the warehouse.",
        tags={WRITES_TAG: "warehouse"},
    )
    for service in configured_services()
}
