"""A window's rows one month at a time, so a range of days never holds more than a month in memory.

The daily lake and the warehouse pass these between steps instead of one table: a month is read
only when the next chunk is asked for, and each writer writes it and lets it go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from taxi_assets.partitions import span
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

    def within(self, days: Iterable[dt.date]) -> MonthChunks:
        """Only ``days`` of each chunk, rows and all."""
        keep = set(days)

        def restricted(chunk: MonthChunk) -> MonthChunk:
            own = tuple(d for d in chunk.days if d in keep)
            first, end = span(own)
            return MonthChunk(own, lambda: rows_in_window(chunk.load(), first, end))

        return MonthChunks(tuple(restricted(c) for c in self.chunks if keep.intersection(c.days)))
