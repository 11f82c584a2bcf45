"""The two calendars of the project: source months and pickup days, defined once."""

import dagster as dg

from taxi_assets.constants import FIRST_MONTH

# Keys read as the source names its files: 2021-01 for a month, 2021-01-15 for a day.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt="%Y-%m")
daily_partitions = dg.DailyPartitionsDefinition(start_date=f"{FIRST_MONTH}-01")
