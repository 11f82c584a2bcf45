"""Synthetic TLC trip files: the real published schema and its quirks, deterministic by seed.

The demo and every test run on these files, so no real data is ever committed or downloaded.
Quirks reproduced from the published 2019–2021 files:
- a tail of ~7% rows whose VendorID, passenger_count, RatecodeID, store_and_fwd_flag and
  payment_type are all empty (the TLC's "unknown vendor" records);
- passenger_count 0 and trip_distance 0;
- pickups outside the file's month, some of them years earlier;
- negative amounts (refunds and disputes), RatecodeID 99, absurd trip distances.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from taxi_assets.constants import SERVICES, SOURCE_FILE_NAME
from taxi_assets.schema import SCHEMAS


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


def _seed_for(seed: int, service: str, month: str) -> int:
    digest = hashlib.sha256(f"{seed}/{service}/{month}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _quirk_count(share: float, n: int) -> int:
    # Small files still get one row of each quirk, so every test meets every quirk.
    return max(1, round(share * n)) if n >= 50 else round(share * n)


def generate_trips(service: str, month: str, rows: int, seed: int = 0, quirks: Quirks = Quirks()) -> pa.Table:
    """One month of synthetic trips for ``service`` with the published columns and types."""
    schema = SCHEMAS[service]
    rng = np.random.default_rng(_seed_for(seed, service, month))
    start = np.datetime64(f"{month}-01T00:00:00")
    end = (pd.Timestamp(f"{month}-01") + pd.offsets.MonthBegin(1)).to_datetime64()
    seconds_in_month = int((end - start) / np.timedelta64(1, "s"))

    # The unknown-vendor tail is appended after the sorted trips, its pickups spread over the month.
    tail = round(quirks.unknown_vendor_tail * rows)
    offsets = rng.integers(0, seconds_in_month, rows)
    offsets[: rows - tail].sort()
    offsets[rows - tail :].sort()
    pickup = start + offsets.astype("timedelta64[s]")
    duration = np.clip(rng.exponential(780, rows), 30, 4 * 3600).astype("int64")
    distance = np.round(rng.gamma(1.6, 1.9, rows) + 0.01, 2)
    fare = np.round(2.5 + distance * 2.5 + duration / 60 * 0.5, 2)
    extra = rng.choice([0.0, 0.5, 1.0, 2.5, 3.0], rows)
    mta_tax = np.full(rows, 0.5)
    tip = np.round(np.where(rng.random(rows) < 0.6, fare * rng.uniform(0.1, 0.3, rows), 0.0), 2)
    tolls = np.where(rng.random(rows) < 0.05, 6.12, 0.0)
    improvement = np.full(rows, 0.3)
    congestion = rng.choice([0.0, 2.5] if service == "yellow" else [0.0, 2.75], rows, p=[0.2, 0.8])
    total = np.round(fare + extra + mta_tax + tip + tolls + improvement + congestion, 2)

    data: dict[str, np.ndarray] = {
        "VendorID": rng.choice([1, 2], rows, p=[0.3, 0.7]),
        schema.pickup_column: pickup,
        schema.dropoff_column: pickup + duration.astype("timedelta64[s]"),
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
        "total_amount": total,
        "trip_type": rng.choice([1, 2], rows, p=[0.95, 0.05]),
        "congestion_surcharge": congestion,
    }
    nulls: dict[str, np.ndarray] = {name: np.zeros(rows, dtype=bool) for name in data}
    nulls["ehail_fee"][:] = True

    if tail:
        for name in (
            "VendorID",
            "passenger_count",
            "RatecodeID",
            "store_and_fwd_flag",
            "payment_type",
            "congestion_surcharge",
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
    strays = pick(quirks.pickup_outside_month)
    stray_pickups = np.array(
        [*_STRAY_PICKUPS, start - np.timedelta64(1800, "s"), end + np.timedelta64(600, "s")]
    )
    data[schema.pickup_column][strays] = stray_pickups[np.arange(len(strays)) % len(stray_pickups)]
    data[schema.dropoff_column][strays] = data[schema.pickup_column][strays] + np.timedelta64(900, "s")

    arrays = []
    for column in schema.columns:
        values = data[column.name]
        write_type = pa.timestamp("s") if pa.types.is_timestamp(column.type) else column.type
        arrays.append(pa.array(values, type=write_type, mask=nulls[column.name]))
    return pa.Table.from_arrays(arrays, names=schema.names)


def write_trips_csv_gz(table: pa.Table, path: Path) -> Path:
    """Write ``table`` as the TLC publishes it: gzip CSV, bare header, empty fields for NULL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    # Level 1: a 1.37M-row month compresses in ~2 s instead of ~30 s at the default level 9.
    with gzip.open(tmp, "wb", compresslevel=1) as out:
        out.write((",".join(table.column_names) + "\n").encode())
        pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    tmp.replace(path)
    return path


def write_month(out_dir: Path, service: str, month: str, rows: int, seed: int = 0) -> Path:
    """Generate and write ``{service}_tripdata_{month}.csv.gz`` under ``out_dir``."""
    table = generate_trips(service, month, rows, seed)
    return write_trips_csv_gz(table, out_dir / SOURCE_FILE_NAME.format(service=service, month=month))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="taxi-synthetic", description="Write synthetic TLC trip files in the published schema."
    )
    parser.add_argument("--out", type=Path, default=Path("data/source"), help="output folder")
    parser.add_argument("--service", choices=SERVICES, action="append", help="default: all")
    parser.add_argument("--month", action="append", required=True, help="YYYY-MM, repeatable")
    parser.add_argument("--rows", type=int, default=50_000, help="rows per file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for service in args.service or SERVICES:
        for month in args.month:
            path = write_month(args.out, service, month, args.rows, args.seed)
            print(f"wrote {path} ({args.rows} rows)")


if __name__ == "__main__":
    main()
