"""A window's rows one month at a time, so a range of days never holds more than a month in memory.

Assets of daily partitions pass these between IO managers instead of one DataFrame: the lake
loads a month only when the next chunk is asked for, and each writer writes it and lets it go.
Months load as Arrow tables.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby

import pyarrow as pa

from taxi_assets.transform import rows_in_window


@dataclass(frozen=True)
class MonthChunk:
    """Some days of one month, and how to load their rows."""

    days: tuple[dt.date, ...]
    load: Callable[[], pa.Table]


@dataclass(frozen=True)
class MonthChunks:
    """The rows of a window of days, month by month, loaded lazily."""

    chunks: tuple[MonthChunk, ...]

    def tables(self) -> Iterator[tuple[tuple[dt.date, ...], pa.Table]]:
        for chunk in self.chunks:
            yield chunk.days, chunk.load()

    @property
    def days(self) -> list[dt.date]:
        return [day for chunk in self.chunks for day in chunk.days]

    def within(self, days: Iterable[dt.date]) -> "MonthChunks":
        """Only ``days`` of each chunk, rows and all."""
        keep = set(days)

        def restricted(chunk: MonthChunk) -> MonthChunk:
            own = tuple(d for d in chunk.days if d in keep)
            first, end = span(own)
            return MonthChunk(own, lambda: rows_in_window(chunk.load(), first, end))

        return MonthChunks(tuple(restricted(c) for c in self.chunks if keep.intersection(c.days)))


def span(days: Sequence[dt.date]) -> tuple[dt.date, dt.date]:
    """The first of ``days`` and the day after the last: the window ``[first, end)`` they fill."""
    return days[0], days[-1] + dt.timedelta(days=1)


def by_month(days: Sequence[dt.date]) -> list[tuple[dt.date, ...]]:
    return [tuple(group) for _, group in groupby(sorted(days), key=lambda d: (d.year, d.month))]


@dataclass(frozen=True)
class DayCounts:
    """Rows per day of a window, as a storage counts them without reading the rows."""

    counts: dict[str, int]
