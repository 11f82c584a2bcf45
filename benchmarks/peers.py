"""Peers: the one-script loaders a capable user would write instead of this project, on the same month.

Each does the work ours does with a yellow month as the mirror publishes it (CSV.gz): reads the
file once; cleans it by the project's rules (taxi_assets/transform.py: a pickup outside the month,
passenger_count missing or ≤ 0, trip_distance missing, NaN or ≤ 0 rejects a row; snake_case names
and ``pickup_date`` as the cleaned asset has them); puts the cleaned rows in ``yellow_cab_data`` in
POSTGRES_SCHEMA, replaced so that a rerun leaves the same rows; and writes them as a parquet dataset
with a folder per pickup date under ``WORK/lake/yellow/daily``:

- ``duckdb``: one DuckDB SQL script, ``peers.sql`` beside this file: ``read_csv``, the cleaning in
  SQL, the month replaced through DuckDB's postgres extension (binary COPY), and ``COPY … TO
  (FORMAT parquet, PARTITION_BY (pickup_date))``;
- ``dlt``: pyarrow's ``read_csv`` and compute for the cleaning, then the Arrow table fed to two dlt
  pipelines, as dlt's docs recommend for speed (Arrow tables skip dlt's row normaliser): destination
  postgres with write disposition ``replace`` (the whole table: dlt replaces tables, not a month of
  one) and ``parquet`` loaded through ADBC (the postgres destination's fast path for Arrow tables;
  ``csv``, the other one its docs give, took 2.8 times as long in a trial on the 1.37M-row month
  with compression off, 7.7 times with dlt's default gzip); and
  destination filesystem with the ``delta`` table format partitioned by ``pickup_date``. dlt's
  filesystem ``layout`` cannot place files by a column's value (its placeholders are the table, the
  load, the file and the load's time), so the delta format's ``partition`` hint is the nearest thing
  dlt documents: the same hive folders (``pickup_date=YYYY-MM-DD/part-….parquet``) plus a
  ``_delta_log``.

Both are written for yellow's mirror layout, as a user writes for the file in front of them. Each
runs in a virtual environment of its own, ``.venv-peers/NAME`` (git-ignored), made on first use from
``peers-NAME.txt``, where every version is pinned: duckdb-ext-postgres ships the extension for one
DuckDB release (1.4.4, older than the project's), and dlt would bring some twenty packages into the
project's environment for a benchmark's sake.

In a peer's environment this file runs as ``python benchmarks/peers.py NAME --file F --work W
--month YYYY-MM`` (POSTGRES_* set) and prints one JSON line: ``total_s`` (the work, imports
excluded), ``steps_s`` and ``rows`` (what it cleaned). Nothing here imports more than the standard
library at the top: the same file serves the benchmark's environment and each peer's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from postgres_env import postgres_settings  # beside this file

if TYPE_CHECKING:
    import pyarrow as pa

    from taxi_assets.resources.postgres import PostgresResource

HERE = Path(__file__).resolve().parent
VENVS = HERE.parent / ".venv-peers"
TABLE = "yellow_cab_data"
SERVICE = "yellow"

# What the benchmark calls each peer.
PEERS = {
    "duckdb": "DuckDB SQL script",
    "dlt": "dlt pipelines",
}


# --- the benchmark's side: environments, commands, what a peer loaded -------------------------
def python(name: str) -> Path:
    """The peer's interpreter, its environment made (or remade) when its pinned list changed."""
    venv = VENVS / name
    wanted = (HERE / f"peers-{name}.txt").read_text()
    stamp = venv / ".installed"
    if stamp.exists() and stamp.read_text() == wanted:
        return venv / "bin" / "python"
    print(f"making {venv.relative_to(HERE.parent)} (first use, about a minute)", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "-r", HERE / f"peers-{name}.txt"],
        check=True,
    )
    stamp.write_text(wanted)
    return venv / "bin" / "python"


def command(name: str, source: Path, work: Path, month: str, service: str) -> list[str]:
    """How the benchmark starts a peer: its own interpreter running this file."""
    if service != SERVICE:
        raise SystemExit(f"the peers are written for {SERVICE}'s mirror layout, not {service}'s")
    return [str(python(name)), __file__, name, "--file", str(source), "--work", str(work), "--month", month]


def loaded(postgres: PostgresResource, source: Path) -> dict[str, Any]:
    """What a peer left in PostgreSQL: its rows, and whether its columns are the project's names for
    the file's columns (plus ``pickup_date``), in the file's order.
    """
    import gzip

    from taxi_assets.resources.sql import quote_literal
    from taxi_assets.schema import PICKUP_DATE, YELLOW

    with gzip.open(source, "rt") as file:
        header = file.readline().strip().split(",")
    ours = [YELLOW.renames[name] for name in header] + [PICKUP_DATE]
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {postgres.table(TABLE)}")
        rows = cur.fetchone()[0]
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            f"{quote_literal(postgres.schema_name)} AND table_name = {quote_literal(TABLE)} "
            "ORDER BY ordinal_position"
        )
        columns = [row[0] for row in cur.fetchall()]
    return {"loaded_rows": rows, "columns_as_ours": columns == ours, "columns": columns}


def check_rows(ours: set[int], runs: dict[str, list[dict[str, Any]]]) -> None:
    """Every run of every peer left in PostgreSQL the rows ours cleaned (without ours: as many as the
    other peers), under the project's column names; if not, says so loudly and ends the benchmark.
    """
    left = {f"{name} run {i + 1}": run for name, results in runs.items() for i, run in enumerate(results)}
    if not left:
        return
    print("rows left in PostgreSQL: " + ", ".join(f"{k} {run['loaded_rows']:,}" for k, run in left.items()))
    wrong = []
    if len({run["loaded_rows"] for run in left.values()} | ours) > 1:
        cleaned = f" (ours cleaned {', '.join(f'{n:,}' for n in ours)})" if ours else ""
        wrong.append(f"the rows left in PostgreSQL disagree{cleaned}")
    wrong += [
        f"{k} named its columns {run['columns']}" for k, run in left.items() if not run["columns_as_ours"]
    ]
    if wrong:
        banner = "!" * 78
        for stream in (sys.stdout, sys.stderr):
            print(f"\n{banner}\nMISMATCH: {'; '.join(wrong)}\n{banner}\n", file=stream, flush=True)
        raise SystemExit("the peers did not load what ours does")


# --- the peers, each in its own environment ----------------------------------------------------
def _month(month: str) -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(f"{month}-01")
    return first, (first + dt.timedelta(days=32)).replace(day=1)


def _postgres() -> dict[str, str]:
    """The benchmark's POSTGRES_* settings, the way's own schema included (``public`` run alone)."""
    return postgres_settings(POSTGRES_SCHEMA=os.environ.get("POSTGRES_SCHEMA", "public"))


def _statement_label(sql: str) -> str:
    lines = [line.strip() for line in sql.strip().splitlines()]
    first = next(line for line in lines if line and not line.startswith("--"))
    return first if len(first) <= 60 else first[:59] + "…"


def run_duckdb(source: Path, work: Path, month: str) -> dict[str, Any]:
    """``peers.sql`` statement by statement, each one timed."""
    import duckdb
    import duckdb_ext

    pg = _postgres()
    # The postgres extension connects as libpq does, from the PG* variables.
    os.environ.update(
        PGHOST=pg["POSTGRES_HOST"],
        PGPORT=pg["POSTGRES_PORT"],
        PGDATABASE=pg["POSTGRES_DBNAME"],
        PGUSER=pg["POSTGRES_USER"],
        PGPASSWORD=pg["POSTGRES_PASSWORD"],
    )
    first, end = _month(month)
    lake = work / "lake" / SERVICE / "daily"
    lake.parent.mkdir(parents=True, exist_ok=True)  # COPY … PARTITION_BY makes the last folder only
    script = string.Template((HERE / "peers.sql").read_text())
    values = {"source": str(source), "month_start": first, "month_end": end, "lake": str(lake)}
    statements = duckdb.extract_statements(
        script.substitute(
            {k: str(v).replace("'", "''") for k, v in values.items()},
            schema='"' + pg["POSTGRES_SCHEMA"].replace('"', '""') + '"',
        )
    )
    # Each step named by its statement with the placeholders' names in them, the same every run.
    named = script.substitute({k: k for k in values}, schema="schema")
    labels = [_statement_label(statement.query) for statement in duckdb.extract_statements(named)]
    steps: dict[str, float] = {}
    start = time.perf_counter()
    # The extension comes from the duckdb-ext-postgres wheel: nothing is downloaded.
    with duckdb_ext.init(duckdb.connect()) as con:
        for label, statement in zip(labels, statements, strict=True):
            t = time.perf_counter()
            con.execute(statement)
            steps[label] = time.perf_counter() - t
        rows = con.sql("SELECT count(*) FROM cleaned").fetchone()[0]
    return {"total_s": time.perf_counter() - start, "steps_s": steps, "rows": rows}


_YELLOW_INTEGERS = ("VendorID", "passenger_count", "RatecodeID", "payment_type")


def _cleaned_month(source: Path, first: dt.date, end: dt.date) -> pa.Table:
    """The month read in one go (pyarrow parses on every core) and cleaned with Arrow compute."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    # The mirror writes these integers as 1.0: read as floats, then made integers.
    types = {name: pa.float64() for name in _YELLOW_INTEGERS}
    types |= {"tpep_pickup_datetime": pa.timestamp("us"), "tpep_dropoff_datetime": pa.timestamp("us")}
    trips = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(column_types=types))
    for name in _YELLOW_INTEGERS:
        trips = trips.set_column(trips.schema.get_field_index(name), name, pc.cast(trips[name], pa.int64()))
    pickup = trips["tpep_pickup_datetime"]
    start, stop = (pa.scalar(dt.datetime.combine(day, dt.time()), pa.timestamp("us")) for day in (first, end))
    # A null fails every comparison and filter() drops it; NaN > 0 is false in Arrow.
    keep = pc.and_(
        pc.and_(pc.greater_equal(pickup, start), pc.less(pickup, stop)),
        pc.and_(pc.greater(trips["passenger_count"], 0), pc.greater(trips["trip_distance"], 0.0)),
    )
    trips = trips.filter(keep)
    # dlt's snake_case naming turns VendorID into vendor_id and PULocationID into pu_location_id,
    # as the project does, so the published names go in as they are.
    return trips.append_column("pickup_date", pc.cast(trips["tpep_pickup_datetime"], pa.date32()))


def _traced(pipeline: Any, prefix: str) -> dict[str, float]:
    """A dlt run's own step times (extract, normalize, load) from its trace."""
    return {
        f"{prefix}: {step.step}": (step.finished_at - step.started_at).total_seconds()
        for step in pipeline.last_trace.steps
        if step.step != "run"
    }


def _wall_clock() -> dict[str, dict[str, Any]]:
    """Trip times are New York wall-clock times: timestamps without a zone, as the project keeps them
    (dlt gives naive times a zone unless told). New dicts each call: dlt writes names into hints.
    """
    return {
        name: {"data_type": "timestamp", "timezone": False}
        for name in ("tpep_pickup_datetime", "tpep_dropoff_datetime")
    }


def run_dlt(source: Path, work: Path, month: str) -> dict[str, Any]:
    """Read and clean with pyarrow; dlt loads PostgreSQL, then writes the daily delta dataset."""
    # dlt sends anonymous usage telemetry by default: this machine has no network to wait on.
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt

    pg = _postgres()
    user, password = quote(pg["POSTGRES_USER"], safe=""), quote(pg["POSTGRES_PASSWORD"], safe="")
    credentials = (
        f"postgresql://{user}:{password}@{pg['POSTGRES_HOST']}:{pg['POSTGRES_PORT']}/"
        f"{quote(pg['POSTGRES_DBNAME'], safe='')}"
    )
    steps: dict[str, float] = {}
    start = time.perf_counter()
    trips = _cleaned_month(source, *_month(month))
    steps["read and clean (pyarrow)"] = time.perf_counter() - start
    to_postgres = dlt.pipeline(
        pipeline_name="yellow_postgres",
        destination=dlt.destinations.postgres(credentials),
        dataset_name=pg["POSTGRES_SCHEMA"],
        pipelines_dir=str(work / "dlt"),
    )
    to_postgres.run(
        trips,
        table_name=TABLE,
        write_disposition="replace",
        loader_file_format="parquet",
        columns=_wall_clock(),
    )
    steps |= _traced(to_postgres, "postgres")
    to_lake = dlt.pipeline(
        pipeline_name="yellow_lake",
        destination=dlt.destinations.filesystem((work / "lake").as_uri()),
        dataset_name=SERVICE,
        pipelines_dir=str(work / "dlt"),
    )
    days = dlt.resource(
        trips,
        name="daily",
        write_disposition="replace",
        table_format="delta",
        columns={**_wall_clock(), "pickup_date": {"partition": True}},
    )
    to_lake.run(days)
    steps |= _traced(to_lake, "lake")
    return {"total_s": time.perf_counter() - start, "steps_s": steps, "rows": trips.num_rows}


RUNS = {"duckdb": run_duckdb, "dlt": run_dlt}


def main() -> None:
    parser = argparse.ArgumentParser(description="Run one peer on a month's file (in its own environment).")
    parser.add_argument("peer", choices=RUNS)
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--month", required=True, help="YYYY-MM")
    args = parser.parse_args()
    print(json.dumps(RUNS[args.peer](args.file, args.work, args.month)), flush=True)
    # As month.py's parts: the figures are out; native thread pools need no orderly teardown.
    os._exit(0)


if __name__ == "__main__":
    main()
