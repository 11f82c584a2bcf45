"""The partitioned jobs schedules and sensors launch, per service: a source month, and a range of days.

A job has one partitions definition, and each service's months are its own (yellow from 2011,
green from 2013-08, FHV from 2015 at the TLC): so each service has its two jobs.
"""

import dagster as dg

from taxi_assets.keys import DAILY_STAGES, MONTHLY_STAGES, asset_keys
from taxi_assets.publishers import configured_services


def monthly_job_name(service: str) -> str:
    return f"{service}_monthly_trips"


def daily_job_name(service: str) -> str:
    return f"{service}_daily_trips"


def _job(name: str, service: str, stages: tuple[str, ...], description: str):
    # define_asset_job's return type (UnresolvedAssetJobDefinition) is not among Dagster's exports.
    return dg.define_asset_job(
        name, selection=dg.AssetSelection.assets(*asset_keys(service, stages)), description=description
    )


monthly_jobs = {
    service: _job(
        monthly_job_name(service),
        service,
        MONTHLY_STAGES,
        f"One source month of {service} trips: download, clean, load into Postgres.",
    )
    for service in configured_services()
}
daily_jobs = {
    service: _job(
        daily_job_name(service),
        service,
        DAILY_STAGES,
        f"Days of cleaned {service} trips into the daily lake dataset and the warehouse.",
    )
    for service in configured_services()
}


@dg.definitions
def jobs() -> dg.Definitions:
    return dg.Definitions(jobs=[*monthly_jobs.values(), *daily_jobs.values()])
