"""Pure pyarrow functions of the pipeline; no Dagster here, so they are tested directly.

Cleaning works on Arrow tables with Arrow compute: a month never goes through pandas on its
way from the CSV to the lake and PostgreSQL, which saves a copy of it each way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from taxi_assets.schema import (
    PASSENGER_COUNT,
    PICKUP_DATE,
    REJECT_REASON,
    TRIP_DISTANCE,
    TripSchema,
    pandas_types_mapper,
)

PICKUP_OUTSIDE_MONTH = "pickup_outside_month"
PASSENGER_COUNT_MISSING = "passenger_count_missing"
PASSENGER_COUNT_NOT_POSITIVE = "passenger_count_not_positive"
TRIP_DISTANCE_NOT_POSITIVE = "trip_distance_not_positive"


@dataclass(frozen=True)
class Month:
    """The raw month being cleaned and its bounds: what every reject rule looks at."""

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


def _pickup_outside(month: Month) -> pa.ChunkedArray:
    # A missing pickup is outside every month, as pandas' comparisons with NaT said before.
    return pc.invert(picked_up_inside(month.raw.column(month.schema.pickup_column), month.start, month.end))


def _passengers_missing(month: Month) -> pa.ChunkedArray:
    return pc.is_null(month.raw.column(PASSENGER_COUNT))


def _passengers_not_positive(month: Month) -> pa.ChunkedArray:
    return pc.fill_null(pc.less_equal(month.raw.column(PASSENGER_COUNT), 0), False)


def _distance_not_positive(month: Month) -> pa.ChunkedArray:
    # A missing or NaN distance is not positive.
    return _true_where_null(pc.invert(pc.greater(month.raw.column(TRIP_DISTANCE), 0.0)))


Rule = Callable[[Month], pa.ChunkedArray]
_METERED: tuple[tuple[str, Rule], ...] = (
    (PICKUP_OUTSIDE_MONTH, _pickup_outside),
    (PASSENGER_COUNT_MISSING, _passengers_missing),
    (PASSENGER_COUNT_NOT_POSITIVE, _passengers_not_positive),
    (TRIP_DISTANCE_NOT_POSITIVE, _distance_not_positive),
)
# Per service, checked in this order; a row is rejected for the first reason that applies. FHV
# records carry no passenger count and no distance: only the pickup month can be checked.
REJECT_RULES: dict[str, tuple[tuple[str, Rule], ...]] = {
    "yellow": _METERED,
    "green": _METERED,
    "fhv": ((PICKUP_OUTSIDE_MONTH, _pickup_outside),),
}


def reject_reasons(service: str) -> tuple[str, ...]:
    """The reasons cleaning may give for ``service``, in the order they are checked."""
    return tuple(reason for reason, _ in REJECT_RULES[service])


@dataclass(frozen=True)
class CleanedMonth:
    """The rows kept, the rows dropped (with why), and how many were dropped for each reason."""

    cleaned: pa.Table
    rejected: pa.Table
    reject_counts: dict[str, int]


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas keeping nullable integers and dates typed."""
    return table.to_pandas(types_mapper=pandas_types_mapper)


def clean_trips(raw: pa.Table, schema: TripSchema, start: dt.datetime, end: dt.datetime) -> CleanedMonth:
    """The course's cleaning, made explicit: keep the trips that pass every rule of the service
    (yellow and green: passengers and distance, FHV: none) whose pickup falls in ``[start, end)``,
    rename to snake_case and add ``pickup_date``; kept rows come in pickup order, rejected ones in
    published order.
    """
    rules = REJECT_RULES[schema.service]
    reasons = reject_reasons(schema.service)
    month = Month(raw, schema, start, end)
    failing = [rule(month) for _, rule in rules]
    # 0 keeps the row; n > 0 rejects it for reasons[n - 1], the first failing rule.
    code = pa.scalar(0, pa.int8())
    for n in range(len(failing), 0, -1):
        code = pc.if_else(failing[n - 1], pa.scalar(n, pa.int8()), code)
    keep = pc.equal(code, 0)

    pickup = raw.column(schema.pickup_column)
    frame = raw.rename_columns([schema.renames[name] for name in raw.column_names])
    frame = frame.append_column(PICKUP_DATE, pc.cast(pickup, pa.date32()))
    # Kept rows in pickup order (a stable sort: ties stay in published order), taken in the one
    # gather a filter would cost: each day is then a run of rows that the day files and the
    # warehouse slice without copying, and DuckDB inserts it faster.
    by_pickup = pc.sort_indices(pickup)
    cleaned = frame.take(pc.filter(by_pickup, pc.take(keep, by_pickup)))
    rejected_codes = pc.filter(code, pc.invert(keep))
    named = pc.take(pa.array(("", *reasons), pa.string()), rejected_codes)
    rejected = frame.filter(pc.invert(keep)).append_column(REJECT_REASON, named)
    counts = {row["values"]: row["counts"] for row in pc.value_counts(rejected_codes).to_pylist()}
    return CleanedMonth(
        cleaned=cleaned,
        rejected=rejected,
        reject_counts={reason: int(counts.get(n, 0)) for n, reason in enumerate(reasons, 1)},
    )


def rows_in_window(table: pa.Table, start: dt.date, end: dt.date) -> pa.Table:
    """The rows whose ``pickup_date`` falls in ``[start, end)``."""
    dates = table.column(PICKUP_DATE)
    inside = pc.and_(
        pc.greater_equal(dates, pa.scalar(start, pa.date32())), pc.less(dates, pa.scalar(end, pa.date32()))
    )
    return table.filter(inside)


# A month whose file holds fewer of its own pickups than this is taken for another month's file.
# The published files stray by a fraction of a percent (late records, wrong meter clocks).
MIN_SHARE_PICKED_UP_INSIDE = 0.5


def implausible_month(raw: pa.Table, pickup_column: str, start: dt.datetime, end: dt.datetime) -> str | None:
    """Why ``raw`` cannot be the month ``[start, end)`` as published, or ``None`` if it can:
    no trips at all, or most of its pickups in other months.
    """
    if raw.num_rows == 0:
        return "the file holds no trips (a header and nothing else)"
    count = pc.sum(picked_up_inside(raw.column(pickup_column), start, end)).as_py() or 0
    if count < MIN_SHARE_PICKED_UP_INSIDE * raw.num_rows:
        return (
            f"only {count:,} of its {raw.num_rows:,} trips ({count / raw.num_rows:.1%}) were picked up "
            f"in {start:%Y-%m}: it looks like another month's file"
        )
    return None
