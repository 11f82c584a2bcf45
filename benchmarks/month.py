"""Benchmark: one real-size month through the pipeline, beside the course's approach, peers and the machine.

    .venv/bin/python benchmarks/month.py [--service yellow] [--rows 1369765] [--repeat 3]
                                         [--rows-big [N]] [--parts ...] [--big-parts ...] [--json FILE]
    .venv/bin/python benchmarks/month.py --service fhvhv --rows-big 24000000 \
                                         --big-parts ours,asset_materialize,machine

On one generated month of ``--service`` (default yellow: 2021-01 as the course's mirror publishes
it, CSV.gz; 1,369,765 rows by default, the size of yellow 2021-01; green and FHV likewise from the
mirror; high-volume FHV, which only the TLC publishes, as the TLC's parquet of 2019-03, its largest
month) it measures, each way in processes of its own so that every peak RSS is its own:
- ours, four ways, each running the month's assets (raw → cleaned + rejected → Postgres, with
  their checks) for the month, then the daily assets (daily lake → warehouse) over its days:
  - ``ours``: ``execute_job`` of the code location's own jobs on its in-process executor, as a code
    server launches runs; timed from the first launch to the last run's end, the code location
    loaded beforehand;
  - ``ours_multiprocess``: the same on Dagster's multiprocess executor (a process per step);
  - ``asset_materialize``: ``dagster asset materialize -m taxi_assets.definitions --select …
    --partition 2021-01``, then ``--partition-range 2021-01-01...2021-01-31``, as a user types it;
  - ``dg_launch``: ``dg launch --assets … --partition`` / ``--partition-range`` from the repo root;
  the two command-line ways are timed from process start to exit (imports and the code
  location's load included);
  (``--parts ours_materialize`` adds ``dg.materialize``, as tests and notebooks run assets);
- ``course``: the course's Mage blocks: pandas ``read_csv`` with its dtypes and ``parse_dates``,
  the passenger filter, ``DataFrame.to_sql`` in 100k chunks, ``write_to_dataset`` by pickup date
  (yellow only: written for the yellow file, it is left out for other services, saying so);
- ``machine``, the floor: reading the file (``gzip -dc`` of a CSV.gz; of a parquet file, pyarrow
  decoding every column, a row group at a time, since its pages are compressed column by column
  and nothing decompresses them apart from decoding) plus a server-side ``COPY … FROM`` of the
  rows a Dagster way cleaned (from its lake file, into a table made from that file's Arrow schema);
- the peers (``peers.py`` says how each is written), the one-script loaders a capable user would
  write instead, doing the same work on the same file (read it, clean it by the project's rules,
  replace the month in PostgreSQL, write the daily parquet dataset), each in a virtual environment
  of its own under ``.venv-peers/`` made on first use: ``duckdb``, one DuckDB SQL script with
  DuckDB's postgres extension; ``dlt``, pyarrow cleaning and two dlt pipelines (postgres, and
  filesystem with the delta format partitioned by pickup date). Each is timed from its work's start
  to its end (imports excluded, as ours is timed with the code location loaded), with the steps
  each tool times; the rows each left in PostgreSQL are counted there and must equal ours' cleaned
  rows. Figures: ours (in-process) / the fastest peer against issue 26's targets (yellow only,
  as the course is).
- ``steps_streaming``, ``steps_duckdb``, ``steps_duckdb_arrow`` (issue 33's spike; not in the
  default parts): the raw, cleaned + rejected and daily steps without Dagster, today's code and
  DuckDB (``engine.py`` says how each is written), each in a process of its own, printed beside
  ours' same steps in Dagster.

``--publisher tlc`` measures the month as the TLC publishes it (parquet) where the mirror's CSV.gz
is the default; the course's approach and the peers, written for the CSV.gz, are then left out.

Every way reads the same file through TAXI_SOURCE_URL_TEMPLATE (file://) and writes under a work
folder of its own (TAXI_LAKE_URI, DUCKDB_DATABASE, TAXI_WAREHOUSE=duckdb), a PostgreSQL schema of
its own (POSTGRES_SCHEMA, dropped afterwards; POSTGRES_* default to postgres@127.0.0.1:5432) and a
DAGSTER_HOME of its own holding the repo's ``dagster.yaml``, as the tests and the demo set them;
other TAXI_*, DUCKDB_* and DAGSTER_* variables are not inherited. Step and run times come from
each way's Dagster instance (its event log and run records).

Peak RSS: every process of a way is started by a small wrapper (``--measure``) that waits for
them all and reads ``getrusage(RUSAGE_CHILDREN).ru_maxrss``: the largest peak RSS of any single
process of the way (the issue's "any process"). The wrapper is a child subreaper, so processes
orphaned inside the tree are reaped by it and counted too. It exists because Linux hands a
process started by ``vfork``/``posix_spawn`` (Python's ``subprocess``) its parent's peak RSS as
its own starting ``ru_maxrss``: started by this script after it generated a 15M-row month, every
part would report at least that. The wrapper also samples the sum of RSS over the whole tree with
psutil every 0.25 s (shared pages counted per process; short spikes may be missed).

Figures are medians over ``--repeat`` runs (peaks: the largest). ``--rows-big N`` also measures a
month of N rows (without N, the service's largest published month: yellow 15,000,000, as in
2012-2014, fhvhv 23,864,598, 2019-03; ``--repeat-big`` runs, default 1; ``--big-parts``, by
default every way but the course, which would take about half an hour there) and prints each
way's big-month peak against the first month's. ``--json FILE`` writes every figure. Small sizes
(``--rows 100000 --repeat 1``) check that it runs.
"""

import argparse
import calendar
import contextlib
import ctypes
import datetime as dt
import functools
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import engine  # beside this file
import peers
from postgres_env import postgres_settings

if TYPE_CHECKING:
    import dagster as dg
    import psutil
    import pyarrow as pa

    from taxi_assets.resources.postgres import PostgresResource

YELLOW_2021_01 = 1_369_765
BIG_MONTH = 15_000_000
DEFAULT_SERVICE = "yellow"
# The month each service is measured on: the course's 2021-01 where the course's mirror has the
# service (its CSV.gz, which the course's approach reads), else the TLC's largest published month
# (high-volume FHV 2019-03: 23,864,598 rows in fhvhv_tripdata_2019-03.parquet, the most of any
# month of any service; see benchmarks/history.py's FHVHV_ROWS for where the counts come from).
MONTHS = {"yellow": "2021-01", "green": "2021-01", "fhv": "2021-01", "fhvhv": "2019-03"}
FHVHV_2019_03 = 23_864_598
BIG_ROWS = {"fhvhv": FHVHV_2019_03}  # --rows-big without N: the service's largest month, else BIG_MONTH
# The service and month a part runs, in its environment: Dagster's multiprocess executor starts
# each step in a process that imports this file again and calls the job's function, without args.
SERVICE_SETTING, MONTH_SETTING = "BENCH_SERVICE", "BENCH_MONTH"
MODULE = "taxi_assets.definitions"
REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TREE_SAMPLE_SECONDS = 0.25
ORPHAN_WAIT_SECONDS = 60.0

# Issue 17's targets.
COURSE_OVER_OURS = 20.0  # course / ours, in-process: at least
OURS_OVER_FLOOR = 2.5  # ours / (gzip -dc + server-side COPY), in the same run: at most
PEAK_RSS_MB = 1_500  # peak RSS of any process, 15M-row month: at most
BIG_OVER_SMALL_RSS = 1.10  # that peak / the 1.37M-row month's: at most
# Issue 26's: ours, in-process / the fastest peer, in the same run: at most (and the stretch).
OURS_OVER_PEER = 1.5
OURS_OVER_PEER_STRETCH = 1.2

# Our ways, in the order they run and print; what a reader calls each.
WAYS = {
    "ours": "execute_job, in-process",
    "ours_multiprocess": "execute_job, multiprocess",
    "asset_materialize": "dagster asset materialize",
    "dg_launch": "dg launch",
    "ours_materialize": "dg.materialize",
}
CLI_WAYS = ("asset_materialize", "dg_launch")
# After our ways (the machine reads what one of them cleaned), each in processes of its own.
# Issue 33's spike: the raw, cleaned + rejected and daily steps without Dagster, today's streaming
# code beside DuckDB (``engine.py`` says how each is written), each in a process of its own.
STEPS = {f"steps_{name}": name for name in engine.ENGINES}
OTHERS = ("machine", *peers.PEERS, "course", *STEPS)
DEFAULT_PARTS = (
    "ours",
    "ours_multiprocess",
    "asset_materialize",
    "dg_launch",
    "machine",
    *peers.PEERS,
    "course",
)
DEFAULT_BIG_PARTS = ("ours", "ours_multiprocess", "asset_materialize", "dg_launch", "machine")


def days_range(month: str) -> str:
    """The month's days as ``--partition-range`` takes them."""
    year, number = (int(part) for part in month.split("-"))
    return f"{month}-01...{month}-{calendar.monthrange(year, number)[1]:02d}"


def source_month(source: Path) -> tuple[str, str]:
    """The service and month of a source file, from its name (``fhvhv_tripdata_2019-03.parquet``)."""
    from taxi_assets.constants import SOURCE_FILE_STEM

    pattern = SOURCE_FILE_STEM.format(service=r"(?P<service>\w+?)", month=r"(?P<month>\d{4}-\d{2})")
    found = re.fullmatch(pattern + r"\..+", source.name)
    assert found, source
    return found["service"], found["month"]


def benchmarked() -> tuple[str, str]:
    """The service and month this part runs (and its step processes), from its environment."""
    return os.environ[SERVICE_SETTING], os.environ[MONTH_SETTING]


def postgres_of(schema: str) -> "PostgresResource":
    """The database a way runs against, at its own schema."""
    from taxi_assets.resources.postgres import PostgresResource

    settings = postgres_settings(POSTGRES_SCHEMA=schema)
    return PostgresResource(
        host=settings["POSTGRES_HOST"],
        port=int(settings["POSTGRES_PORT"]),
        dbname=settings["POSTGRES_DBNAME"],
        user=settings["POSTGRES_USER"],
        password=settings["POSTGRES_PASSWORD"],
        schema_name=schema,
    )


def drop_schema(schema: str) -> None:
    from taxi_assets.resources.sql import quote_ident

    with postgres_of(schema).connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")


def environment(source: Path, work: Path, schema: str) -> dict[str, str]:
    """What a part runs with: the tests' settings (test_cli.env_for, test_dg.dg_env), the venv
    activated for ``dg``, and nothing of this shell's own TAXI_*, DUCKDB_* or DAGSTER_* settings.
    """
    from taxi_assets.zone_shapes import SHAPES_FILE
    from taxi_dev.synthetic import source_file_name

    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("TAXI_", "DUCKDB_", "DAGSTER_"))}
    file_name = source_file_name("{service}", "{month}", source.name.split(".", 1)[1])
    service, month = source_month(source)
    return {
        **inherited,
        **postgres_settings(POSTGRES_SCHEMA=schema),
        SERVICE_SETTING: service,
        MONTH_SETTING: month,
        "TAXI_SOURCE_URL_TEMPLATE": f"{source.parent.as_uri()}/{file_name}",
        "TAXI_ZONE_SHAPES_URL": f"{source.parent.as_uri()}/{SHAPES_FILE}",
        "TAXI_LAKE_URI": str(work / "lake"),
        "TAXI_WAREHOUSE": "duckdb",
        "DUCKDB_DATABASE": str(work / "warehouse.duckdb"),
        "VIRTUAL_ENV": str(BIN.parent),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def dagster_home(work: Path) -> Path:
    """A DAGSTER_HOME with the repo's instance settings (queue, pools), as ``make demo`` makes one."""
    home = work / "dagster_home"
    home.mkdir(parents=True)
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    return home


def cleaned_file(work: Path, service: str, month: str) -> Path:
    """The month's cleaned file in a way's lake: ``{lake}/{service}/{stage}/YYYY-MM.parquet``."""
    from taxi_assets.keys import CLEANED, asset_key

    return work.joinpath("lake", *asset_key(service, CLEANED).path, f"{month}.parquet")


# --- the wrapper: `benchmarks/month.py --measure RESULT.json -- COMMAND…` ----------------------
def _become_subreaper() -> bool:
    """Orphaned descendants are re-parented here instead of to init, so their peaks are reaped here."""
    pr_set_child_subreaper = 36
    return ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0


def _tree_rss_bytes(me: "psutil.Process") -> int:
    import psutil

    total = 0
    for process in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def _reap_orphans(me: "psutil.Process", tree_peak: int) -> tuple[int, int]:
    """Wait (a bounded time) for descendants left running; the tree's peak, and how many are left."""
    deadline = time.monotonic() + ORPHAN_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return tree_peak, 0
        if pid == 0:
            tree_peak = max(tree_peak, _tree_rss_bytes(me))
            time.sleep(TREE_SAMPLE_SECONDS)
    return tree_peak, len(me.children())


def measure(result: Path, command: list[str]) -> int:
    """Run ``command``; write its wall time (start to exit) and the peak RSS of its process tree.

    This process imports nothing big before it starts ``command``: a child started by ``vfork``
    begins with its parent's peak as its own ``ru_maxrss``.
    """
    import psutil

    subreaper = _become_subreaper()
    me = psutil.Process()
    start = time.perf_counter()
    child = subprocess.Popen(command)
    tree_peak = 0
    while True:
        tree_peak = max(tree_peak, _tree_rss_bytes(me))
        try:
            child.wait(timeout=TREE_SAMPLE_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    wall = time.perf_counter() - start
    tree_peak, left = _reap_orphans(me, tree_peak) if subreaper else (tree_peak, 0)
    figures = {
        "wall_s": wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "tree_rss_mb": tree_peak / 2**20,
        "orphans_counted": subreaper and left == 0,
        "returncode": child.returncode,
    }
    result.write_text(json.dumps(figures))
    return child.returncode


# --- parts, each run as `benchmarks/month.py --part NAME --file F --work W` --------------------
def _range_tags(month: str) -> dict[str, str]:
    """The tags ``--partition-range`` gives a run of the month's days."""
    first, last = days_range(month).split("...")
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def month_job() -> "dg.JobDefinition":
    """The code location's own job of a source month, on its own (in-process) executor."""
    from taxi_assets.definitions import defs as load_definitions
    from taxi_assets.defs.jobs import monthly_job_name

    defs = load_definitions()

    return defs.resolve_job_def(monthly_job_name(benchmarked()[0]))


def days_job() -> "dg.JobDefinition":
    from taxi_assets.definitions import defs as load_definitions
    from taxi_assets.defs.jobs import daily_job_name

    defs = load_definitions()

    return defs.resolve_job_def(daily_job_name(benchmarked()[0]))


@functools.cache  # both jobs come from one code location, built once as a code server builds it
def _multiprocess_definitions() -> "dg.Definitions":
    """The code location's assets, resources and the service's two jobs on Dagster's own default
    executor (the code location replaces it with an in-process one: definitions.py says why).
    """
    import dagster as dg

    from taxi_assets.definitions import defs as load_definitions
    from taxi_assets.defs.jobs import daily_jobs, monthly_jobs

    defs = load_definitions()
    service, _ = benchmarked()

    return dg.Definitions(
        assets=list(defs.assets or []),
        asset_checks=list(defs.asset_checks or []),
        resources=defs.resources,
        jobs=[monthly_jobs[service], daily_jobs[service]],
        executor=dg.multiprocess_executor,
    )


def multiprocess_month_job() -> "dg.JobDefinition":
    from taxi_assets.defs.jobs import monthly_job_name

    return _multiprocess_definitions().resolve_job_def(monthly_job_name(benchmarked()[0]))


def multiprocess_days_job() -> "dg.JobDefinition":
    from taxi_assets.defs.jobs import daily_job_name

    return _multiprocess_definitions().resolve_job_def(daily_job_name(benchmarked()[0]))


def _launch(
    month: Callable[[], "dg.JobDefinition"], days: Callable[[], "dg.JobDefinition"]
) -> dict[str, object]:
    """A month's run, then a run of its days, launched as a code server launches them
    (``execute_job`` on the instance in DAGSTER_HOME; no output is kept in memory once its IO
    manager has stored it).
    """
    import dagster as dg

    _, partition = benchmarked()
    start = time.perf_counter()
    runs = [
        (dg.reconstructable(month), {"dagster/partition": partition}),
        (dg.reconstructable(days), _range_tags(partition)),
    ]
    for job, _ in runs:
        job.get_definition()  # the code location is loaded before any run, as a code server loads it
    load = time.perf_counter() - start
    with dg.DagsterInstance.get() as instance:
        start = time.perf_counter()
        for job, tags in runs:
            with dg.execute_job(job, instance=instance, tags=tags) as result:
                assert result.success
        total = time.perf_counter() - start
    return {
        "total_s": total,
        "load_s": load,
        "run_process_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def part_ours(source: Path, work: Path) -> dict[str, object]:
    """The code location's executor: every step in the run's process, one after another."""
    return _launch(month_job, days_job)


def part_ours_multiprocess(source: Path, work: Path) -> dict[str, object]:
    """Dagster's multiprocess executor: a process per step."""
    return _launch(multiprocess_month_job, multiprocess_days_job)


def part_ours_materialize(source: Path, work: Path) -> dict[str, object]:
    """``dg.materialize``, as tests and notebooks run assets: in-process, and it keeps every step's
    output in memory until the run ends (for ``output_for_node``), so its peak RSS is the sum.
    """
    import dagster as dg

    from taxi_assets.definitions import defs as load_definitions
    from taxi_assets.keys import DAILY_STAGES, MONTHLY_STAGES, asset_keys

    defs = load_definitions()

    service, month = benchmarked()
    assets = list(defs.assets or []) + list(defs.asset_checks or [])
    with dg.DagsterInstance.get() as instance:
        start = time.perf_counter()
        for stages, partition in ((MONTHLY_STAGES, {"partition_key": month}), (DAILY_STAGES, {})):
            result = dg.materialize(
                assets,
                instance=instance,
                resources=defs.resources,
                selection=dg.AssetSelection.assets(*asset_keys(service, stages)),
                tags=None if partition else _range_tags(month),
                **partition,
            )
            assert result.success
        total = time.perf_counter() - start
    return {"total_s": total, "run_process_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def part_course(source: Path, work: Path) -> dict[str, object]:
    """The course's Mage blocks, as written there, on the same file."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sqlalchemy import create_engine

    taxi_dtypes = {
        "VendorID": pd.Int64Dtype(),
        "passenger_count": pd.Int64Dtype(),
        "trip_distance": float,
        "RatecodeID": pd.Int64Dtype(),
        "store_and_fwd_flag": str,
        "PULocationID": pd.Int64Dtype(),
        "DOLocationID": pd.Int64Dtype(),
        "payment_type": pd.Int64Dtype(),
        "fare_amount": float,
        "extra": float,
        "mta_tax": float,
        "tip_amount": float,
        "tolls_amount": float,
        "improvement_surcharge": float,
        "total_amount": float,
        "congestion_surcharge": float,
    }
    parse_dates = ["tpep_pickup_datetime", "tpep_dropoff_datetime"]
    pg = postgres_settings(POSTGRES_SCHEMA=os.environ["POSTGRES_SCHEMA"])
    engine = create_engine(
        f"postgresql+psycopg2://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@{pg['POSTGRES_HOST']}:"
        f"{pg['POSTGRES_PORT']}/{pg['POSTGRES_DBNAME']}"
    )
    steps: dict[str, float] = {}
    start = time.perf_counter()
    t = time.perf_counter()
    data = pd.read_csv(source, sep=",", compression="gzip", dtype=taxi_dtypes, parse_dates=parse_dates)
    steps["load (read_csv)"] = time.perf_counter() - t
    t = time.perf_counter()
    data = data[data["passenger_count"] > 0]
    data.columns = data.columns.str.replace(" ", "_").str.lower()
    data["tpep_pickup_date"] = data["tpep_pickup_datetime"].dt.date
    steps["transform"] = time.perf_counter() - t
    t = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{pg["POSTGRES_SCHEMA"]}"')
    data.head(n=0).to_sql(
        "yellow_cab_data", engine, schema=pg["POSTGRES_SCHEMA"], if_exists="replace", index=False
    )
    for first in range(0, len(data), 100_000):
        data.iloc[first : first + 100_000].to_sql(
            "yellow_cab_data", engine, schema=pg["POSTGRES_SCHEMA"], if_exists="append", index=False
        )
    steps["export (to_sql, 100k chunks)"] = time.perf_counter() - t
    t = time.perf_counter()
    pq.write_to_dataset(
        pa.Table.from_pandas(data), root_path=str(work / "course_lake"), partition_cols=["tpep_pickup_date"]
    )
    steps["export (write_to_dataset)"] = time.perf_counter() - t
    return {"total_s": time.perf_counter() - start, "steps_s": steps, "rows": len(data)}


def _server_copy_table(postgres: "PostgresResource", schema: "pa.Schema") -> str:
    """A plain table with the cleaned file's columns, made here rather than by the project's loader,
    whose internals are not this benchmark's business.
    """
    from taxi_assets.resources.column_types import postgres_type
    from taxi_assets.resources.sql import quote_ident

    table = postgres.table("server_copy")
    columns = ", ".join(f"{quote_ident(field.name)} {postgres_type(field.type)}" for field in schema)
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(postgres.schema_name)}")
        cur.execute(f"CREATE TABLE {table} ({columns})")
    return table


def _read_parquet(source: Path) -> None:
    """Every column of every row group decoded into Arrow, and let go: what any reader of the file
    must do at least (a parquet file's pages are compressed and encoded column by column, so there
    is no ``gzip -dc`` of it on its own).
    """
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(source)
    for group in range(parquet.num_row_groups):
        parquet.read_row_group(group)  # a row group at a time: the floor's own peak RSS stays small


def part_machine(source: Path, work: Path, cleaned: Path) -> dict[str, object]:
    """What the machine itself does: read the file (``gzip -dc`` of a CSV.gz, pyarrow's decoding of
    every column of a parquet file); the server copying the cleaned rows in.
    """
    import dagster as dg
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from taxi_assets.resources.postgres import PostgresResource

    t = time.perf_counter()
    if source.suffix == ".parquet":
        _read_parquet(source)
    else:
        subprocess.run(["gzip", "-dc", str(source)], stdout=subprocess.DEVNULL, check=True)
    read_s = time.perf_counter() - t
    parquet = pq.ParquetFile(cleaned)  # read as batches: the floor's own peak RSS stays small
    csv = work / "cleaned.csv"
    with pacsv.CSVWriter(csv, parquet.schema_arrow) as writer:
        for batch in parquet.iter_batches():
            writer.write_batch(batch)
    csv.chmod(0o644)  # the PostgreSQL server process reads it itself
    with dg.build_resources({"postgres": PostgresResource()}) as built:  # the environment's settings
        postgres = built.postgres
    table = _server_copy_table(postgres, parquet.schema_arrow)
    t = time.perf_counter()
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"COPY {table} FROM '{csv}' (FORMAT csv, HEADER true)")
    copy_s = time.perf_counter() - t
    return {
        ("read_parquet_s" if source.suffix == ".parquet" else "gzip_dc_s"): read_s,
        "server_copy_s": copy_s,
        "total_s": read_s + copy_s,
        "rows": parquet.metadata.num_rows,
    }


def floor_read(machine: dict[str, Any]) -> str:
    """How the floor read the source, and how long it took."""
    if "read_parquet_s" in machine:
        return f"parquet read {machine['read_parquet_s']:.2f} s"
    return f"gzip -dc {machine['gzip_dc_s']:.2f} s"


PARTS = {
    "ours": part_ours,
    "ours_multiprocess": part_ours_multiprocess,
    "ours_materialize": part_ours_materialize,
    "course": part_course,
    "machine": part_machine,
}


# --- running a way, in processes of its own ----------------------------------------------------
def measured(command: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """``command`` under the wrapper, its output in ``log``.out / .err; the wrapper's figures."""
    result = log.with_suffix(".rss.json")
    wrapper = [sys.executable, __file__, "--measure", str(result), "--", *command]
    with log.with_suffix(".out").open("w") as out, log.with_suffix(".err").open("w") as err:
        completed = subprocess.run(wrapper, env=env, cwd=REPO, stdout=out, stderr=err)
    if completed.returncode != 0:
        tail = log.with_suffix(".err").read_text()[-5000:] + log.with_suffix(".out").read_text()[-3000:]
        raise SystemExit(f"{' '.join(command)} failed (exit {completed.returncode}):\n{tail}")
    return {"command": command, **json.loads(result.read_text())}


def cli_commands(way: str, service: str, month: str) -> list[list[str]]:
    """The month's assets for the month, then the daily assets over its days, as a user types them."""
    from taxi_assets.keys import DAILY_STAGES, MONTHLY_STAGES
    from taxi_dev.command_line import selection_string

    if way == "asset_materialize":
        base = [str(BIN / "dagster"), "asset", "materialize", "-m", MODULE, "--select"]
    else:
        base = [str(BIN / "dg"), "launch", "--assets"]  # the project from pyproject.toml's [tool.dg]
    return [
        [*base, selection_string(service, MONTHLY_STAGES), "--partition", month],
        [*base, selection_string(service, DAILY_STAGES), "--partition-range", days_range(month)],
    ]


def part_command(name: str, source: Path, work: Path, cleaned: Path | None = None) -> list[str]:
    command = [sys.executable, __file__, "--part", name, "--file", str(source), "--work", str(work)]
    return [*command, "--cleaned", str(cleaned)] if cleaned else command


def recorded_runs(home: Path, service: str) -> dict[str, Any]:
    """What a way's Dagster instance recorded: its runs' and steps' times, the month's cleaned rows."""
    import dagster as dg

    from taxi_assets.keys import CLEANED, asset_key

    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records()
        failed = [
            r.dagster_run.run_id for r in records if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS
        ]
        if failed or len(records) != 2:
            raise SystemExit(f"{home}: expected two successful runs, got {len(records)} ({failed} failed)")
        steps: dict[str, float] = {}
        for record in sorted(records, key=lambda r: r.create_timestamp):
            for entry in instance.all_logs(
                record.dagster_run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS
            ):
                event = entry.get_dagster_event()
                steps[event.step_key] = event.event_specific_data.duration_ms / 1000
        cleaned = instance.get_latest_materialization_event(asset_key(service, CLEANED))
        rows = cleaned.asset_materialization.metadata["dagster/partition_row_count"].value
    return {"runs_s": sum(r.end_time - r.start_time for r in records), "steps_s": steps, "cleaned_rows": rows}


def run_way(name: str, source: Path, work: Path) -> dict[str, Any]:
    """One of our ways, start to end: its processes' times and peaks, and what its runs recorded."""
    schema = f"bench_{name}_{uuid.uuid4().hex[:6]}"
    service, month = source_month(source)
    work.mkdir()
    home = dagster_home(work)
    env = {**environment(source, work, schema), "DAGSTER_HOME": str(home)}
    try:
        load_zone_shapes(service, month, env, work)
        if name in CLI_WAYS:
            commands = [
                measured(command, env, work / f"command{i}")
                for i, command in enumerate(cli_commands(name, service, month))
            ]
            own: dict[str, Any] = {}
        else:
            commands = [measured(part_command(name, source, work), env, work / "part")]
            own = json.loads((work / "part.out").read_text().strip().splitlines()[-1])
    finally:
        drop_schema(schema)
    wall = sum(c["wall_s"] for c in commands)
    return {
        **own,
        **recorded_runs(home, service),
        "commands": commands,
        "wall_s": wall,
        # What the course's time is set against: the runs alone where a code server would launch
        # them (the code location loaded), process start to exit where a user types a command.
        "compared_s": own.get("total_s", wall),
        "peak_rss_mb": max(c["peak_rss_mb"] for c in commands),
        "tree_rss_mb": max(c["tree_rss_mb"] for c in commands),
    }


def load_zone_shapes(service: str, month: str, env: dict[str, str], work: Path) -> None:
    """The zone shapes into a way's lake before a month that is placed in them (yellow 2009-2010),
    as a deployment has them loaded: not part of the month's figures.
    """
    from taxi_assets.keys import SHAPES_KEY
    from taxi_assets.placement import needs_placing
    from taxi_assets.publishers import TLC
    from taxi_assets.schema import SCHEMAS

    schema = SCHEMAS[service]
    layout = next((era for era in schema.layouts if era.publisher == TLC and era.covers(month)), None)
    if layout is None or not needs_placing({schema.published_as(f.name).name: f.name for f in layout.fields}):
        return
    command = [
        str(BIN / "dagster"),
        "asset",
        "materialize",
        "-m",
        MODULE,
        "--select",
        SHAPES_KEY.to_user_string(),
    ]
    with (work / "zone_shapes.log").open("w") as log:
        # An instance of its own (ephemeral): the way's instance records the month's two runs alone.
        alone = {k: v for k, v in env.items() if k != "DAGSTER_HOME"}
        subprocess.run(command, env=alone, cwd=work, check=True, stdout=log, stderr=subprocess.STDOUT)


def run_other(
    name: str, source: Path, work: Path, cleaned: Path | None, service: str, month: str
) -> dict[str, Any]:
    """The course, the machine or a peer, in a process of its own, under the wrapper."""
    schema = f"bench_{name}_{uuid.uuid4().hex[:6]}"
    work.mkdir()
    is_peer = name in peers.PEERS
    if is_peer:
        command = peers.command(name, source, work, month, service)
    elif name in STEPS:
        command = [sys.executable, engine.__file__, STEPS[name], "--file", str(source)]
        command += ["--work", str(work / "steps")]
    else:
        command = part_command(name, source, work, cleaned)
    try:
        process = measured(command, environment(source, work, schema), work / "part")
        # What a peer left in PostgreSQL, counted there before its schema goes.
        left = peers.loaded(postgres_of(schema), source) if is_peer else {}
    finally:
        drop_schema(schema)
    own = json.loads((work / "part.out").read_text().strip().splitlines()[-1])
    return {**own, **left, **{k: process[k] for k in ("wall_s", "peak_rss_mb", "tree_rss_mb")}}


# --- one month: generate, run every part, summarise --------------------------------------------
def generate(rows: int, folder: Path, service: str, month: str, publisher_name: str | None = None) -> Path:
    """The service's month as its publisher writes it: the mirror's CSV.gz where the mirror has the
    service (the course's approach and the floor's gzip -dc read that), else the TLC's parquet
    (high-volume FHV); written by the project's generator in a process of its own, so this one
    stays small (the generator itself streams: about 400 MB whatever the month's size).
    """
    from taxi_assets.publishers import MIRROR, PUBLISHERS, TLC
    from taxi_assets.zone_shapes import SHAPES_FILE
    from taxi_dev.synthetic import source_file_name
    from taxi_dev.synthetic_zones import write_zone_shapes

    mirror = PUBLISHERS[MIRROR]
    in_mirror = service in mirror.services and mirror.first_month(service) <= month <= mirror.newest_month()
    publisher = PUBLISHERS[publisher_name or (MIRROR if in_mirror else TLC)]
    out = folder / "source"
    # Yellow's 2009-2010 months are placed in these zones (TAXI_ZONE_SHAPES_URL, see environment()).
    write_zone_shapes(out / SHAPES_FILE)
    command = [str(BIN / "taxi-synthetic"), "--out", str(out), "--service", service, "--month", month]
    subprocess.run(
        [*command, "--rows", str(rows), "--publisher", publisher.name], check=True, stdout=subprocess.DEVNULL
    )
    return out / source_file_name(service, month, publisher.file_name.split(".", 1)[1])


def median_of(results: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def median_steps(results: list[dict[str, Any]]) -> dict[str, float]:
    return {k: statistics.median(r["steps_s"][k] for r in results) for k in results[0]["steps_s"]}


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of a part's times; the largest of its peaks."""
    times = [k for k in ("compared_s", "wall_s", "runs_s", "load_s", "total_s") if k in results[0]]
    times += [k for k in ("gzip_dc_s", "read_parquet_s", "server_copy_s") if k in results[0]]
    out: dict[str, Any] = {k: median_of(results, k) for k in times}
    if "steps_s" in results[0]:
        out["steps_s"] = median_steps(results)
    for peak in ("peak_rss_mb", "tree_rss_mb", "run_process_rss_mb"):
        if peak in results[0]:
            out[peak] = max(r[peak] for r in results)
    for count in ("cleaned_rows", "rows", "loaded_rows", "columns_as_ours"):
        if count in results[0]:
            out[count] = results[0][count]
    return out


@dataclass
class Figure:
    """A row of the figures table: what, how much, the issue's target and whether it is met."""

    figure: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None
    way: str | None = None  # which of WAYS (or of the peers), for a table built from --json

    def cells(self) -> str:
        if self.value is None:
            shown = "n/a"
        elif self.unit == "×":
            # Two decimals where a target is near 1 (ours / a peer), one where it is far (course / ours).
            shown = f"{self.value:.2f}×" if self.value < 10 else f"{self.value:.1f}×"
        elif self.unit == "MB":
            shown = f"{self.value:,.0f} MB"
        else:
            shown = f"{self.value:.2f}{self.unit}"
        met = "" if self.met is None else ("yes" if self.met else "**no**")
        return f"| {self.figure} | {shown} | {self.target} | {met} |"


def figures(
    ways: dict[str, dict[str, Any]], course: dict | None, machine: dict | None, service: str
) -> list[Figure]:
    """Issue 17's figures for one month: course / ours and ours / the floor, each way."""
    from taxi_assets.keys import POSTGRES, asset_key

    out: list[Figure] = []
    for name, way in ways.items():
        timed = "the runs" if name not in CLI_WAYS else "process start to exit"
        ratio = course["total_s"] / way["compared_s"] if course else None
        target, met = "", None
        if name == "ours":
            target, met = f"≥ {COURSE_OVER_OURS:.0f}×", None if ratio is None else ratio >= COURSE_OVER_OURS
        out.append(Figure(f"course / ours, {WAYS[name]} ({timed})", ratio, "×", target, met, name))
    if machine:
        floor = machine["total_s"]
        for name, way in ways.items():
            ratio = way["compared_s"] / floor
            target, met = "", None
            if name == "ours":
                target, met = f"≤ {OURS_OVER_FLOOR}×", ratio <= OURS_OVER_FLOOR
            out.append(
                Figure(
                    f"ours, {WAYS[name]} / ({floor_read(machine)} + COPY {machine['server_copy_s']:.2f} s)",
                    ratio,
                    "×",
                    target,
                    met,
                    name,
                )
            )
        if "ours" in ways:
            postgres = ways["ours"]["steps_s"].get(asset_key(service, POSTGRES).to_python_identifier())
            ratio = postgres / machine["server_copy_s"] if postgres is not None else None
            out.append(
                Figure(
                    "PostgreSQL step (in-process) / server-side COPY of the same rows", ratio, "", way="ours"
                )
            )
    for name, way in ways.items():
        out.append(
            Figure(
                f"peak RSS of any process, {WAYS[name]}",
                way["peak_rss_mb"],
                "MB",
                f"≤ {PEAK_RSS_MB:,} MB at 15M rows",
                way=name,
            )
        )
    return out


def peer_figures(ways: dict[str, dict[str, Any]], peer_results: dict[str, dict[str, Any]]) -> list[Figure]:
    """Issue 26's: ours (in-process) / each peer, and / the fastest against the targets; peers' peaks."""
    out: list[Figure] = []
    if "ours" in ways and peer_results:
        ours = ways["ours"]["compared_s"]
        for name, peer in peer_results.items():
            out.append(
                Figure(f"ours, {WAYS['ours']} / {name} ({peers.PEERS[name]})", ours / peer["total_s"], "×")
            )
        fastest = min(peer_results, key=lambda name: peer_results[name]["total_s"])
        ratio = ours / peer_results[fastest]["total_s"]
        label = f"ours, {WAYS['ours']} / the fastest peer ({fastest})"
        out.append(Figure(label, ratio, "×", f"≤ {OURS_OVER_PEER}×", ratio <= OURS_OVER_PEER, "ours"))
        out.append(
            Figure(
                f"{label}, stretch",
                ratio,
                "×",
                f"≤ {OURS_OVER_PEER_STRETCH}×",
                ratio <= OURS_OVER_PEER_STRETCH,
                "ours",
            )
        )
    for name, peer in peer_results.items():
        out.append(Figure(f"peak RSS of any process, {name}", peer["peak_rss_mb"], "MB", way=name))
    return out


def print_ways(ways: dict[str, dict[str, Any]]) -> None:
    """Each way's steps and totals side by side."""
    names = list(ways)
    print("| ours, s | " + " | ".join(WAYS[n] for n in names) + " |")
    print("| --- |" + " ---: |" * len(names))
    keys = list(dict.fromkeys(k for n in names for k in ways[n]["steps_s"]))
    for key in keys:
        print(
            f"| {key} | "
            + " | ".join(f"{ways[n]['steps_s'].get(key, float('nan')):.2f}" for n in names)
            + " |"
        )
    rows = [
        ("two runs, start to end (run records)", "runs_s", "{:.2f}"),
        ("code location load, before the runs", "load_s", "{:.2f}"),
        ("launch to the last run's end, code location loaded", "total_s", "{:.2f}"),
        ("process start to exit, all processes", "wall_s", "{:.2f}"),
        ("peak RSS of any process, MB", "peak_rss_mb", "{:,.0f}"),
        ("peak RSS of the run process, MB", "run_process_rss_mb", "{:,.0f}"),
        ("peak RSS summed over the process tree (sampled), MB", "tree_rss_mb", "{:,.0f}"),
    ]
    for label, key, fmt in rows:
        cells = [fmt.format(ways[n][key]) if key in ways[n] else "" for n in names]
        print(f"| {label} | " + " | ".join(cells) + " |")


def print_peers(
    ways: dict[str, dict[str, Any]], course: dict | None, peer_results: dict[str, dict[str, Any]]
) -> None:
    """Each peer's steps; then ours, the peers' and the course's times and peaks side by side."""
    for name, peer in peer_results.items():
        print(f"\n| {name} ({peers.PEERS[name]}), per step | s |\n| --- | ---: |")
        for key, seconds in peer["steps_s"].items():
            print(f"| {key} | {seconds:.2f} |")
        print(f"| **the work** | **{peer['total_s']:.2f}** |")
        print(f"| rows it left in PostgreSQL | {peer['loaded_rows']:,} |")
    beside = [(f"ours, {WAYS['ours']}", ways["ours"])] if "ours" in ways else []
    beside += [(f"{name} ({peers.PEERS[name]})", peer) for name, peer in peer_results.items()]
    beside += [("the course", course)] if course else []
    print("\n| way | the work, s | process start to exit, s | peak RSS of any process, MB |")
    print("| --- | ---: | ---: | ---: |")
    for label, way in beside:
        print(
            f"| {label} | {way.get('compared_s', way['total_s']):.2f} | {way['wall_s']:.2f} | "
            f"{way['peak_rss_mb']:,.0f} |"
        )


def print_others(course: dict | None, machine: dict | None) -> None:
    if course:
        print("\n| the course, per step | s |\n| --- | ---: |")
        for key, seconds in course["steps_s"].items():
            print(f"| {key} | {seconds:.2f} |")
        print(f"| **whole month** | **{course['total_s']:.2f}** |")
        print(f"| peak RSS | {course['peak_rss_mb']:,.0f} MB |")
    if machine:
        print(
            f"\nthe machine: {floor_read(machine)}, server-side COPY of "
            f"{machine['rows']:,} cleaned rows {machine['server_copy_s']:.2f} s"
        )


def print_steps(ways: dict[str, dict[str, Any]], steps: dict[str, dict[str, Any]], service: str) -> None:
    """Issue 33's spike: each engine's steps without Dagster, beside ours' same steps in Dagster."""
    from taxi_assets.keys import CLEANED, DAILY, RAW, asset_key

    in_dagster = ways.get("ours", {}).get("steps_s", {})
    of_ours = {
        "raw": asset_key(service, RAW).to_python_identifier(),
        "cleaned": asset_key(service, CLEANED).to_python_identifier(),
        "daily": asset_key(service, DAILY).to_python_identifier(),
    }
    names = list(steps)
    print("\n| steps, s | ours in Dagster | " + " | ".join(names) + " |")
    print("| --- | ---: |" + " ---: |" * len(names))
    for step, key in of_ours.items():
        ours = in_dagster.get(key)
        cells = [f"{steps[n]['steps_s'][step]:.2f}" for n in names]
        print(f"| {step} | {'' if ours is None else f'{ours:.2f}'} | " + " | ".join(cells) + " |")
    total = sum(in_dagster.get(k, 0.0) for k in of_ours.values())
    print(f"| the three | {total:.2f} | " + " | ".join(f"{steps[n]['total_s']:.2f}" for n in names) + " |")
    print("| process start to exit | | " + " | ".join(f"{steps[n]['wall_s']:.2f}" for n in names) + " |")
    print("| peak RSS, MB | | " + " | ".join(f"{steps[n]['peak_rss_mb']:,.0f}" for n in names) + " |")


def bench(
    rows: int,
    repeat: int,
    parts: list[str],
    folder: Path,
    service: str,
    month: str,
    publisher: str | None = None,
) -> dict[str, Any]:
    """One month: every part ``repeat`` times; its tables printed; its figures returned."""
    os.chmod(folder, 0o755)  # the PostgreSQL server process reads the machine part's CSV itself
    source = generate(rows, folder, service, month, publisher)
    print(
        f"\n## {service} {month}, {rows:,} source rows ({source.name}, "
        f"{source.stat().st_size / 1e6:.0f} MB), medians of {repeat} runs\n"
    )
    ours = [p for p in WAYS if p in parts]
    if "machine" in parts and not ours:
        raise SystemExit(
            "the machine part copies rows a way of ours cleaned: select one of " + ", ".join(WAYS)
        )
    runs: dict[str, list[dict[str, Any]]] = {p: [] for p in [*ours, *(o for o in OTHERS if o in parts)]}
    for i in range(repeat):
        run = folder / f"run{i}"
        run.mkdir()
        for name in ours:
            runs[name].append(run_way(name, source, run / name))
            print(f"  {name} {i + 1}/{repeat}: {runs[name][-1]['compared_s']:.2f} s", file=sys.stderr)
        for name in (o for o in OTHERS if o in parts):
            cleaned = cleaned_file(run / ours[0], service, month) if name == "machine" else None
            runs[name].append(run_other(name, source, run / name, cleaned, service, month))
            print(f"  {name} {i + 1}/{repeat}: {runs[name][-1]['total_s']:.2f} s", file=sys.stderr)
        shutil.rmtree(run)  # a big month's lakes, one per way, would fill a small disk
    ways = {name: summary(runs[name]) for name in ours}
    course = summary(runs["course"]) if "course" in runs else None
    machine = summary(runs["machine"]) if "machine" in runs else None
    peer_results = {name: summary(runs[name]) for name in peers.PEERS if name in runs}
    if ways:
        print_ways(ways)
    print_others(course, machine)
    steps = {name: summary(runs[name]) for name in STEPS if name in runs}
    if steps:
        print_steps(ways, steps, service)
    if peer_results:
        print_peers(ways, course, peer_results)
    month_figures = figures(ways, course, machine, service) + peer_figures(ways, peer_results)
    print("\n| figure | value | target | met |\n| --- | ---: | --- | --- |")
    for figure in month_figures:
        print(figure.cells())
    cleaned_rows = {ways[n]["cleaned_rows"] for n in ways}
    kept = f" / kept by the course {course['rows']:,}" if course else ""
    if ways:
        print(f"\ncleaned rows, every way of ours: {' / '.join(f'{n:,}' for n in cleaned_rows)}{kept}")
    if len(cleaned_rows) > 1:
        raise SystemExit("our ways disagree on the cleaned rows")
    peers.check_rows(cleaned_rows, {name: runs[name] for name in peer_results})
    return {
        "service": service,
        "month": month,
        "rows": rows,
        "source": source.name,
        "source_mb": source.stat().st_size / 1e6,
        "repeat": repeat,
        "summary": {
            **ways,
            **({"course": course} if course else {}),
            **({"machine": machine} if machine else {}),
            **peer_results,
            **steps,
        },
        "runs": runs,
        "figures": [asdict(f) for f in month_figures],
    }


def rss_figures(small: dict[str, Any], big: dict[str, Any]) -> list[Figure]:
    """Each way's peak on the big month, against the 1.5 GB target and the first month's peak."""
    out = []
    for name in WAYS:
        if name not in small["summary"] or name not in big["summary"]:
            continue
        peak, base = big["summary"][name]["peak_rss_mb"], small["summary"][name]["peak_rss_mb"]
        out.append(
            Figure(
                f"peak RSS of any process, {WAYS[name]}, {big['rows']:,} rows",
                peak,
                "MB",
                f"≤ {PEAK_RSS_MB:,} MB",
                peak <= PEAK_RSS_MB if big["rows"] >= BIG_MONTH else None,
                name,
            )
        )
        out.append(
            Figure(
                f"the same / {small['rows']:,} rows' ({base:,.0f} MB), {WAYS[name]}",
                peak / base,
                "",
                f"≤ {BIG_OVER_SMALL_RSS:.2f}",
                peak / base <= BIG_OVER_SMALL_RSS,
                name,
            )
        )
    return out


def commit() -> str:
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
    )
    return described.stdout.strip() or "unknown"


def parts_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in (*WAYS, *OTHERS)]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown parts {unknown}; choose from {', '.join([*WAYS, *OTHERS])}"
        )
    return names


def main() -> None:
    if sys.argv[1:2] == ["--measure"]:  # the wrapper: nothing else of this script runs in it
        sys.exit(measure(Path(sys.argv[2]), sys.argv[4:]))
    from taxi_assets.publishers import configured_services

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--service",
        choices=configured_services(),
        default=DEFAULT_SERVICE,
        help="whose month: " + ", ".join(f"{s} {m}" for s, m in MONTHS.items()),
    )
    parser.add_argument(
        "--month",
        help="which month (YYYY-MM) in its publisher's layout: the mirror's CSV.gz where it has the month, "
        "else the TLC's parquet (yellow 2009-2010: positions placed in zones); default: the service's "
        "month above",
    )
    parser.add_argument("--rows", type=int, default=YELLOW_2021_01, help="source rows (2021-01: 1,369,765)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--rows-big",
        type=int,
        nargs="?",
        const=0,
        help="also a month of this many rows (if none given, the service's largest: "
        f"fhvhv {FHVHV_2019_03:,}, else {BIG_MONTH:,}): peak RSS against --rows'",
    )
    parser.add_argument("--repeat-big", type=int, default=1)
    parser.add_argument("--parts", type=parts_list, default=list(DEFAULT_PARTS), help="comma-separated")
    parser.add_argument(
        "--big-parts", type=parts_list, default=list(DEFAULT_BIG_PARTS), help="comma-separated"
    )
    parser.add_argument(
        "--publisher",
        choices=("mirror", "tlc"),
        help="whose file: the mirror's CSV.gz (the default where the mirror has the service) "
        "or the TLC's parquet",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cleaned", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.month = args.month or MONTHS[args.service]
    if args.rows_big == 0:
        args.rows_big = BIG_ROWS.get(args.service, BIG_MONTH)
    if args.part:
        extra = {"cleaned": args.cleaned} if args.part == "machine" else {}
        print(json.dumps(PARTS[args.part](args.file, args.work, **extra)), flush=True)
        # The figures are out; skip interpreter teardown, where native thread pools have been
        # seen to abort the process ("terminate called without an active exception").
        os._exit(0)

    when = dt.datetime.now(dt.UTC)
    print(f"benchmarks/month.py at {commit()} on {os.cpu_count()} cores, {when:%Y-%m-%d %H:%M} UTC")
    yellow_only = ("course", *peers.PEERS)
    if (args.service != "yellow" or args.publisher == "tlc") and set(yellow_only) & set(
        args.parts + args.big_parts
    ):
        for parts in (args.parts, args.big_parts):
            parts[:] = [p for p in parts if p not in yellow_only]
        print(
            f"the course's approach and the peers are left out for {args.service} "
            f"({args.publisher or 'default'} publisher): they are written for "
            "the yellow CSV.gz (its dtypes, columns, passenger filter and tables)"
        )
    report: dict[str, Any] = {
        "argv": sys.argv[1:],
        "service": args.service,
        "month": args.month,
        "commit": commit(),
        "cores": os.cpu_count(),
        "started": when.isoformat(),
        "targets": {
            "course_over_ours_in_process_min": COURSE_OVER_OURS,
            "ours_over_floor_max": OURS_OVER_FLOOR,
            "peak_rss_mb_max_at_15m_rows": PEAK_RSS_MB,
            "big_over_small_peak_rss_max": BIG_OVER_SMALL_RSS,
            "ours_in_process_over_fastest_peer_max": OURS_OVER_PEER,
            "ours_in_process_over_fastest_peer_stretch": OURS_OVER_PEER_STRETCH,
        },
        "ways": WAYS,
        "peers": peers.PEERS,
        "months": [],
    }
    sizes = [(args.rows, args.repeat, args.parts)]
    if args.rows_big:
        sizes.append((args.rows_big, args.repeat_big, args.big_parts))
    for rows, repeat, parts in sizes:
        with tempfile.TemporaryDirectory(prefix="month-bench-") as tmp:
            report["months"].append(
                bench(rows, repeat, parts, Path(tmp), args.service, args.month, args.publisher)
            )
    if args.rows_big:
        report["rss"] = [asdict(f) for f in rss_figures(*report["months"])]
        print(f"\n## peak RSS: {args.rows_big:,} rows beside {args.rows:,}\n")
        print("| figure | value | target | met |\n| --- | ---: | --- | --- |")
        for figure in rss_figures(*report["months"]):
            print(figure.cells())
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
