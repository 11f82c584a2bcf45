"""The two calendars of each service, source months and pickup days, and how each is backfilled.

Each service's partitions are the months its configured publisher has (``publishers.py``): from
the service's first month to the publisher's newest, and the days of those months. Dagster needs
them when the definitions load, so the newest month is worked out then from today's date: a code
location loaded again (each run, each ``dg dev``, the UI's *Reload*, a redeployed code server)
lists the months published since.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import groupby

import dagster as dg
import pandas as pd

from taxi_assets.publishers import Publisher, configured_publisher


def _bounds(service: str, publisher: Publisher | None) -> tuple[pd.Period, pd.Period]:
    publisher = publisher or configured_publisher()
    return pd.Period(publisher.first_month(service), "M"), pd.Period(publisher.newest_month(), "M")


def monthly_partitions(service: str, publisher: Publisher | None = None) -> dg.MonthlyPartitionsDefinition:
    """The months of ``service`` its publisher has; keys read as the source names its files (2021-01)."""
    first, last = _bounds(service, publisher)
    return dg.MonthlyPartitionsDefinition(
        start_date=first.strftime("%Y-%m"), end_date=(last + 1).strftime("%Y-%m"), fmt="%Y-%m"
    )


def daily_partitions(service: str, publisher: Publisher | None = None) -> dg.DailyPartitionsDefinition:
    """The days of those months (2021-01-15)."""
    first, last = _bounds(service, publisher)
    return dg.DailyPartitionsDefinition(
        start_date=first.start_time.strftime("%Y-%m-%d"), end_date=(last + 1).start_time.strftime("%Y-%m-%d")
    )


# A backfill's months go a few to a run: each run pays a worker's start and the code location's
# load (seconds), once per few months instead of once per month. A run's months are still one
# download, file and table partition each, but they succeed or fail together (Dagster gives a run
# one outcome and one answer per check). A run from the UI, a schedule or a sensor holds one month.
MONTHS_PER_RUN = 4
MONTHLY_BACKFILL = dg.BackfillPolicy.multi_run(max_partitions_per_run=MONTHS_PER_RUN)
# A range of days is one run that reads each cleaned month once, a month at a time; this is also
# what `--partition-range` on the command line requires.
DAILY_BACKFILL = dg.BackfillPolicy.single_run()


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """A month key's (2021-01) bounds, its first midnight and the next month's, without a zone: trip
    times are New York wall-clock times.
    """
    period = pd.Period(month, "M")
    return period.start_time.to_pydatetime(), (period + 1).start_time.to_pydatetime()


def days_of(month: str) -> list[dt.date]:
    """The calendar days of a month key, in order."""
    first, end = month_bounds(month)
    return _days(first.date(), end.date())


def days_in(window: dg.TimeWindow) -> list[dt.date]:
    """The calendar days of a partition window, in order."""
    return _days(window.start.date(), window.end.date())


def _days(first: dt.date, end: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((end - first).days)]


def months_in(window: dg.TimeWindow) -> list[str]:
    """The months (2021-01) a window of whole months covers, in order."""
    return [f"{days[0]:%Y-%m}" for days in by_month(days_in(window))]


def span(days: Sequence[dt.date]) -> tuple[dt.date, dt.date]:
    """The first of ``days`` and the day after the last: the window ``[first, end)`` they fill."""
    return days[0], days[-1] + dt.timedelta(days=1)


def by_month(days: Sequence[dt.date]) -> list[tuple[dt.date, ...]]:
    """``days`` grouped by calendar month, in order."""
    return [tuple(group) for _, group in groupby(sorted(days), key=lambda d: (d.year, d.month))]
