"""Cleaning: which rows stay, which go and why, and the columns the cleaned month has."""

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from taxi_assets.schema import YELLOW
from taxi_assets.transform import (
    PASSENGER_COUNT_MISSING,
    PASSENGER_COUNT_NOT_POSITIVE,
    PICKUP_OUTSIDE_MONTH,
    TRIP_DISTANCE_NOT_POSITIVE,
    rows_in_window,
)
from taxi_dev.month_tables import clean_trips

JAN, FEB = dt.datetime(2021, 1, 1), dt.datetime(2021, 2, 1)


def as_raw(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, schema=YELLOW.raw_arrow_schema, preserve_index=False)


def one_trip(**overrides: object) -> pd.DataFrame:
    row = {c.name: 1 for c in YELLOW.columns}
    row.update(
        tpep_pickup_datetime=pd.Timestamp("2021-01-15 10:00"),
        tpep_dropoff_datetime=pd.Timestamp("2021-01-15 10:20"),
        trip_distance=2.5,
        store_and_fwd_flag="N",
    )
    row.update(overrides)
    frame = pd.DataFrame([row])
    for name in YELLOW.integer_names:
        frame[name] = frame[name].astype("Int64")
    return frame


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({}, None),
        ({"passenger_count": 0}, PASSENGER_COUNT_NOT_POSITIVE),
        ({"passenger_count": -1}, PASSENGER_COUNT_NOT_POSITIVE),
        ({"passenger_count": pd.NA}, PASSENGER_COUNT_MISSING),
        ({"trip_distance": 0.0}, TRIP_DISTANCE_NOT_POSITIVE),
        ({"trip_distance": float("nan")}, TRIP_DISTANCE_NOT_POSITIVE),
        ({"tpep_pickup_datetime": pd.Timestamp("2020-12-31 23:59:59")}, PICKUP_OUTSIDE_MONTH),
        ({"tpep_pickup_datetime": pd.Timestamp("2021-02-01 00:00:00")}, PICKUP_OUTSIDE_MONTH),
        ({"tpep_pickup_datetime": pd.Timestamp("2009-01-01 00:13:40")}, PICKUP_OUTSIDE_MONTH),
        ({"tpep_pickup_datetime": pd.Timestamp("2021-01-01 00:00:00")}, None),
        ({"passenger_count": 0, "trip_distance": 0.0}, PASSENGER_COUNT_NOT_POSITIVE),
    ],
)
def test_each_row_is_kept_or_rejected_for_its_first_reason(overrides: dict, reason: str | None) -> None:
    result = clean_trips(as_raw(one_trip(**overrides)), YELLOW, JAN, FEB)
    if reason is None:
        assert (len(result.cleaned), len(result.rejected)) == (1, 0)
    else:
        assert (len(result.cleaned), len(result.rejected)) == (0, 1)
        assert result.rejected["reject_reason"].to_pylist() == [reason]
        assert result.reject_counts[reason] == 1


def test_cleaned_columns_are_snake_case_with_pickup_date() -> None:
    cleaned = clean_trips(as_raw(one_trip()), YELLOW, JAN, FEB).cleaned
    assert cleaned.schema.equals(YELLOW.cleaned_arrow_schema)
    assert cleaned["pickup_date"].to_pylist() == [dt.date(2021, 1, 15)]


def test_rows_in_window_keeps_only_those_days() -> None:
    frame = pd.concat(
        [one_trip(tpep_pickup_datetime=pd.Timestamp(f"2021-01-{d:02d} 12:00")) for d in (1, 2, 3, 31)]
    )
    cleaned = clean_trips(as_raw(frame), YELLOW, JAN, FEB).cleaned
    window = rows_in_window(cleaned, dt.date(2021, 1, 2), dt.date(2021, 1, 4))
    assert window["pickup_date"].to_pylist() == [dt.date(2021, 1, 2), dt.date(2021, 1, 3)]


def test_kept_rows_come_in_pickup_order_and_rejected_ones_as_published() -> None:
    published = [
        ("2021-01-20 08:00", 1),
        ("2021-01-03 09:00", 0),
        ("2021-01-03 07:00", 2),
        ("2020-12-31 23:00", 1),
        ("2021-01-03 07:00", 3),
        ("2021-01-11 12:00", 0),
    ]
    frame = pd.concat(
        [one_trip(tpep_pickup_datetime=pd.Timestamp(t), passenger_count=n) for t, n in published]
    )
    result = clean_trips(as_raw(frame), YELLOW, JAN, FEB)
    kept = result.cleaned.select(["tpep_pickup_datetime", "passenger_count"]).to_pylist()
    assert [(row["tpep_pickup_datetime"], row["passenger_count"]) for row in kept] == [
        (dt.datetime(2021, 1, 3, 7), 2),  # ties keep their published order
        (dt.datetime(2021, 1, 3, 7), 3),
        (dt.datetime(2021, 1, 20, 8), 1),
    ]
    assert result.rejected["tpep_pickup_datetime"].to_pylist() == [
        dt.datetime(2021, 1, 3, 9),
        dt.datetime(2020, 12, 31, 23),
        dt.datetime(2021, 1, 11, 12),
    ]
