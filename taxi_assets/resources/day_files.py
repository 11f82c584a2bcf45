"""The lake's daily dataset: one hive folder per day, ``{base}/{column}=YYYY-MM-DD/part-0.parquet``.

The date lives only in the path, so pyarrow, DuckDB and BigQuery external tables all read it as
a partition column. A day with no trips gets a file with no rows, so "empty" and "never written"
differ.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from taxi_assets.batches import Batches, read_ahead
from taxi_assets.resources.lake_files import LakeError, LakeLocation, Staged
from taxi_assets.trip_files import parquet_batches, parquet_file

PART_FILE = "part-0.parquet"
_EPOCH = dt.date(1970, 1, 1)
# Day files are written concurrently: parquet encoding and uploads release the GIL.
_WRITERS = max(2, os.cpu_count() or 1)


def _day_dir(base: str, column: str, day: dt.date) -> str:
    return f"{base}/{column}={day.isoformat()}"


def write_days(
    lake: LakeLocation, base: str, rows: Batches, column: str, days: Sequence[dt.date]
) -> dict[str, int]:
    """Each of ``days`` gets exactly its rows, read a batch at a time; the URI and size of every
    file written. Each day's file is written under a temporary name, all of them moved into place
    once every row is written: a failure leaves every day as it was.
    """
    if column not in rows.schema.names:
        raise LakeError(f"{lake.uri(base)}: the rows have no {column} column to lay them out by")
    owned = pa.array(days, type=pa.date32())
    paths = {day: f"{_day_dir(base, column, day)}/{PART_FILE}" for day in days}
    data_schema = rows.schema.remove(rows.schema.get_field_index(column))
    staged: dict[dt.date, Staged] = {}
    # Every day's file closes when the block ends, or is removed if it ends by an error.
    with contextlib.ExitStack() as files:

        def stage(day: dt.date) -> Staged:
            if day not in staged:
                staged[day] = files.enter_context(lake.staged(paths[day], data_schema))
            return staged[day]

        with ThreadPoolExecutor(_WRITERS) as pool:
            for batch in read_ahead(rows):
                if not batch.num_rows:
                    continue
                if not pc.all(pc.fill_null(pc.is_in(batch.column(column), value_set=owned), False)).as_py():
                    raise LakeError(
                        f"{lake.uri(base)}: rows with {column} outside {days[0]} … {days[-1]} would land in "
                        "partitions this run does not own"
                    )
                # Each day's file gets its share of the batch, the days written concurrently
                # (parquet encoding and uploads release the GIL); files are opened here, not in
                # the pool's threads.
                parts = [(stage(day), part) for day, part in _by_day(batch, column)]
                list(pool.map(lambda item: item[0].write(item[1]), parts))
        for day in days:
            stage(day)  # a day with no trips gets a file with no rows

    def publish(day: dt.date) -> tuple[str, int]:
        size = lake.publish(staged[day].tmp, paths[day])
        # Files an earlier writer left beside ours (e.g. the course's write_to_dataset) go.
        for stale in lake.files(_day_dir(base, column, day)):
            if stale != paths[day]:
                lake.fs.delete_file(stale)
        return lake.uri(paths[day]), size

    with ThreadPoolExecutor(_WRITERS) as pool:
        return dict(pool.map(publish, days))


def _by_day(batch: pa.RecordBatch, column: str) -> Iterator[tuple[dt.date, pa.RecordBatch]]:
    """The batch's rows of each day it holds, without the day column (the folder holds it)."""
    keys = batch.column(column).cast(pa.int32()).to_numpy(zero_copy_only=False)
    data = batch.drop_columns([column])
    if not bool(np.all(keys[1:] >= keys[:-1])):
        # Cleaned batches come in pickup order, so this sort is for rows from elsewhere.
        order = np.argsort(keys, kind="stable")
        keys, data = keys[order], data.take(pa.array(order))
    starts = np.flatnonzero(np.diff(keys, prepend=keys[0] - 1))
    ends = [*starts[1:], len(keys)]
    for first, end in zip(starts, ends, strict=True):
        yield _EPOCH + dt.timedelta(days=int(keys[first])), data.slice(first, end - first)


def _parquet_files(lake: LakeLocation, base: str, column: str, day: dt.date) -> list[str]:
    return [p for p in lake.files(_day_dir(base, column, day)) if p.endswith(".parquet")]


def _files_by_day(
    lake: LakeLocation, base: str, column: str, days: Sequence[dt.date]
) -> dict[dt.date, list[str]]:
    """The parquet files of each of ``days``; every day must have been written."""
    found = {day: _parquet_files(lake, base, column, day) for day in days}
    missing = [day.isoformat() for day, files in found.items() if not files]
    if missing:
        raise LakeError(
            f"{lake.uri(base)} has no data for {column} = {', '.join(missing[:5])}"
            f"{' …' if len(missing) > 5 else ''}: materialise those days first"
        )
    return found


def read_days(lake: LakeLocation, base: str, column: str, days: Sequence[dt.date]) -> Batches:
    """The rows of ``days``, the day column last (as any hive reader gives it, from the folder's
    name), a row group at a time when asked for. Not a pyarrow dataset: its scanner reads many
    batches ahead, which costs a month's worth of memory. Days written from months of different
    layouts (a column a load added under evolve) read as one: the union of their columns, nulls
    where a day has none.
    """
    files = _files_by_day(lake, base, column, days)
    if not files:
        return Batches(pa.schema([(column, pa.date32())]), lambda: iter(()))
    footers = {path: parquet_file(path, lake.fs) for paths in files.values() for path in paths}
    schema = _unified(lake, base, [f.physical_schema for f in footers.values()]).append(
        pa.field(column, pa.date32())
    )

    def batches() -> Iterator[pa.RecordBatch]:
        for day, paths in files.items():
            for path in paths:
                for batch in parquet_batches(footers[path]):
                    yield _with_day(batch, schema, day)

    return Batches(schema, batches)


def _unified(lake: LakeLocation, base: str, schemas: list[pa.Schema]) -> pa.Schema:
    """One schema for days of several layouts: each column once, in the order first seen."""
    try:
        return pa.unify_schemas([s.remove_metadata() for s in schemas])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise LakeError(
            f"{lake.uri(base)}: days of this window hold a column with different types ({exc}); "
            "re-run the months whose files differ"
        ) from exc


def _with_day(batch: pa.RecordBatch, schema: pa.Schema, day: dt.date) -> pa.RecordBatch:
    """``batch`` in ``schema``: the day column from the folder's name, and nulls for a column a day
    written by an earlier version lacks.
    """
    arrays = [
        batch.column(field.name) if field.name in batch.schema.names else pa.nulls(batch.num_rows, field.type)
        for field in schema
    ]
    arrays[-1] = pa.repeat(pa.scalar(day, pa.date32()), batch.num_rows)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def count_days(lake: LakeLocation, base: str, column: str, days: Sequence[dt.date]) -> dict[str, int]:
    """Rows per day from the parquet footers alone: no row is read. A day never written is missing."""
    day_of = {path: day.isoformat() for day in days for path in _parquet_files(lake, base, column, day)}
    counts: dict[str, int] = {}
    if day_of:
        for fragment in ds.dataset(list(day_of), filesystem=lake.fs, format="parquet").get_fragments():
            day = day_of[fragment.path]
            counts[day] = counts.get(day, 0) + fragment.count_rows()
    return counts
