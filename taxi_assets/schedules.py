"""The course's cadence: days at 05:00 UTC, months on the first of the next month.

Both are off by default: the TLC publishes a month weeks after it ends, so against the default
source these runs would fail until the data exists. The sensors (sensors.py) follow the
source as it publishes; turn a schedule on for a source that publishes on time.
"""

import dagster as dg

from taxi_assets.jobs import daily_job, monthly_job

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    name="daily_trips_at_0500_utc",
    description="Yesterday's pickups into the daily lake dataset and the warehouse, at 05:00 UTC.",
    hour_of_day=5,
    minute_of_hour=0,
)

monthly_schedule = dg.build_schedule_from_partitioned_job(
    monthly_job,
    name="monthly_trips_on_the_first",
    description="Last month's source files through cleaning and Postgres, on the 1st at 05:00 UTC.",
    day_of_month=1,
    hour_of_day=5,
    minute_of_hour=0,
)
