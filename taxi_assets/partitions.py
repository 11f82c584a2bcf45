"""The two calendars of the project, source months and pickup days, and how each is backfilled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import groupby

import dagster as dg

from taxi_assets.constants import FIRST_MONTH

# Keys read as the source names its files: 2021-01 for a month, 2021-01-15 for a day.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, fmt="%Y-%m")
daily_partitions = dg.DailyPartitionsDefinition(start_date=f"{FIRST_MONTH}-01")

# A month is a download of its own: one run per month, so a failed month fails alone.
MONTHLY_BACKFILL = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)
# A range of days is one run that reads each cleaned month once, a month at a time; this is also
# what `--partition-range` on the command line requires.
DAILY_BACKFILL = dg.BackfillPolicy.single_run()


def wall_clock(window: dg.TimeWindow) -> tuple[dt.datetime, dt.datetime]:
    """A window's bounds as naive datetimes: trip times are New York wall-clock times, without a zone."""
    return window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)


def days_in(window: dg.TimeWindow) -> list[dt.date]:
    """The calendar days of a partition window, in order."""
    first, end = window.start.date(), window.end.date()
    return [first + dt.timedelta(days=n) for n in range((end - first).days)]


def span(days: Sequence[dt.date]) -> tuple[dt.date, dt.date]:
    """The first of ``days`` and the day after the last: the window ``[first, end)`` they fill."""
    return days[0], days[-1] + dt.timedelta(days=1)


def by_month(days: Sequence[dt.date]) -> list[tuple[dt.date, ...]]:
    """``days`` grouped by calendar month, in order."""
    return [tuple(group) for _, group in groupby(sorted(days), key=lambda d: (d.year, d.month))]
