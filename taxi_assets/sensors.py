"""Following the source as it publishes: new months, then the days of each new month."""

import json

import dagster as dg
import pandas as pd

from taxi_assets.jobs import daily_job_name, daily_jobs, monthly_job_name, monthly_jobs
from taxi_assets.keys import CLEANED, DAILY_STAGES, MONTHLY_STAGES, RAW, asset_key, asset_keys
from taxi_assets.partitions import daily_partitions, monthly_partitions
from taxi_assets.publishers import configured_services
from taxi_assets.source import TaxiSource

# A first tick on an empty instance would otherwise ask for every month since 2011 at once.
MAX_MONTHS_PER_TICK = 6


def _next_month(month: str) -> str:
    return (pd.Period(month, "M") + 1).strftime("%Y-%m")


@dg.sensor(
    jobs=list(monthly_jobs.values()),
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Asks the source (HEAD, no download) for months after the last one handled, and "
    "requests a monthly run for each published month not materialised yet.",
)
def new_month_sensor(context: dg.SensorEvaluationContext, taxi_source: TaxiSource) -> dg.SensorResult:
    cursor: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    requests, waiting, newest = [], [], []
    for service in configured_services():
        # The publisher's months, as the partitions list them (they grow as it publishes).
        months = monthly_partitions(service)
        first, last = months.get_first_partition_key(), months.get_last_partition_key()
        newest.append(f"{service} {last}")
        done = context.instance.get_materialized_partitions(asset_key(service, RAW))
        month = max(_next_month(cursor[service]), first) if service in cursor else first
        while month <= last and len(requests) < MAX_MONTHS_PER_TICK:
            if month not in done:
                if not taxi_source.published(service, month):
                    waiting.append(f"{service} {month} not published yet")
                    break
                requests.append(
                    dg.RunRequest(
                        run_key=f"{service}-{month}",
                        job_name=monthly_job_name(service),
                        partition_key=month,
                        asset_selection=asset_keys(service, MONTHLY_STAGES),
                    )
                )
            cursor[service] = month
            month = _next_month(month)
    for reason in waiting:
        context.log.info(reason)
    return dg.SensorResult(
        run_requests=requests,
        skip_reason=None
        if requests
        else ("; ".join(waiting) or f"every month is done, up to {', '.join(newest)}"),
        cursor=json.dumps(cursor, sort_keys=True),
    )


@dg.sensor(
    jobs=list(daily_jobs.values()),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a cleaned month is materialised, sends its days through the daily lake and "
    "the warehouse in one run. Acts only on materialisations after it was turned on.",
)
def days_of_new_months_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    after = int(context.cursor) if context.cursor else None
    newest, requests = after or 0, []
    for service in configured_services():
        last_day = daily_partitions(service).get_last_partition_key()
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key(service, CLEANED), after_storage_id=after),
            limit=100,
        ).records
        for record in records:
            newest = max(newest, record.storage_id)
            if after is None or not record.partition_key or not last_day:
                continue  # the first tick only marks where history ends
            month = pd.Period(record.partition_key, "M")
            first, end = month.start_time.strftime("%Y-%m-%d"), month.end_time.strftime("%Y-%m-%d")
            requests.append(
                dg.RunRequest(
                    run_key=f"{service}-{record.partition_key}-{record.storage_id}",
                    job_name=daily_job_name(service),
                    asset_selection=asset_keys(service, DAILY_STAGES),
                    tags={
                        "dagster/asset_partition_range_start": first,
                        "dagster/asset_partition_range_end": min(end, last_day),
                    },
                )
            )
    return dg.SensorResult(
        run_requests=requests,
        skip_reason=None if requests else "no new cleaned month",
        cursor=str(newest),
    )
