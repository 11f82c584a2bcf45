"""The code location: assets, checks, jobs, schedules, sensors and resources for this environment."""

import dagster as dg

from taxi_assets.assets import service_definitions
from taxi_assets.assets.zones import (
    observe_zone_lookup_job,
    observe_zone_lookup_schedule,
    zones_automation_sensor,
)
from taxi_assets.connections import check_connections
from taxi_assets.executor import in_process_with_recovery
from taxi_assets.jobs import daily_jobs, monthly_jobs
from taxi_assets.recovery import dead_run_sensor
from taxi_assets.resources import build_resources
from taxi_assets.schedules import daily_schedules, monthly_schedules
from taxi_assets.sensors import days_of_new_months_sensor, new_month_sensor

_definitions = service_definitions()

defs = dg.Definitions(
    assets=[d for d in _definitions if not isinstance(d, dg.AssetChecksDefinition)],
    asset_checks=[d for d in _definitions if isinstance(d, dg.AssetChecksDefinition)],
    jobs=[*monthly_jobs.values(), *daily_jobs.values(), check_connections, observe_zone_lookup_job],
    schedules=[*daily_schedules.values(), *monthly_schedules.values(), observe_zone_lookup_schedule],
    sensors=[new_month_sensor, days_of_new_months_sensor, dead_run_sensor, zones_automation_sensor],
    resources=build_resources(),
    # Each run is a chain (raw → cleaned → Postgres; daily → warehouse) with nothing to run side
    # by side, and a step process costs 3-5 s of imports on a small machine: steps run in the
    # run's own process. Runs still go in parallel, limited by the queue in dagster.yaml. The
    # executor also fails runs whose process died before they block this one (taxi_assets/executor.py).
    executor=in_process_with_recovery,
)
