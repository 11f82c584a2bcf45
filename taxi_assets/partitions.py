"""The two calendars of the project: source months and pickup days, defined once."""

import datetime as dt

import dagster as dg
import pandas as pd

from taxi_assets.constants import FIRST_MONTH

# Keys read as the source names its files: 2021-01 for a month, 2021-01-15 for a day.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt="%Y-%m")
daily_partitions = dg.DailyPartitionsDefinition(start_date=f"{FIRST_MONTH}-01")


def days_in(window: dg.TimeWindow) -> list[dt.date]:
    """The calendar days of a partition window, in order."""
    return [d.date() for d in pd.date_range(window.start, window.end, freq="D", inclusive="left")]
