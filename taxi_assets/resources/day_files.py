"""The lake's daily dataset: one hive folder per day, ``{base}/{column}=YYYY-MM-DD/part-0.parquet``.

The date lives only in the path, so pyarrow, DuckDB and BigQuery external tables all read it as
a partition column. A day with no trips gets a file with no rows, so "empty" and "never written"
differ.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from taxi_assets.resources.lake_files import LakeError, LakeLocation

PART_FILE = "part-0.parquet"
_EPOCH = dt.date(1970, 1, 1)
# Day files are written concurrently: parquet encoding and uploads release the GIL.
_WRITERS = max(2, os.cpu_count() or 1)


def _day_dir(base: str, column: str, day: dt.date) -> str:
    return f"{base}/{column}={day.isoformat()}"


def write_days(
    lake: LakeLocation, base: str, table: pa.Table, column: str, days: Sequence[dt.date]
) -> dict[str, int]:
    """Each of ``days`` gets exactly its rows of ``table``; the URI and size of every file written."""
    owned = pa.array(days, type=pa.date32())
    if len(table) and not pc.all(pc.is_in(table.column(column), value_set=owned)).as_py():
        raise LakeError(
            f"{lake.uri(base)}: rows with {column} outside {days[0]} … {days[-1]} would land in "
            "partitions this run does not own"
        )
    keys = table.column(column).cast(pa.int32()).to_numpy()
    data = table.drop_columns([column])
    in_day_order = bool(np.all(keys[1:] >= keys[:-1]))
    if not in_day_order:
        # Each day is taken by its writer: no sorted copy of the whole table is ever made.
        order = pc.sort_indices(keys)
        keys = keys[order.to_numpy()]

    def rows(first: int, length: int) -> pa.Table:
        # A cleaned month comes in pickup order: its days are slices, no row is copied.
        return data.slice(first, length) if in_day_order else data.take(order.slice(first, length))

    def write_day(day: dt.date) -> tuple[str, int]:
        ordinal = (day - _EPOCH).days
        lo, hi = np.searchsorted(keys, [ordinal, ordinal + 1])
        path = f"{_day_dir(base, column, day)}/{PART_FILE}"
        size = lake.write(path, rows(lo, hi - lo))
        # Files an earlier writer left beside ours (e.g. the course's write_to_dataset) go.
        for stale in lake.files(_day_dir(base, column, day)):
            if stale != path:
                lake.fs.delete_file(stale)
        return lake.uri(path), size

    with ThreadPoolExecutor(_WRITERS) as pool:
        return dict(pool.map(write_day, days))


def _parquet_files(lake: LakeLocation, base: str, column: str, day: dt.date) -> list[str]:
    return [p for p in lake.files(_day_dir(base, column, day)) if p.endswith(".parquet")]


def _files(lake: LakeLocation, base: str, column: str, days: Sequence[dt.date]) -> list[str]:
    """The parquet files of ``days``; every day must have been written."""
    found = {day: _parquet_files(lake, base, column, day) for day in days}
    missing = [day.isoformat() for day, files in found.items() if not files]
    if missing:
        raise LakeError(
            f"{lake.uri(base)} has no data for {column} = {', '.join(missing[:5])}"
            f"{' …' if len(missing) > 5 else ''}: materialise those days first"
        )
    return [path for files in found.values() for path in files]


def read_days(lake: LakeLocation, base: str, column: str, days: Sequence[dt.date]) -> pa.Table:
    """The rows of ``days``, the day column last, as any hive reader gets them."""
    partitioning = ds.partitioning(pa.schema([(column, pa.date32())]), flavor="hive")
    dataset = ds.dataset(
        _files(lake, base, column, days),
        filesystem=lake.fs,
        format="parquet",
        partitioning=partitioning,
        partition_base_dir=base,
    )
    return dataset.to_table()


def count_days(lake: LakeLocation, base: str, column: str, days: Sequence[dt.date]) -> dict[str, int]:
    """Rows per day from the parquet footers alone: no row is read. A day never written is missing."""
    day_of = {path: day.isoformat() for day in days for path in _parquet_files(lake, base, column, day)}
    counts: dict[str, int] = {}
    if day_of:
        for fragment in ds.dataset(list(day_of), filesystem=lake.fs, format="parquet").get_fragments():
            day = day_of[fragment.path]
            counts[day] = counts.get(day, 0) + fragment.count_rows()
    return counts
