"""Pure pandas/pyarrow functions of the pipeline; no Dagster here, so they are tested directly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from taxi_assets.schema import PICKUP_DATE, REJECT_REASON, TripSchema, pandas_types_mapper

# Checked in this order; a row is rejected for the first reason that applies.
PICKUP_OUTSIDE_MONTH = "pickup_outside_month"
PASSENGER_COUNT_MISSING = "passenger_count_missing"
PASSENGER_COUNT_NOT_POSITIVE = "passenger_count_not_positive"
TRIP_DISTANCE_NOT_POSITIVE = "trip_distance_not_positive"
REJECT_REASONS = (
    PICKUP_OUTSIDE_MONTH,
    PASSENGER_COUNT_MISSING,
    PASSENGER_COUNT_NOT_POSITIVE,
    TRIP_DISTANCE_NOT_POSITIVE,
)


@dataclass(frozen=True)
class CleanedMonth:
    """The rows kept, the rows dropped (with why), and how many were dropped for each reason."""

    cleaned: pd.DataFrame
    rejected: pd.DataFrame
    reject_counts: dict[str, int]


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas keeping nullable integers and dates typed."""
    return table.to_pandas(types_mapper=pandas_types_mapper)


def pickup_dates(pickups: pd.Series) -> pd.Series:
    """The calendar date of each pickup, as an Arrow ``date32`` column."""
    days = pa.array(pickups.to_numpy(dtype="datetime64[D]"), type=pa.date32())
    return pd.Series(pd.arrays.ArrowExtensionArray(days), index=pickups.index, name=PICKUP_DATE)


def clean_trips(raw: pd.DataFrame, schema: TripSchema, start: dt.datetime, end: dt.datetime) -> CleanedMonth:
    """The course's cleaning, made explicit: keep trips with passengers and distance whose pickup
    falls in ``[start, end)``, rename to snake_case and add ``pickup_date``.
    """
    pickup = raw[schema.pickup_column]
    passengers = raw["passenger_count"]
    distance = raw["trip_distance"]
    reasons = np.select(
        [
            ~((pickup >= pd.Timestamp(start)) & (pickup < pd.Timestamp(end))).to_numpy(),
            passengers.isna().to_numpy(),
            (passengers <= 0).fillna(False).to_numpy(dtype=bool),
            ~(distance > 0).to_numpy(),
        ],
        REJECT_REASONS,
        default="",
    )
    keep = reasons == ""

    frame = raw.rename(columns=schema.renames)
    frame[PICKUP_DATE] = pickup_dates(pickup)
    cleaned = frame.loc[keep].reset_index(drop=True)
    rejected = frame.loc[~keep].reset_index(drop=True)
    rejected[REJECT_REASON] = pd.array(reasons[~keep], dtype=pd.StringDtype())
    counts = rejected[REJECT_REASON].value_counts()
    return CleanedMonth(
        cleaned=cleaned,
        rejected=rejected,
        reject_counts={reason: int(counts.get(reason, 0)) for reason in REJECT_REASONS},
    )


def rows_in_window(frame: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The rows whose ``pickup_date`` falls in ``[start, end)``."""
    dates = frame[PICKUP_DATE]
    return frame.loc[((dates >= start) & (dates < end)).to_numpy(dtype=bool)].reset_index(drop=True)
