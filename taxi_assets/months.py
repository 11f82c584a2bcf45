"""A run's months, each with its rows: what the assets hand each other and their IO managers.

A backfill takes several months to a run (``partitions.MONTHS_PER_RUN``), so that a history pays a
run worker's start and the code location's load once per few months; a run from the UI, a schedule
or the new-month sensor holds one. Each month is still its own download, file, table partition and
materialisation, with metadata of its own. A range of days runs as the months it touches, each with
the range's days of it (:meth:`Months.within`), so a range of any length holds one month's batch in
memory at a time, and each writer replaces that month's days at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import dagster as dg

from taxi_assets.batches import Batches
from taxi_assets.keys import shown
from taxi_assets.partition_metadata import PartitionMetadata
from taxi_assets.partitions import days_of, span
from taxi_assets.transform import rows_in_window


@dataclass(frozen=True)
class MonthRows:
    """One month of a run, its rows, and the days of it they hold: every day, or a window's."""

    month: str
    rows: Batches
    days: tuple[dt.date, ...]

    @classmethod
    def whole(cls, month: str, rows: Batches) -> MonthRows:
        """Every day of ``month``."""
        return cls(month, rows, tuple(days_of(month)))


@dataclass(frozen=True)
class Months:
    """Each month of a run and its rows, in order; a month's rows are made when its turn comes (a
    download opened, a file read) and let go before the next month's.
    """

    each: Callable[[], Iterable[MonthRows]]
    # Where the IO manager adds each month's own metadata (partition_metadata.py says why).
    partition_metadata: PartitionMetadata | None = None

    def __iter__(self) -> Iterator[MonthRows]:
        return iter(self.each())

    def map(self, change: Callable[[MonthRows], Batches]) -> Months:
        """Each month's rows through ``change``, which is given the month and its rows."""
        return dataclasses.replace(
            self, each=lambda: (dataclasses.replace(m, rows=change(m)) for m in self.each())
        )

    def within(self, days: Iterable[dt.date]) -> Months:
        """Only ``days`` of each month, rows and all: a window of days, month by month."""
        keep = set(days)

        def restricted(month: MonthRows) -> MonthRows:
            own = tuple(d for d in month.days if d in keep)
            first, end = span(own)
            rows = month.rows.map(lambda batch: rows_in_window(batch, first, end))
            return MonthRows(month.month, rows, own)

        return dataclasses.replace(
            self, each=lambda: (restricted(m) for m in self.each() if keep.intersection(m.days))
        )

    def with_partition_metadata(self, context: dg.AssetExecutionContext, key: dg.AssetKey) -> Months:
        """The same months, whose IO manager adds each month's metadata to ``key``'s materialisation
        of it, through the asset's ``context``.
        """
        return dataclasses.replace(self, partition_metadata=PartitionMetadata(context, key))

    def partition_metadata_for(self, context: dg.OutputContext) -> PartitionMetadata:
        """Where the IO manager storing these months adds each one's metadata."""
        if self.partition_metadata is None:
            raise TypeError(
                f"{shown(context.asset_key)}: its months reach the IO manager without "
                "Months.with_partition_metadata"
            )
        return self.partition_metadata
