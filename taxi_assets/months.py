"""A run's months, each with its rows: what the monthly assets hand their IO managers.

A backfill takes several months to a run (``partitions.MONTHS_PER_RUN``), so that a history pays a
run worker's start and the code location's load once per few months; a run from the UI, a schedule
or the new-month sensor holds one. Each month is still its own download, file, table partition and
materialisation, with metadata of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import dagster as dg

from taxi_assets.batches import Batches
from taxi_assets.keys import shown

# Metadata that belongs to one month's materialisation.
Tell = Callable[[str, Mapping[str, object]], None]


@dataclass(frozen=True)
class Months:
    """Each month of a run and its rows, in order; a month's rows are made when its turn comes (a
    download opened, a file read) and let go before the next month's.
    """

    each: Callable[[], Iterable[tuple[str, Batches]]]
    # Where a writer says what it stored of each month (its rows, its file): Dagster gives every
    # partition of a range run's output the same metadata, and only the asset's context can add
    # metadata to one partition's materialisation.
    tell: Tell | None = None

    def __iter__(self) -> Iterator[tuple[str, Batches]]:
        return iter(self.each())

    def told_by(self, context: dg.AssetExecutionContext, key: dg.AssetKey) -> Months:
        """The same months, whose writer tells each month's metadata to ``key``'s materialisation."""
        return dataclasses.replace(
            self, tell=lambda month, metadata: context.add_asset_metadata(metadata, key, month)
        )

    def map(self, change: Callable[[str, Batches], Batches]) -> Months:
        """Each month's rows through ``change``, which is given the month too."""
        return dataclasses.replace(self, each=lambda: ((m, change(m, rows)) for m, rows in self.each()))


def teller(context: dg.OutputContext, months: Months) -> Tell:
    """Where an IO manager tells each month's metadata: the asset's context, which alone can add
    metadata to one partition's materialisation.
    """
    if months.tell is None:
        raise TypeError(f"{shown(context.asset_key)}: its months reach the IO manager without Months.told_by")
    return months.tell
