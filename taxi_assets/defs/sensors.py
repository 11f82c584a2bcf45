"""Following the source as it publishes: a monthly run for each month it has published since.

What follows a month downstream (PostgreSQL, the daily lake, the warehouse) is automation.py.
"""

import json

import dagster as dg
import pandas as pd

from taxi_assets.constants import SERVICES
from taxi_assets.defs.jobs import monthly_job_name, monthly_jobs
from taxi_assets.keys import MONTHLY_STAGES, RAW, asset_key, asset_keys
from taxi_assets.partitions import monthly_partitions
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
    for service in SERVICES:
        # The publisher's months, as the partitions list them (they grow as it publishes).
        months = monthly_partitions(service)
        first, last = months.get_first_partition_key(), months.get_last_partition_key()
        newest.append(f"{service} {last}")
        status = context.instance.get_status_by_partition(
            asset_key(service, RAW), months.get_partition_keys(), months
        )
        done = {m for m, s in (status or {}).items() if s == dg.AssetPartitionStatus.MATERIALIZED}
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
    return dg.SensorResult(
        run_requests=requests,
        skip_reason=None
        if requests
        else ("; ".join(waiting) or f"every month is done, up to {', '.join(newest)}"),
        cursor=json.dumps(cursor, sort_keys=True),
    )
