"""The course's cadence, per service: days at 05:00 UTC, months on the first of the next month.

All are off by default: the TLC publishes a month about two months after it ends, so these runs
would fail until the data exists (and the partitions end at the newest published month). The
new-month sensor (sensors.py) follows the source as it publishes; turn a schedule on for a source that
publishes on time.
"""

import dagster as dg

from taxi_assets.defs.jobs import daily_jobs, monthly_jobs

# The course's hour: 05:00 UTC.
AT_FIVE = {"hour_of_day": 5, "minute_of_hour": 0}

daily_schedules: dict[str, dg.ScheduleDefinition] = {
    service: dg.build_schedule_from_partitioned_job(
        job,
        name=f"{service}_daily_trips_at_0500_utc",
        description=f"Yesterday's {service} pickups into the daily lake and the warehouse, at 05:00 UTC.",
        **AT_FIVE,
    )
    for service, job in daily_jobs.items()
}
monthly_schedules: dict[str, dg.ScheduleDefinition] = {
    service: dg.build_schedule_from_partitioned_job(
        job,
        name=f"{service}_monthly_trips_on_the_first",
        description=f"Last month's {service} file through cleaning and Postgres, on the 1st at 05:00 UTC.",
        day_of_month=1,
        **AT_FIVE,
    )
    for service, job in monthly_jobs.items()
}


@dg.definitions
def schedules() -> dg.Definitions:
    return dg.Definitions(schedules=[*daily_schedules.values(), *monthly_schedules.values()])
