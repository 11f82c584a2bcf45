"""The two calendars of the project: source months and pickup days, defined once."""

import datetime as dt

import dagster as dg
import pandas as pd
from dagster._core.storage.db_io_manager import TableSlice

from taxi_assets.constants import FIRST_MONTH

# Keys read as the source names its files: 2021-01 for a month, 2021-01-15 for a day.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt="%Y-%m")
daily_partitions = dg.DailyPartitionsDefinition(start_date=f"{FIRST_MONTH}-01")


def days_in(window: dg.TimeWindow) -> list[dt.date]:
    """The calendar days of a partition window, in order."""
    return [d.date() for d in pd.date_range(window.start, window.end, freq="D", inclusive="left")]


def slice_window(table_slice: TableSlice) -> tuple[str, dt.date, dt.date]:
    """A warehouse table slice's partition column and its days ``[first, end)``."""
    [dimension] = table_slice.partition_dimensions
    start, end = dimension.partitions
    return dimension.partition_expr, start.date(), end.date()
