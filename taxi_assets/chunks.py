"""A window's rows one month at a time, so a range of days never holds more than a batch in memory.

The daily lake and the warehouse pass these between steps instead of one table: each month's rows
are read a batch at a time when its writer asks for them, and each writer replaces that month's
days at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from taxi_assets.batches import Batches
from taxi_assets.partitions import span
from taxi_assets.transform import rows_in_window


@dataclass(frozen=True)
class MonthChunk:
    """Some days of one month, and their rows, read when asked for."""

    days: tuple[dt.date, ...]
    rows: Batches


@dataclass(frozen=True)
class MonthChunks:
    """The rows of a window of days, month by month."""

    chunks: tuple[MonthChunk, ...]

    def __iter__(self) -> Iterator[MonthChunk]:
        return iter(self.chunks)

    @property
    def days(self) -> list[dt.date]:
        return [day for chunk in self.chunks for day in chunk.days]

    def within(self, days: Iterable[dt.date]) -> MonthChunks:
        """Only ``days`` of each chunk, rows and all."""
        keep = set(days)

        def restricted(chunk: MonthChunk) -> MonthChunk:
            own = tuple(d for d in chunk.days if d in keep)
            first, end = span(own)
            return MonthChunk(own, chunk.rows.map(lambda batch: rows_in_window(batch, first, end)))

        return MonthChunks(tuple(restricted(c) for c in self.chunks if keep.intersection(c.days)))
