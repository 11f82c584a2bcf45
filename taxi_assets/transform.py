"""Pure pyarrow functions of the pipeline; no Dagster here, so they are tested directly.

Cleaning works on Arrow batches with Arrow compute: a month never goes through pandas on its
way from the CSV to the lake and PostgreSQL, which saves a copy of it each way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taxi_assets import batches as batching
from taxi_assets.batches import Batches, rebatched
from taxi_assets.schema import (
    PASSENGER_COUNT,
    PICKUP_DATE,
    REJECT_REASON,
    TRIP_DISTANCE,
    TRIP_MILES,
    TRIP_TIME,
    TripSchema,
    pandas_types_mapper,
)

PICKUP_OUTSIDE_MONTH = "pickup_outside_month"
PASSENGER_COUNT_MISSING = "passenger_count_missing"
PASSENGER_COUNT_NOT_POSITIVE = "passenger_count_not_positive"
TRIP_DISTANCE_NOT_POSITIVE = "trip_distance_not_positive"
DROPOFF_BEFORE_PICKUP = "dropoff_before_pickup"
TRIP_MILES_NEGATIVE = "trip_miles_negative"
TRIP_TIME_NEGATIVE = "trip_time_negative"


@dataclass(frozen=True)
class RawBatch:
    """A batch of a raw month being cleaned, and the month's bounds: what every reject rule looks at."""

    raw: pa.Table
    schema: TripSchema
    start: dt.datetime
    end: dt.datetime


def _true_where_null(mask: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.fill_null(mask, True)


def picked_up_inside(pickup: pa.ChunkedArray, start: dt.datetime, end: dt.datetime) -> pa.ChunkedArray:
    """Whether each pickup falls in ``[start, end)``; false where the pickup is missing."""
    bound = pickup.type
    inside = pc.and_(
        pc.greater_equal(pickup, pa.scalar(start, bound)), pc.less(pickup, pa.scalar(end, bound))
    )
    return pc.fill_null(inside, False)


def _pickup_outside(batch: RawBatch) -> pa.ChunkedArray:
    # A missing pickup is outside every month, as pandas' comparisons with NaT said before.
    return pc.invert(picked_up_inside(batch.raw.column(batch.schema.pickup_column), batch.start, batch.end))


def _passengers_missing(batch: RawBatch) -> pa.ChunkedArray:
    return pc.is_null(batch.raw.column(PASSENGER_COUNT))


def _passengers_not_positive(batch: RawBatch) -> pa.ChunkedArray:
    return pc.fill_null(pc.less_equal(batch.raw.column(PASSENGER_COUNT), 0), False)


def _distance_not_positive(batch: RawBatch) -> pa.ChunkedArray:
    # A missing or NaN distance is not positive.
    return _true_where_null(pc.invert(pc.greater(batch.raw.column(TRIP_DISTANCE), 0.0)))


def _dropoff_before_pickup(batch: RawBatch) -> pa.ChunkedArray:
    # Where either time is missing, nothing says the trip is impossible: kept.
    schema = batch.schema
    before = pc.less(batch.raw.column(schema.dropoff_column), batch.raw.column(schema.pickup_column))
    return pc.fill_null(before, False)


def _negative(column: str) -> Rule:
    def rule(batch: RawBatch) -> pa.ChunkedArray:
        return pc.fill_null(pc.less(batch.raw.column(column), 0), False)

    return rule


Rule = Callable[[RawBatch], pa.ChunkedArray]
_METERED: tuple[tuple[str, Rule], ...] = (
    (PICKUP_OUTSIDE_MONTH, _pickup_outside),
    (PASSENGER_COUNT_MISSING, _passengers_missing),
    (PASSENGER_COUNT_NOT_POSITIVE, _passengers_not_positive),
    (TRIP_DISTANCE_NOT_POSITIVE, _distance_not_positive),
)
# Per service, checked in this order; a row is rejected for the first reason that applies. FHV
# records carry no passenger count and no distance: only the pickup month can be checked.
# High-volume FHV: the course's pickup month, and what its data dictionary makes impossible:
# trip_miles and trip_time are a trip's "total miles" and "total time in seconds", never below
# zero, and a drop-off is the end of the trip that began at its pickup. Zero miles or seconds are
# kept (the dictionary does not rule them out), as are negative fares and pay (adjustments appear
# in the published files; the dictionary gives no sign convention).
REJECT_RULES: dict[str, tuple[tuple[str, Rule], ...]] = {
    "yellow": _METERED,
    "green": _METERED,
    "fhv": ((PICKUP_OUTSIDE_MONTH, _pickup_outside),),
    "fhvhv": (
        (PICKUP_OUTSIDE_MONTH, _pickup_outside),
        (DROPOFF_BEFORE_PICKUP, _dropoff_before_pickup),
        (TRIP_MILES_NEGATIVE, _negative(TRIP_MILES)),
        (TRIP_TIME_NEGATIVE, _negative(TRIP_TIME)),
    ),
}


def reject_reasons(service: str) -> tuple[str, ...]:
    """The reasons cleaning may give for ``service``, in the order they are checked."""
    return tuple(reason for reason, _ in REJECT_RULES[service])


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas keeping nullable integers and dates typed."""
    return table.to_pandas(types_mapper=pandas_types_mapper)


def _reject_codes(raw: pa.Table, schema: TripSchema, start: dt.datetime, end: dt.datetime) -> pa.Array:
    """Per row, 0 to keep it, n > 0 to reject it for the n-th reason: the first failing rule."""
    batch = RawBatch(raw, schema, start, end)
    failing = [rule(batch) for _, rule in REJECT_RULES[schema.service]]
    code = pa.scalar(0, pa.int8())
    for n in range(len(failing), 0, -1):
        code = pc.if_else(failing[n - 1], pa.scalar(n, pa.int8()), code)
    return code


def _renamed(raw: pa.Table, schema: TripSchema) -> pa.Table:
    """snake_case names and ``pickup_date``: the cleaned layout, row for row."""
    frame = raw.rename_columns([schema.renames[name] for name in raw.column_names])
    return frame.append_column(PICKUP_DATE, pc.cast(raw.column(schema.pickup_column), pa.date32()))


def _kept(raw: pa.Table, schema: TripSchema, code: pa.Array) -> pa.Table:
    # In pickup order (a stable sort: ties stay in published order), taken in the one gather a
    # filter would cost: each day is then a run of rows that the day files slice without copying.
    keep = pc.equal(code, 0)
    by_pickup = pc.sort_indices(raw.column(schema.pickup_column))
    return _renamed(raw, schema).take(pc.filter(by_pickup, pc.take(keep, by_pickup)))


def _rejected(raw: pa.Table, schema: TripSchema, code: pa.Array) -> tuple[pa.Table, pa.Array]:
    dropped = pc.not_equal(code, 0)
    codes = pc.filter(code, dropped)
    named = pc.take(pa.array(("", *reject_reasons(schema.service)), pa.string()), codes)
    return _renamed(raw.filter(dropped), schema).append_column(REJECT_REASON, named), codes


def _counted(codes: pa.Array, reasons: tuple[str, ...]) -> dict[str, int]:
    counts = {row["values"]: row["counts"] for row in pc.value_counts(codes).to_pylist()}
    return {reason: int(counts.get(n, 0)) for n, reason in enumerate(reasons, 1)}


def _table(rows: pa.Table | pa.RecordBatch) -> pa.Table:
    return pa.Table.from_batches([rows]) if isinstance(rows, pa.RecordBatch) else rows


class CleanedBatches:
    """The course's cleaning, made explicit, a batch at a time: keep the trips that pass every rule
    of the service (yellow and green: passengers and distance, FHV: none, high-volume FHV: drop-off
    after pickup, miles and seconds not negative) whose pickup falls in ``[start, end)``, rename to
    snake_case and add ``pickup_date``; kept rows come in pickup order within a batch, rejected ones
    in published order. Each row's fate depends on that row alone. The kept rows and the dropped
    ones are each a pass over ``raw`` (read twice from the lake rather than held), so no more than
    a batch is in memory. ``raw_rows`` and ``reject_counts`` fill as the rows are read.
    """

    def __init__(self, raw: Batches, schema: TripSchema, start: dt.datetime, end: dt.datetime) -> None:
        self._raw, self._schema, self._window = raw, schema, (start, end)
        self._reasons = reject_reasons(schema.service)
        self.raw_rows = 0
        self.reject_counts = dict.fromkeys(self._reasons, 0)
        self.cleaned = Batches(schema.cleaned_arrow_schema, self._kept)
        # Rejected rows are a few per cent of each batch: joined in quarter batches, which make row
        # groups worth compressing without holding many batches' worth.
        self.rejected = Batches(
            schema.rejected_arrow_schema, lambda: rebatched(self._dropped(), batching.BATCH_ROWS // 4)
        )

    def _coded(self) -> Iterator[tuple[pa.Table, pa.Array]]:
        """A pass over ``raw``: each batch, and each of its rows' reject code."""
        for batch in self._raw:
            table = _table(batch)
            yield table, _reject_codes(table, self._schema, *self._window)

    def _kept(self) -> Iterator[pa.RecordBatch]:
        self.raw_rows = 0
        for table, code in self._coded():
            self.raw_rows += table.num_rows
            yield from _kept(table, self._schema, code).to_batches()

    def _dropped(self) -> Iterator[pa.RecordBatch]:
        self.reject_counts.update(dict.fromkeys(self._reasons, 0))
        for table, code in self._coded():
            rows, codes = _rejected(table, self._schema, code)
            for reason, n in _counted(codes, self._reasons).items():
                self.reject_counts[reason] += n
            yield from rows.to_batches()


def rows_in_window(
    table: pa.Table | pa.RecordBatch, start: dt.date, end: dt.date
) -> pa.Table | pa.RecordBatch:
    """The rows whose ``pickup_date`` falls in ``[start, end)``."""
    dates = table.column(PICKUP_DATE)
    inside = pc.and_(
        pc.greater_equal(dates, pa.scalar(start, pa.date32())), pc.less(dates, pa.scalar(end, pa.date32()))
    )
    return table.filter(inside)


# A month whose file holds fewer of its own pickups than this is taken for another month's file.
# The published files stray by a fraction of a percent (late records, wrong meter clocks).
MIN_SHARE_PICKED_UP_INSIDE = 0.5


class PickupTally:
    """How many rows a month's file holds, and how many of them were picked up in the month."""

    def __init__(self, pickup_column: str, start: dt.datetime, end: dt.datetime) -> None:
        self.pickup_column, self.start, self.end = pickup_column, start, end
        self.rows = 0
        self.inside = 0

    def see(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        self.rows += batch.num_rows
        self.inside += (
            pc.sum(picked_up_inside(batch.column(self.pickup_column), self.start, self.end)).as_py() or 0
        )
        return batch

    def implausible(self) -> str | None:
        """Why the rows seen cannot be the month ``[start, end)`` as published, or ``None`` if they
        can: no trips at all, or most of their pickups in other months.
        """
        if self.rows == 0:
            return "the file holds no trips (a header and nothing else)"
        if self.inside < MIN_SHARE_PICKED_UP_INSIDE * self.rows:
            return (
                f"only {self.inside:,} of its {self.rows:,} trips ({self.inside / self.rows:.1%}) were "
                f"picked up in {self.start:%Y-%m}: it looks like another month's file"
            )
        return None
