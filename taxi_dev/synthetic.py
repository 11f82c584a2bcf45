"""Synthetic TLC trip files: each published layout exactly, the real files' quirks, deterministic by seed.

The demo and every test run on these files, so no real data is ever committed or downloaded.
A month is generated in the service's canonical layout and written in the layout its publisher
used for that month (``schema.py``'s eras: names and their case, int32/int64/double, ``null``-typed
empty columns, nanosecond or microsecond timestamps) as the publisher's format: parquet for the
TLC, CSV.gz for the mirror (integers written ``1.0`` where the mirror does). A big month is made
and written a part of about a million rows at a time (``PART_ROWS``), so memory stays that of
one part whatever the month's size (a 24M-row high-volume FHV month included).

Quirks reproduced from the published files:
- a tail of ~7% rows whose VendorID, passenger_count, RatecodeID, store_and_fwd_flag and
  payment_type are all empty (the TLC's "unknown vendor" records);
- passenger_count 0 and trip_distance 0;
- pickups outside the file's month, some of them years earlier;
- negative amounts (refunds and disputes), RatecodeID 99, absurd trip distances;
- FHV: trips without pickup or drop-off zone, shared rides flagged 1 and the rest empty;
- high-volume FHV: Uber and Lyft trips (their license and base numbers), requests before the
  pickup, on-scene times for accessible vehicles only, no originating base for Lyft, negative
  fares and pay (adjustments), and, to meet the cleaning rules its data dictionary supports, a
  drop-off before its pickup, negative miles and negative seconds.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from taxi_assets.constants import SERVICES, SOURCE_FILE_STEM
from taxi_assets.publishers import MIRROR, PUBLISHERS, TLC
from taxi_assets.schema import SCHEMAS, Layout, TripSchema
from taxi_dev.synthetic_zones import trip_positions


@dataclass(frozen=True)
class Quirks:
    """Share of rows carrying each quirk of the real files."""

    unknown_vendor_tail: float = 0.07
    zero_passengers: float = 0.02
    zero_distance: float = 0.015
    absurd_distance: float = 0.0001
    pickup_outside_month: float = 0.001
    negative_amounts: float = 0.005
    ratecode_99: float = 0.0005


_AMOUNT_COLUMNS = ("fare_amount", "extra", "mta_tax", "improvement_surcharge", "total_amount")
# Pickups outside the file's month seen in real files: the month's neighbours and stray clocks.
_STRAY_PICKUPS = (
    np.datetime64("2008-12-31T23:05:11"),
    np.datetime64("2009-01-01T00:13:40"),
    np.datetime64("2002-12-31T23:02:25"),
)


def _seed_for(seed: int, service: str, month: str, part: int = 0) -> int:
    # The first part's seed is the whole month's of a month of one part: small months keep their rows.
    digest = hashlib.sha256(f"{seed}/{service}/{month}{f'/{part}' if part else ''}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _quirk_count(share: float, n: int) -> int:
    # Small files still get one row of each quirk, so every test meets every quirk.
    return max(1, round(share * n)) if n >= 50 else round(share * n)


# Fees that exist only from some month on: the synthetic data charges them from then, and leaves
# them empty before, as the real files do.
_AIRPORT_FEE_FROM = "2021-01"
_CBD_FEE_FROM = "2025-01"
_FHV_BASES = np.array(["B00001", "B00013", "B02510", "B02764", "B02800", "B03404"], dtype=object)


# A month is generated and written this many rows at a time (eight of the files' row groups), so a
# month of any size takes the memory of one part: a 24M-row high-volume FHV month held whole would
# take about 10 GB. A month of no more rows than this is one part, the same rows as it always was.
PART_ROWS = 8 * 131_072


@dataclass(frozen=True)
class _Part:
    """Rows of a month generated together: ``rows`` pickups in ``[first, end)`` seconds into the
    month, the last ``tail`` of them the unknown-vendor tail.
    """

    index: int
    rows: int
    tail: int
    first: int
    end: int


def _parts(service: str, rows: int, seconds_in_month: int, quirks: Quirks, part_rows: int) -> list[_Part]:
    """A month's rows as parts, in file order: the trips in pickup order, then the tail (whose pickups
    are spread over the month, in order, as the real files end), each cut into parts that cover
    consecutive stretches of the month with an equal share of its rows.
    """
    tail = round(quirks.unknown_vendor_tail * rows) if service in ("yellow", "green") else 0
    if rows <= part_rows:
        return [_Part(0, rows, tail, 0, seconds_in_month)]
    parts: list[_Part] = []
    for count, is_tail in ((rows - tail, False), (tail, True)):
        n = -(-count // part_rows)
        for i in range(n):
            size = count // n + (i < count % n)
            first, end = i * seconds_in_month // n, (i + 1) * seconds_in_month // n
            parts.append(_Part(len(parts), size, size if is_tail else 0, first, end))
    return parts


def generate_parts(
    service: str,
    month: str,
    rows: int,
    seed: int = 0,
    quirks: Quirks = Quirks(),
    part_rows: int | None = None,
) -> Iterator[pa.Table]:
    """One month of ``rows`` synthetic trips for ``service`` in its canonical layout
    (``raw_arrow_schema``), as tables of at most ``part_rows`` rows (:data:`PART_ROWS`), in the
    order the file has them.
    """
    start = np.datetime64(f"{month}-01T00:00:00")
    end = (pd.Timestamp(f"{month}-01") + pd.offsets.MonthBegin(1)).to_datetime64()
    seconds_in_month = int((end - start) / np.timedelta64(1, "s"))
    for part in _parts(service, rows, seconds_in_month, quirks, part_rows or PART_ROWS):
        rng = np.random.default_rng(_seed_for(seed, service, month, part.index))
        yield _generate_part(service, month, part, rng, quirks, start, end)


def generate_trips(service: str, month: str, rows: int, seed: int = 0, quirks: Quirks = Quirks()) -> pa.Table:
    """One month of synthetic trips for ``service`` in its canonical layout, whole in memory (for a
    big month, :func:`generate_parts`).
    """
    return pa.concat_tables(generate_parts(service, month, rows, seed, quirks))


def _generate_part(
    service: str,
    month: str,
    part: _Part,
    rng: np.random.Generator,
    quirks: Quirks,
    start: np.datetime64,
    end: np.datetime64,
) -> pa.Table:
    schema = SCHEMAS[service]
    rows, tail = part.rows, part.tail
    offsets = part.first + rng.integers(0, part.end - part.first, rows)
    offsets[: rows - tail].sort()
    offsets[rows - tail :].sort()
    pickup = start + offsets.astype("timedelta64[s]")
    duration = np.clip(rng.exponential(780, rows), 30, 4 * 3600).astype("int64")
    data: dict[str, np.ndarray] = {
        schema.pickup_column: pickup,
        schema.dropoff_column: pickup + duration.astype("timedelta64[s]"),
    }
    nulls: dict[str, np.ndarray] = {}
    if service == "fhv":
        _fhv_columns(rng, rows, data, nulls)
    elif service == "fhvhv":
        _fhvhv_columns(rng, month, rows, duration, data, nulls)
    else:
        _metered_columns(rng, service, month, rows, tail, duration, data, nulls, quirks)
    known = np.arange(rows - tail)
    strays = rng.choice(
        known, min(_quirk_count(quirks.pickup_outside_month, rows), len(known)), replace=False
    )
    stray_pickups = np.array(
        [*_STRAY_PICKUPS, start - np.timedelta64(1800, "s"), end + np.timedelta64(600, "s")]
    )
    data[schema.pickup_column][strays] = stray_pickups[np.arange(len(strays)) % len(stray_pickups)]
    data[schema.dropoff_column][strays] = data[schema.pickup_column][strays] + np.timedelta64(900, "s")

    arrays = []
    for column in schema.columns:
        values = data.pop(column.name)  # each column's numbers freed once Arrow holds them
        write_type = pa.timestamp("s") if pa.types.is_timestamp(column.type) else column.type
        mask = nulls.get(column.name, np.zeros(rows, dtype=bool))
        arrays.append(pc.cast(pa.array(values, type=write_type, mask=mask), column.type))
    return pa.Table.from_arrays(arrays, schema=schema.raw_arrow_schema)


def _metered_columns(
    rng: np.random.Generator,
    service: str,
    month: str,
    rows: int,
    tail: int,
    duration: np.ndarray,
    data: dict[str, np.ndarray],
    nulls: dict[str, np.ndarray],
    quirks: Quirks,
) -> None:
    """Yellow and green: the meter's columns, with the unknown-vendor tail and the quirks."""
    distance = np.round(rng.gamma(1.6, 1.9, rows) + 0.01, 2)
    fare = np.round(2.5 + distance * 2.5 + duration / 60 * 0.5, 2)
    extra = rng.choice([0.0, 0.5, 1.0, 2.5, 3.0], rows)
    mta_tax = np.full(rows, 0.5)
    tip = np.round(np.where(rng.random(rows) < 0.6, fare * rng.uniform(0.1, 0.3, rows), 0.0), 2)
    tolls = np.where(rng.random(rows) < 0.05, 6.12, 0.0)
    improvement = np.full(rows, 0.3)
    congestion = rng.choice([0.0, 2.5] if service == "yellow" else [0.0, 2.75], rows, p=[0.2, 0.8])
    airport = rng.choice([0.0, 1.75], rows, p=[0.9, 0.1])
    cbd = rng.choice([0.0, 0.75], rows, p=[0.4, 0.6])
    total = fare + extra + mta_tax + tip + tolls + improvement + congestion
    if service == "yellow" and month >= _AIRPORT_FEE_FROM:
        total = total + airport
    if month >= _CBD_FEE_FROM:
        total = total + cbd
    data |= {
        "VendorID": rng.choice([1, 2], rows, p=[0.3, 0.7]),
        "passenger_count": rng.choice([1, 2, 3, 4, 5, 6], rows, p=[0.7, 0.15, 0.05, 0.03, 0.04, 0.03]),
        "trip_distance": distance,
        "RatecodeID": rng.choice([1, 2, 3, 4, 5], rows, p=[0.95, 0.03, 0.005, 0.005, 0.01]),
        "store_and_fwd_flag": rng.choice(np.array(["N", "Y"], dtype=object), rows, p=[0.99, 0.01]),
        "PULocationID": rng.integers(1, 266, rows),
        "DOLocationID": rng.integers(1, 266, rows),
        "payment_type": rng.choice([1, 2, 3, 4], rows, p=[0.7, 0.27, 0.02, 0.01]),
        "fare_amount": fare,
        "extra": extra,
        "mta_tax": mta_tax,
        "tip_amount": tip,
        "tolls_amount": tolls,
        "ehail_fee": np.full(rows, np.nan),
        "improvement_surcharge": improvement,
        "total_amount": np.round(total, 2),
        "trip_type": rng.choice([1, 2], rows, p=[0.95, 0.05]),
        "congestion_surcharge": congestion,
        "airport_fee": airport,
        "cbd_congestion_fee": cbd,
    }
    nulls |= {name: np.zeros(rows, dtype=bool) for name in data}
    nulls["ehail_fee"][:] = True
    nulls["airport_fee"][:] = month < _AIRPORT_FEE_FROM
    nulls["cbd_congestion_fee"][:] = month < _CBD_FEE_FROM
    if tail:
        for name in (
            "VendorID",
            "passenger_count",
            "RatecodeID",
            "store_and_fwd_flag",
            "payment_type",
            "congestion_surcharge",
            "airport_fee",
            "trip_type",
        ):
            nulls[name][rows - tail :] = True
    known = np.arange(rows - tail)

    def pick(share: float) -> np.ndarray:
        return rng.choice(known, min(_quirk_count(share, rows), len(known)), replace=False)

    data["passenger_count"][pick(quirks.zero_passengers)] = 0
    data["trip_distance"][pick(quirks.zero_distance)] = 0.0
    data["trip_distance"][pick(quirks.absurd_distance)] = rng.uniform(20_000, 300_000)
    data["RatecodeID"][pick(quirks.ratecode_99)] = 99
    refunds = pick(quirks.negative_amounts)
    for name in _AMOUNT_COLUMNS:
        data[name][refunds] = -data[name][refunds]
    _positions(rng, service, month, rows, data, nulls)


# Yellow's files carry positions instead of zones until this month.
_ZONES_FROM = "2011-01"
_POSITIONS = (("pickup_longitude", "pickup_latitude"), ("dropoff_longitude", "dropoff_latitude"))


def _positions(
    rng: np.random.Generator,
    service: str,
    month: str,
    rows: int,
    data: dict[str, np.ndarray],
    nulls: dict[str, np.ndarray],
) -> None:
    """Yellow before 2011: where each trip began and ended, among the synthetic zones, and Digital
    Dispatch Systems (vendor 9 here) as a third vendor; from 2011 no positions (drawn after every
    other column, so the months from 2011 keep the rows they always had).
    """
    for ends in _POSITIONS:
        for name in ends:
            data[name] = np.full(rows, np.nan)
            nulls[name] = np.ones(rows, dtype=bool)
    if service != "yellow" or month >= _ZONES_FROM:
        return
    for longitude, latitude in _POSITIONS:
        data[longitude], data[latitude], missing = trip_positions(rng, rows)
        nulls[longitude], nulls[latitude] = missing, missing.copy()
    data["VendorID"][rng.random(rows) < 0.03] = 9


def _fhv_columns(
    rng: np.random.Generator, rows: int, data: dict[str, np.ndarray], nulls: dict[str, np.ndarray]
) -> None:
    """FHV: the dispatching base, zones (often unknown), the shared-ride flag and the affiliation."""
    bases = rng.choice(_FHV_BASES, rows)
    data |= {
        "dispatching_base_num": bases,
        "PUlocationID": rng.integers(1, 266, rows),
        "DOlocationID": rng.integers(1, 266, rows),
        "SR_Flag": np.ones(rows, dtype="int64"),
        "Affiliated_base_number": np.where(rng.random(rows) < 0.9, bases, rng.choice(_FHV_BASES, rows)),
    }
    nulls |= {
        "PUlocationID": rng.random(rows) < 0.2,
        "DOlocationID": rng.random(rows) < 0.1,
        "SR_Flag": rng.random(rows) >= 0.05,
        "Affiliated_base_number": rng.random(rows) < 0.02,
    }


# High-volume services and a base of each (the data dictionary's licensees; the bases as the files
# show them): Uber HV0003 dispatched by B03404, Lyft HV0005 by B02510.
_HV_SERVICES = np.array(["HV0003", "HV0005"], dtype=object)
_HV_BASES = np.array(["B03404", "B02510"], dtype=object)


def _fhvhv_columns(
    rng: np.random.Generator,
    month: str,
    rows: int,
    duration: np.ndarray,
    data: dict[str, np.ndarray],
    nulls: dict[str, np.ndarray],
) -> None:
    """High-volume FHV: license, bases, request and on-scene times, miles, seconds, fares, flags."""
    lyft = rng.random(rows) < 0.27
    pickup = data["pickup_datetime"]
    wait = rng.integers(60, 900, rows).astype("timedelta64[s]")
    miles = np.round(rng.gamma(1.5, 3.0, rows), 3)
    fare = np.round(4.0 + miles * 1.6 + duration / 60 * 0.55, 2)
    flags = {
        name: rng.choice(np.array(["N", "Y"], dtype=object), rows, p=[1 - share, share])
        for name, share in (
            ("shared_request_flag", 0.02),
            ("shared_match_flag", 0.01),
            ("access_a_ride_flag", 0.001),
            ("wav_request_flag", 0.005),
            ("wav_match_flag", 0.05),
        )
    }
    data |= {
        "hvfhs_license_num": _HV_SERVICES[lyft.astype(int)],
        "dispatching_base_num": _HV_BASES[lyft.astype(int)],
        "originating_base_num": _HV_BASES[lyft.astype(int)],
        "request_datetime": pickup - wait,
        "on_scene_datetime": pickup - rng.integers(0, 120, rows).astype("timedelta64[s]"),
        "PULocationID": rng.integers(1, 266, rows),
        "DOLocationID": rng.integers(1, 266, rows),
        "trip_miles": miles,
        "trip_time": duration.copy(),
        "base_passenger_fare": fare,
        "tolls": np.where(rng.random(rows) < 0.05, 6.94, 0.0),
        "bcf": np.round(fare * 0.025, 2),
        "sales_tax": np.round(fare * 0.08875, 2),
        "congestion_surcharge": rng.choice([0.0, 2.75], rows, p=[0.6, 0.4]),
        "airport_fee": rng.choice([0.0, 2.5], rows, p=[0.93, 0.07]),
        "tips": np.round(np.where(rng.random(rows) < 0.2, fare * 0.15, 0.0), 2),
        "driver_pay": np.round(fare * 0.72, 2),
        "cbd_congestion_fee": rng.choice([0.0, 1.5], rows, p=[0.6, 0.4]),
        **flags,
    }
    nulls |= {
        "originating_base_num": lyft,
        "on_scene_datetime": flags["wav_match_flag"] == "N",
        "cbd_congestion_fee": np.full(rows, month < _CBD_FEE_FROM),
    }
    adjusted = rng.choice(rows, max(1, rows // 500), replace=False)
    data["base_passenger_fare"][adjusted] *= -1
    data["driver_pay"][adjusted] *= -1
    impossible = rng.choice(rows, 3, replace=False) if rows >= 50 else np.array([], dtype=int)
    if len(impossible):
        backwards, no_miles, no_time = impossible
        data["dropoff_datetime"][backwards] = pickup[backwards] - np.timedelta64(300, "s")
        data["trip_miles"][no_miles] = -data["trip_miles"][no_miles] - 0.1
        data["trip_time"][no_time] = -data["trip_time"][no_time]


def in_layout(canonical: pa.Table, schema: TripSchema, layout: Layout) -> pa.Table:
    """``canonical`` as ``layout`` publishes it: its columns, spellings, order and types."""
    arrays = []
    for field in layout.fields:
        column = schema.published_as(field.name)
        assert column is not None, field.name
        values = canonical.column(column.name)
        if pa.types.is_null(field.type):
            arrays.append(pa.nulls(len(values)))
        elif _is_text(field.type) and not _is_text(column.type):
            arrays.append(_as_text(values, column.name, layout.name))
        elif _is_text(column.type) and not _is_text(field.type):
            arrays.append(_as_numbers(values, field.type))
        else:
            arrays.append(pc.cast(values, field.type))
    return pa.Table.from_arrays(arrays, schema=layout.arrow_schema)


def _is_text(type_: pa.DataType) -> bool:
    return pa.types.is_string(type_) or pa.types.is_large_string(type_)


# The words yellow's 2009 and 2010 files write for codes, two spellings each as the files mix them
# (rows alternate). Written out here, apart from schema.py's mapping, as the files' text.
_WORDS = {
    "tlc-2009": {
        "VendorID": {1: ("CMT", "CMT"), 2: ("VTS", "VTS"), 9: ("DDS", "DDS")},
        "payment_type": {
            1: ("Credit", "CREDIT"),
            2: ("CASH", "Cash"),
            3: ("No Charge", "No Charge"),
            4: ("Dispute", "Dispute"),
        },
    },
    "tlc-2010": {
        "VendorID": {1: ("CMT", "CMT"), 2: ("VTS", "VTS"), 9: ("DDS", "DDS")},
        "payment_type": {1: ("CRE", "Crd"), 2: ("CAS", "CSH"), 3: ("NOC", "No "), 4: ("DIS", "Dis")},
    },
}


def _as_text(values: pa.ChunkedArray, name: str, layout: str) -> pa.ChunkedArray:
    """Times as ``YYYY-MM-DD HH:MM:SS``, coded columns as their words, other numbers as digits."""
    if pa.types.is_timestamp(values.type):
        return pc.strftime(pc.cast(values, pa.timestamp("s")), "%Y-%m-%d %H:%M:%S")
    words = _WORDS.get(layout, {}).get(name)
    if words is None:
        return pc.cast(values, pa.string())
    codes = values.to_numpy(zero_copy_only=False)
    text = np.full(len(codes), None, dtype=object)
    odd = np.arange(len(codes)) % 2 == 1
    for code, (even_word, odd_word) in words.items():
        text[codes == code] = np.where(odd[codes == code], odd_word, even_word)
    return pa.chunked_array([pa.array(text, pa.string())])


def _as_numbers(values: pa.ChunkedArray, type_: pa.DataType) -> pa.ChunkedArray:
    """2009's store-and-forward flag: N as 0, Y as 1."""
    numbers = pc.if_else(pc.equal(values, "Y"), 1.0, pc.if_else(pc.equal(values, "N"), 0.0, None))
    return pc.cast(numbers, type_)


def write_trips_parquet(tables: Iterable[pa.Table], path: Path, row_group_size: int = 131_072) -> Path:
    """Write ``tables`` (parts of one month, one schema) as the TLC publishes a month: one parquet
    file, types as they are.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    writer: pq.ParquetWriter | None = None
    try:
        for table in tables:
            writer = writer or pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table, row_group_size=row_group_size)
            del table  # not held while the next part is made
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(path)
    return path


def _as_csv_text(table: pa.Table, schema: TripSchema) -> pa.Table:
    """Doubles that stand for integers written as the mirror writes them, ``1.0`` (pandas' floats);
    pyarrow would write ``1``.
    """
    columns = []
    for field, values in zip(table.schema, table.columns, strict=True):
        column = schema.published_as(field.name)
        if column is not None and column.is_integer and pa.types.is_floating(field.type):
            values = pc.binary_join_element_wise(pc.cast(pc.cast(values, pa.int64()), pa.string()), ".0", "")
        columns.append(values)
    return pa.Table.from_arrays(columns, names=table.column_names)


def write_trips_csv(tables: Iterable[pa.Table], path: Path, schema: TripSchema) -> Path:
    """Write ``tables`` (parts of one month) as the mirror publishes a month: CSV (gzip for
    ``.gz``), bare header, empty fields for NULL.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    # Level 1: a 1.37M-row month compresses in ~2 s instead of ~30 s at the default level 9.
    with gzip.open(tmp, "wb", compresslevel=1) if path.suffix == ".gz" else tmp.open("wb") as out:
        for n, table in enumerate(tables):
            text = _as_csv_text(table, schema)
            if n == 0:
                out.write((",".join(text.column_names) + "\n").encode())
            pacsv.write_csv(text, out, pacsv.WriteOptions(include_header=False, quoting_style="none"))
            del table, text  # not held while the next part is made
    tmp.replace(path)
    return path


def source_file_name(service: str, month: str, fmt: str) -> str:
    """``yellow_tripdata_2021-01.parquet``: how both publishers name a month's file."""
    return f"{SOURCE_FILE_STEM.format(service=service, month=month)}.{fmt}"


def write_month(
    out_dir: Path,
    service: str,
    month: str,
    rows: int,
    seed: int = 0,
    *,
    publisher: str = TLC,
    layout: str | None = None,
    fmt: str | None = None,
    row_group_size: int = 131_072,
) -> Path:
    """Generate ``service``'s ``month`` and write it as ``publisher`` does: the layout it used that
    month (or the one named), in its format (or ``fmt``: parquet, csv.gz, csv).
    """
    schema = SCHEMAS[service]
    era = (
        next(era for era in schema.layouts if era.name == layout)
        if layout
        else schema.layout(publisher, month)
    )
    fmt = fmt or PUBLISHERS[publisher].file_name.split(".", 1)[1]
    # Part by part, a part let go before the next is made (``map`` keeps none, where a generator
    # expression's loop variable would hold the last one): a month is never in memory whole.
    published = map(lambda part: in_layout(part, schema, era), generate_parts(service, month, rows, seed))
    path = out_dir / source_file_name(service, month, fmt)
    if fmt == "parquet":
        return write_trips_parquet(published, path, row_group_size)
    return write_trips_csv(published, path, schema)


# The boroughs and service zones of the TLC's lookup, and its last two ids, which stand for an
# unknown place (the published file: 264 "Unknown"/"N/A", 265 "N/A"/"Outside of NYC").
_BOROUGHS = ("EWR", "Queens", "Bronx", "Manhattan", "Staten Island", "Brooklyn")
_SERVICE_ZONES = {"EWR": "EWR", "Manhattan": "Yellow Zone"}
_UNKNOWN_ZONES = ((264, "Unknown", "N/A", "N/A"), (265, "N/A", "Outside of NYC", "N/A"))


def write_zone_lookup(path: Path, zones: int = 263) -> Path:
    """A taxi zone lookup as the TLC publishes it (``"LocationID","Borough","Zone","service_zone"``,
    every field quoted): ``zones`` made-up zones, then the two unknown ones (264, 265).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        (n, borough, f"Synthetic zone {n}", _SERVICE_ZONES.get(borough, "Boro Zone"))
        for n in range(1, zones + 1)
        for borough in [_BOROUGHS[0] if n == 1 else _BOROUGHS[1 + n % (len(_BOROUGHS) - 1)]]
    ]
    lines = ['"LocationID","Borough","Zone","service_zone"']
    lines += [",".join(f'"{value}"' if i else str(value) for i, value in enumerate(row)) for row in rows]
    lines += [f'{n},"{borough}","{zone}","{service}"' for n, borough, zone, service in _UNKNOWN_ZONES]
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="taxi-synthetic",
        description="Write synthetic TLC trip files in the layout their publisher used that month.",
    )
    parser.add_argument("--out", type=Path, default=Path("data/source"), help="output folder")
    parser.add_argument("--service", choices=SERVICES, action="append", help="default: all the publisher has")
    parser.add_argument("--month", action="append", required=True, help="YYYY-MM, repeatable")
    parser.add_argument("--rows", type=int, default=50_000, help="rows per file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--publisher",
        choices=sorted(PUBLISHERS),
        default=TLC,
        help=f"whose layout and format: {TLC} (parquet, default) or {MIRROR} (CSV.gz)",
    )
    args = parser.parse_args(argv)
    for service in args.service or PUBLISHERS[args.publisher].services:
        for month in args.month:
            path = write_month(args.out, service, month, args.rows, args.seed, publisher=args.publisher)
            print(f"wrote {path} ({args.rows} rows)")


if __name__ == "__main__":
    main()
