"""Spike (issue 33): a month's raw, cleaned + rejected and daily steps on DuckDB, beside today's
streaming steps, each without Dagster, on the same file and into the same lake layout.

    .venv/bin/python benchmarks/engine.py ENGINE --file SOURCE --work FOLDER [--month YYYY-MM]

ENGINE is one of:
- ``streaming``: today's code, called as the assets call it (``trip_files.canonical_batches`` into
  the lake's staged writer, ``CleanedBatches`` with the checks' tally, ``day_files.write_days``);
- ``duckdb``: DuckDB does the reading, the typing, the cleaning and the writing: ``read_csv`` /
  ``read_parquet`` with the file's plan (``trip_files.read_plan``: the same layouts and schema
  contract), the reject rules as one ``CASE``, ``COPY … TO`` a hidden name moved into place, the
  checks as one aggregate over what was written, and the days by ``COPY … PARTITION_BY`` into a
  hidden folder whose files are moved into place;
- ``duckdb_arrow``: DuckDB reads, types and cleans; its Arrow stream goes to the lake's own
  writer (pyarrow's, the one that keeps field metadata and writes to GCS); the days as ``duckdb``.

DuckDB runs with ``memory_limit`` and ``temp_directory`` set (``DUCKDB_MEMORY_LIMIT``, 768 MB by
default, as the earlier attempt did) and every core. Prints one JSON line: ``steps_s`` (raw,
cleaned, daily), ``rows`` per output, ``total_s`` and the process's peak RSS. The outputs stay
under ``--work/lake`` as the project lays them out (``{service}/{stage}/YYYY-MM.parquet``,
``{service}/daily_trips/pickup_date=YYYY-MM-DD/part-0.parquet``), so ``engine_checks.py`` can
compare the engines' files table for table.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import resource
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from taxi_assets.resources.lake_files import LakeLocation
    from taxi_assets.schema import TripSchema
    from taxi_assets.source import SourceFile
    from taxi_assets.trip_files import Plan

ENGINES = ("streaming", "duckdb", "duckdb_arrow")
MEMORY_LIMIT = os.environ.get("DUCKDB_MEMORY_LIMIT", "768MB")
# Row groups as the lake's writer makes them (a batch each: taxi_assets.batches.BATCH_ROWS).
ROW_GROUP_ROWS = 262_144
_SOURCE_NAME = re.compile(r"(?P<service>[a-z]+)_tripdata_(?P<month>\d{4}-\d{2})\.(?P<format>.+)")


def source_file(path: Path) -> SourceFile:
    """The file as the raw asset receives it from the download (its URL a file:// one)."""
    from taxi_assets.source import SourceFile

    found = _SOURCE_NAME.fullmatch(path.name)
    assert found, path
    return SourceFile(path.as_uri(), path, path.stat().st_size, "-", found["service"], found["month"])


def lake_at(folder: Path) -> LakeLocation:
    import pyarrow.fs as pafs

    from taxi_assets.resources.lake_files import LakeLocation

    folder.mkdir(parents=True, exist_ok=True)
    return LakeLocation(pafs.LocalFileSystem(), str(folder), str(folder))


def stage_path(lake: LakeLocation, service: str, stage: str, month: str | None = None) -> str:
    from taxi_assets.keys import asset_key

    parts = asset_key(service, stage).path
    return lake.path(*parts, f"{month}.parquet") if month else lake.path(*parts)


# --- today's steps -------------------------------------------------------------------------------
def streaming(source: SourceFile, lake: LakeLocation, schema: TripSchema, contract: str) -> dict[str, Any]:
    """Today's raw, cleaned + rejected (with the checks' tally) and daily steps, as the assets run them."""
    from taxi_assets.batches import Batches
    from taxi_assets.defs.assets.cleaned import _CheckTally
    from taxi_assets.keys import CLEANED, DAILY, RAW, REJECTED
    from taxi_assets.partitions import days_of, month_bounds
    from taxi_assets.resources.day_files import write_days
    from taxi_assets.schema import PICKUP_DATE
    from taxi_assets.transform import CleanedBatches, PickupTally
    from taxi_assets.trip_files import canonical_batches, read_plan

    month = source.month
    start, end = month_bounds(month)
    steps: dict[str, float] = {}
    rows: dict[str, int] = {}

    t = time.perf_counter()
    plan = read_plan(source, schema, contract)
    tally = PickupTally(schema.pickup_column, start, end)
    raw = Batches(plan.schema.raw_arrow_schema, lambda: map(tally.see, canonical_batches(source, plan)))
    raw_path = stage_path(lake, schema.service, RAW, month)
    staged = lake.stage(raw_path, raw)
    if problem := tally.implausible():
        lake.discard(staged)
        raise SystemExit(problem)
    lake.publish(staged, raw_path)
    rows["raw"] = tally.rows
    steps["raw"] = time.perf_counter() - t

    t = time.perf_counter()
    stored = lake.read(raw_path, "raw")
    cleaning = CleanedBatches(stored, schema.as_stored(stored.schema, snake=False), start, end)
    checks = _CheckTally(schema, start, end)
    lake.write(stage_path(lake, schema.service, CLEANED, month), cleaning.cleaned.map(checks.see))
    lake.write(stage_path(lake, schema.service, REJECTED, month), cleaning.rejected)
    rows["cleaned"], rows["rejected"] = checks.rows, sum(cleaning.reject_counts.values())
    rows["checks_failing"] = checks.not_positive + checks.outside
    steps["cleaned"] = time.perf_counter() - t

    t = time.perf_counter()
    cleaned = lake.read(stage_path(lake, schema.service, CLEANED, month), "cleaned")
    write_days(lake, stage_path(lake, schema.service, DAILY), cleaned, PICKUP_DATE, days_of(month))
    steps["daily"] = time.perf_counter() - t
    return {"steps_s": steps, "rows": rows}


# --- DuckDB --------------------------------------------------------------------------------------
def connect(work: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills past its memory limit to a folder of its own."""
    import duckdb

    spill = work / "duckdb_spill"
    spill.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(
        config={
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": str(spill),
            "threads": os.cpu_count() or 2,
        }
    )


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duck_type(arrow_type: pa.DataType) -> str:
    """The DuckDB type a canonical column is stored as (schema.py's four: int64, double, µs, text)."""
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    if pa.types.is_date(arrow_type):
        return "DATE"
    return "VARCHAR"


def _whole(expression: str, column: str, where: str) -> str:
    """A double that must be a whole number, as an integer; a fraction fails the statement."""
    message = literal(f"{where}: column {column!r}: non-integer value ")
    return (
        f"CASE WHEN {expression} IS NULL OR isnan({expression}) THEN NULL "
        f"WHEN {expression} = floor({expression}) THEN CAST({expression} AS BIGINT) "
        f"ELSE error({message} || CAST({expression} AS VARCHAR)) END"
    )


def raw_select(plan: Plan, source: SourceFile) -> str:
    """The file read into the load's canonical layout: each column matched, typed and checked as
    ``trip_files.to_canonical`` does it.
    """
    import pyarrow as pa

    header = None if source.format == "parquet" else _csv_header(source)
    columns = []
    for column in plan.schema.columns:
        name = plan.published.get(column.name)
        target = duck_type(column.type)
        if name is None:
            columns.append(f"CAST(NULL AS {target}) AS {ident(column.name)}")
            continue
        published = plan.published_types.get(column.name)
        floating = published is None or pa.types.is_floating(published)  # CSV integers parse as DOUBLE
        if column.is_integer and floating:
            value = _whole(ident(name), name, source.where)
        else:
            value = f"CAST({ident(name)} AS {target})"
        columns.append(f"{value} AS {ident(column.name)}")
    if source.format == "parquet":
        reader = f"read_parquet({literal(str(source.path))})"
    else:
        types = {}
        for name in header:
            column = plan.schema.published_as(name)
            known = column is not None and plan.published.get(column.name) == name
            types[name] = ("DOUBLE" if column.is_integer else duck_type(column.type)) if known else "VARCHAR"
        spec = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in types.items())
        reader = f"read_csv({literal(str(source.path))}, header = true, columns = {{{spec}}}, nullstr = '')"
    return f"SELECT {', '.join(columns)} FROM {reader}"


def _csv_header(source: SourceFile) -> list[str]:
    from taxi_assets.trip_files import read_header

    return read_header(source)


def unreadable(source: SourceFile, plan: Plan, exc: Exception) -> Exception:
    """The error a bad file gets: today's reader run over it again names the file, service and
    month, the column, the data row and the value (a second read, paid only when the file is bad);
    if that reader finds nothing wrong, DuckDB's own message (which names the file's line and the
    column for a CSV), after the file, service and month.
    """
    from taxi_assets.source import SourceError
    from taxi_assets.trip_files import canonical_batches

    try:
        for _ in canonical_batches(source, plan):
            pass
    except SourceError as error:
        return error
    first = str(exc).splitlines()[0]
    return SourceError(f"{source.where}: {first}; nothing was written")


def reject_code(schema: TripSchema, start: dt.datetime, end: dt.datetime) -> str:
    """Per row, 0 to keep it, n to reject it for the n-th reason: ``transform.REJECT_RULES`` in SQL."""
    from taxi_assets import transform
    from taxi_assets.schema import PASSENGER_COUNT, TRIP_DISTANCE, TRIP_MILES, TRIP_TIME

    pickup, dropoff = ident(schema.pickup_column), ident(schema.dropoff_column)
    # DuckDB orders NaN above every number (NaN > 0 is true, unlike Arrow): excluded by name.
    rules = {
        transform.PICKUP_OUTSIDE_MONTH: f"NOT coalesce({pickup} >= TIMESTAMP '{start}' "
        f"AND {pickup} < TIMESTAMP '{end}', false)",
        transform.PASSENGER_COUNT_MISSING: f"{ident(PASSENGER_COUNT)} IS NULL",
        transform.PASSENGER_COUNT_NOT_POSITIVE: f"coalesce({ident(PASSENGER_COUNT)} <= 0, false)",
        transform.TRIP_DISTANCE_NOT_POSITIVE: f"NOT coalesce({ident(TRIP_DISTANCE)} > 0 "
        f"AND NOT isnan({ident(TRIP_DISTANCE)}), false)",
        transform.DROPOFF_BEFORE_PICKUP: f"coalesce({dropoff} < {pickup}, false)",
        transform.TRIP_MILES_NEGATIVE: f"coalesce({ident(TRIP_MILES)} < 0, false)",
        transform.TRIP_TIME_NEGATIVE: f"coalesce({ident(TRIP_TIME)} < 0, false)",
    }
    reasons = transform.reject_reasons(schema.service)
    whens = " ".join(f"WHEN {rules[reason]} THEN {n}" for n, reason in enumerate(reasons, 1))
    return f"CASE {whens} ELSE 0 END"


def copy_to(con: duckdb.DuckDBPyConnection, query: str, path: str) -> None:
    """``query``'s rows to a parquet file under a hidden name beside ``path``, then moved there."""
    tmp = str(Path(path).parent / f".{uuid.uuid4().hex}.tmp")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(
            f"COPY ({query}) TO {literal(tmp)} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
        )
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def arrow_to(
    con: duckdb.DuckDBPyConnection, query: str, lake: LakeLocation, path: str, schema: pa.Schema
) -> None:
    """``query``'s rows as Arrow batches into the lake's own writer (hidden name, then moved)."""
    from taxi_assets.batches import Batches

    def batches() -> Iterator[pa.RecordBatch]:
        # A relation's reader, not a DB-API result's (that one copies the rows once more).
        reader = con.sql(query).to_arrow_reader(ROW_GROUP_ROWS)
        for batch in reader:
            yield batch.cast(schema)

    lake.write(path, Batches(schema, batches))


def duckdb_steps(
    source: SourceFile, lake: LakeLocation, schema: TripSchema, contract: str, work: Path, writer: str
) -> dict[str, Any]:
    """The same three steps on DuckDB; ``writer`` is ``duckdb`` (COPY) or ``pyarrow`` (the lake's)."""
    import duckdb

    from taxi_assets.keys import CLEANED, DAILY, RAW, REJECTED
    from taxi_assets.partitions import days_of, month_bounds
    from taxi_assets.schema import PICKUP_DATE, REJECT_REASON, VENDOR_ID, VENDORS
    from taxi_assets.transform import MIN_SHARE_PICKED_UP_INSIDE, reject_reasons
    from taxi_assets.trip_files import read_plan

    month = source.month
    start, end = month_bounds(month)
    steps: dict[str, float] = {}
    rows: dict[str, int] = {}
    con = connect(work)

    t = time.perf_counter()
    plan = read_plan(source, schema, contract)
    raw_path = stage_path(lake, schema.service, RAW, month)
    raw_schema = plan.schema.raw_arrow_schema
    try:
        if writer == "duckdb":
            copy_to(con, raw_select(plan, source), raw_path)
        else:
            arrow_to(con, raw_select(plan, source), lake, raw_path, raw_schema)
    except duckdb.Error as exc:
        raise unreadable(source, plan, exc) from exc
    pickup = ident(schema.pickup_column)
    in_month = f"{pickup} >= TIMESTAMP '{start}' AND {pickup} < TIMESTAMP '{end}'"
    total, inside = con.execute(
        f"SELECT count(*), count(*) FILTER ({in_month}) FROM read_parquet({literal(raw_path)})"
    ).fetchone()
    if total == 0 or inside < MIN_SHARE_PICKED_UP_INSIDE * total:
        raise SystemExit(f"{source.where}: implausible month ({inside:,} of {total:,} inside)")
    rows["raw"] = total
    steps["raw"] = time.perf_counter() - t

    t = time.perf_counter()
    stored = plan.schema
    reasons = reject_reasons(schema.service)
    renamed = ", ".join(f"{ident(c.name)} AS {ident(c.snake_name)}" for c in stored.columns)
    day = f"CAST({pickup} AS DATE) AS {PICKUP_DATE}"
    con.execute(
        f"CREATE TEMP VIEW coded AS SELECT *, {reject_code(schema, start, end)} AS reject_code "
        f"FROM read_parquet({literal(raw_path)})"
    )
    names = "[" + ", ".join(literal(r) for r in reasons) + "]"
    kept = f"SELECT {renamed}, {day} FROM coded WHERE reject_code = 0"
    dropped = (
        f"SELECT {renamed}, {day}, {names}[reject_code] AS {REJECT_REASON} FROM coded WHERE reject_code <> 0"
    )
    cleaned_path = stage_path(lake, schema.service, CLEANED, month)
    rejected_path = stage_path(lake, schema.service, REJECTED, month)
    if writer == "duckdb":
        copy_to(con, kept, cleaned_path)
        copy_to(con, dropped, rejected_path)
    else:
        arrow_to(con, kept, lake, cleaned_path, stored.cleaned_arrow_schema)
        arrow_to(con, dropped, lake, rejected_path, stored.rejected_arrow_schema)
    # The checks, one aggregate over what was written (today's count as the rows are written).
    pickup_snake = ident(schema.pickup_snake)
    metered = schema.has("passenger_count")
    known = ", ".join(str(v) for v in sorted(VENDORS))
    failing = (
        "count(*) FILTER (NOT coalesce(passenger_count > 0 AND trip_distance > 0 "
        "AND NOT isnan(trip_distance), false))"
        if metered
        else "0"
    )
    vendors = f"count(*) FILTER ({VENDOR_ID} NOT IN ({known}))" if metered else "0"
    checked = con.execute(
        f"SELECT count(*), {failing}, count(*) FILTER (NOT coalesce({pickup_snake} >= TIMESTAMP "
        f"'{start}' AND {pickup_snake} < TIMESTAMP '{end}', false)), {vendors} "
        f"FROM read_parquet({literal(cleaned_path)})"
    ).fetchone()
    by_reason = dict(
        con.execute(
            f"SELECT {REJECT_REASON}, count(*) FROM read_parquet({literal(rejected_path)}) GROUP BY ALL"
        ).fetchall()
    )
    rows["cleaned"], rows["rejected"] = checked[0], sum(by_reason.values())
    rows["checks_failing"] = checked[1] + checked[2]
    if rows["cleaned"] + rows["rejected"] != rows["raw"]:
        raise SystemExit(f"reconciles_with_raw fails: {rows}")
    steps["cleaned"] = time.perf_counter() - t

    t = time.perf_counter()
    write_days_duckdb(con, lake, stage_path(lake, schema.service, DAILY), cleaned_path, days_of(month))
    steps["daily"] = time.perf_counter() - t
    con.close()
    return {"steps_s": steps, "rows": rows}


def write_days_duckdb(
    con: duckdb.DuckDBPyConnection, lake: LakeLocation, base: str, cleaned: str, days: list[dt.date]
) -> None:
    """Each day's rows by ``COPY … PARTITION_BY`` into a hidden folder, then each file moved into
    ``{base}/pickup_date=D/part-0.parquet`` (a day with no trips: a file with no rows); rows of
    other days fail before anything is written, as ``day_files.write_days`` does.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from taxi_assets.resources.day_files import PART_FILE
    from taxi_assets.schema import PICKUP_DATE

    outside = con.execute(
        f"SELECT count(*) FROM read_parquet({literal(cleaned)}) "
        f"WHERE {PICKUP_DATE} NOT BETWEEN DATE '{days[0]}' AND DATE '{days[-1]}'"
    ).fetchone()[0]
    if outside:
        raise SystemExit(f"{base}: {outside} rows outside {days[0]} … {days[-1]}")
    staging = Path(base) / f".{uuid.uuid4().hex}.tmp"
    staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(
            f"COPY (SELECT * FROM read_parquet({literal(cleaned)})) TO {literal(str(staging))} "
            f"(FORMAT parquet, PARTITION_BY ({PICKUP_DATE}), FILENAME_PATTERN 'part-{{i}}', "
            f"COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
        )
        data_schema = pq.read_schema(cleaned).remove(pq.read_schema(cleaned).get_field_index(PICKUP_DATE))
        for day in days:
            folder = f"{PICKUP_DATE}={day.isoformat()}"
            written = sorted((staging / folder).glob("*.parquet")) if (staging / folder).exists() else []
            if len(written) > 1:
                raise SystemExit(f"{staging / folder}: {len(written)} files, expected one")
            target = Path(base) / folder / PART_FILE
            target.parent.mkdir(parents=True, exist_ok=True)
            if written:
                os.replace(written[0], target)
            else:
                pq.write_table(pa.table({n: [] for n in data_schema.names}, schema=data_schema), target)
            for stale in target.parent.iterdir():
                if stale != target and not stale.name.startswith("."):
                    stale.unlink()
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run(engine: str, path: Path, work: Path, contract: str) -> dict[str, Any]:
    from taxi_assets.schema import SCHEMAS

    source = source_file(path)
    schema = SCHEMAS[source.service]
    lake = lake_at(work / "lake")
    start = time.perf_counter()
    if engine == "streaming":
        result = streaming(source, lake, schema, contract)
    else:
        writer = "duckdb" if engine == "duckdb" else "pyarrow"
        result = duckdb_steps(source, lake, schema, contract, work, writer)
    result["total_s"] = time.perf_counter() - start
    result["engine"] = engine
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--contract", default="evolve")
    parser.add_argument("--keep", action="store_true", help="keep the lake the steps wrote")
    args = parser.parse_args()
    try:
        print(json.dumps(run(args.engine, args.file, args.work, args.contract)), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    sys.stdout.flush()
    os._exit(0)  # as month.py's parts: native thread pools need no orderly teardown


if __name__ == "__main__":
    main()
