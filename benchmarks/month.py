"""Benchmark: one real-size month through the pipeline, beside the course's approach and the machine.

    .venv/bin/python benchmarks/month.py [--rows 1369765] [--repeat 3] [--big]

On one generated yellow month (1,369,765 rows, the size of 2021-01; ``--big`` adds a 7.7M-row
month, the size of 2019-01) it measures, each part in a process of its own so peak RSS is its own:
- ours: raw → cleaned → Postgres, then the month's days → daily lake → warehouse, through Dagster
  on the embedded defaults plus PostgreSQL, launched as a deployment launches runs
  (``execute_job``), once on the in-process executor and once on the multiprocess executor (the
  default of the UI, the CLI and the daemon; peak RSS is then the largest step process's);
  ``--part ours_materialize`` runs the same through ``dg.materialize``, which keeps every output in
  memory until the run ends;
- the course: pandas ``read_csv`` with its dtypes and ``parse_dates``, the passenger filter,
  ``DataFrame.to_sql`` in 100k chunks, ``pyarrow.parquet.write_to_dataset`` by pickup date;
- the machine: ``gzip -dc`` of the file and a server-side ``COPY … FROM`` of the cleaned rows.
PostgreSQL comes from POSTGRES_* (default postgres@127.0.0.1:5432/postgres); each part works in
a schema of its own, dropped afterwards. Figures are medians over ``--repeat`` runs.
"""

import argparse
import datetime as dt
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

YELLOW_2021_01 = 1_369_765
YELLOW_2019_01 = 7_667_792
MONTH = "2021-01"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def postgres_settings(schema: str) -> dict[str, str]:
    defaults = {
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": "5432",
        "POSTGRES_DBNAME": "postgres",
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": "",
    }
    return {**defaults, **{k: v for k, v in os.environ.items() if k in defaults}, "POSTGRES_SCHEMA": schema}


def drop_schema(schema: str) -> None:
    from taxi_assets.resources.postgres import PostgresResource
    from taxi_assets.resources.sql import quote_ident

    settings = postgres_settings(schema)
    postgres = PostgresResource(
        host=settings["POSTGRES_HOST"],
        port=int(settings["POSTGRES_PORT"]),
        dbname=settings["POSTGRES_DBNAME"],
        user=settings["POSTGRES_USER"],
        password=settings["POSTGRES_PASSWORD"],
        schema_name=schema,
    )
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")


# --- parts, each run as `benchmarks/month.py --part NAME --file F --work W` --------------------
def part_ours_materialize(source: Path, work: Path) -> dict[str, object]:
    """``dg.materialize``, as tests and notebooks run assets: in-process, and it keeps every step's
    output in memory until the run ends (for ``output_for_node``), so its peak RSS is the sum.
    """
    import dagster as dg

    from taxi_assets.definitions import defs

    _use_embedded_defaults(source, work)
    from taxi_assets.resources import build_resources

    resources = build_resources()
    keys = _keys()
    assets = list(defs.assets) + list(defs.asset_checks or [])
    steps: dict[str, float] = {}
    start = time.perf_counter()
    with dg.instance_for_test() as instance:
        monthly = dg.materialize(
            assets,
            instance=instance,
            resources=resources,
            partition_key=MONTH,
            selection=dg.AssetSelection.assets(
                keys["raw"], keys["cleaned"], keys["rejected"], keys["postgres"]
            ),
        )
        days = dg.materialize(
            assets,
            instance=instance,
            resources=resources,
            selection=dg.AssetSelection.assets(keys["daily"], keys["warehouse"]),
            tags={
                "dagster/asset_partition_range_start": f"{MONTH}-01",
                "dagster/asset_partition_range_end": f"{MONTH}-31",
            },
        )
    total = time.perf_counter() - start
    for result in (monthly, days):
        assert result.success
        for event in result.all_events:
            if event.event_type_value == "STEP_SUCCESS":
                steps[event.step_key] = event.event_specific_data.duration_ms / 1000
    [cleaned] = [m for m in monthly.get_asset_materialization_events() if m.asset_key == keys["cleaned"]]
    rows = cleaned.materialization.metadata["dagster/partition_row_count"].value
    return {"total_s": total, "steps_s": steps, "cleaned_rows": rows, "peak_rss_mb": peak_rss_mb()}


@functools.cache  # both jobs come from one code location, built once as a code server does
def _bench_definitions() -> "dg.Definitions":
    import dagster as dg

    from taxi_assets.definitions import defs
    from taxi_assets.resources import build_resources

    keys = _keys()
    return dg.Definitions(
        assets=list(defs.assets or []),
        asset_checks=list(defs.asset_checks or []),
        resources=build_resources(),
        jobs=[
            dg.define_asset_job(
                "bench_month",
                selection=dg.AssetSelection.assets(
                    keys["raw"], keys["cleaned"], keys["rejected"], keys["postgres"]
                ),
            ),
            dg.define_asset_job(
                "bench_days", selection=dg.AssetSelection.assets(keys["daily"], keys["warehouse"])
            ),
        ],
    )


def bench_month_job() -> "dg.JobDefinition":
    return _bench_definitions().resolve_job_def("bench_month")


def bench_days_job() -> "dg.JobDefinition":
    return _bench_definitions().resolve_job_def("bench_days")


def _keys() -> dict[str, "dg.AssetKey"]:
    from taxi_assets.keys import CLEANED, DAILY, POSTGRES, RAW, REJECTED, WAREHOUSE, asset_key

    stages = {
        "raw": RAW,
        "cleaned": CLEANED,
        "rejected": REJECTED,
        "postgres": POSTGRES,
        "daily": DAILY,
        "warehouse": WAREHOUSE,
    }
    return {name: asset_key("yellow", stage) for name, stage in stages.items()}


def _use_embedded_defaults(source: Path, work: Path) -> None:
    """The source file served as file://, the lake and DuckDB under ``work``."""
    os.environ.update(
        TAXI_SOURCE_URL_TEMPLATE=f"{source.parent.as_uri()}/{{service}}_tripdata_{{month}}.csv.gz",
        TAXI_LAKE_URI=str(work / "lake"),
        DUCKDB_DATABASE=str(work / "warehouse.duckdb"),
    )


def _run_ours(source: Path, work: Path, run_config: dict[str, object]) -> dict[str, object]:
    """A month's run, then a run of its days, launched as a deployment launches them
    (``execute_job``: no output is kept in memory once its IO manager has stored it).
    """
    import dagster as dg

    _use_embedded_defaults(source, work)
    steps: dict[str, float] = {}
    days = {
        "dagster/asset_partition_range_start": f"{MONTH}-01",
        "dagster/asset_partition_range_end": f"{MONTH}-31",
    }
    runs = [
        (dg.reconstructable(bench_month_job), {"dagster/partition": MONTH}),
        (dg.reconstructable(bench_days_job), days),
    ]
    for job, _ in runs:
        job.get_definition()  # the code location is loaded before any run, as a code server loads it
    with dg.instance_for_test() as instance:
        start = time.perf_counter()
        for job, tags in runs:
            with dg.execute_job(job, instance=instance, tags=tags, run_config=run_config) as result:
                assert result.success
                for event in result.all_events:
                    if event.event_type_value == "STEP_SUCCESS":
                        steps[event.step_key] = event.event_specific_data.duration_ms / 1000
        total = time.perf_counter() - start
        cleaned = instance.get_latest_materialization_event(_keys()["cleaned"])
        rows = cleaned.asset_materialization.metadata["dagster/partition_row_count"].value
    return {
        "total_s": total,
        "steps_s": steps,
        "cleaned_rows": rows,
        "peak_rss_mb": peak_rss_mb(),
        # Step processes, if any: the largest of their peaks.
        "step_process_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def part_ours(source: Path, work: Path) -> dict[str, object]:
    """Dagster's in-process executor: every step in the run's process, one after another."""
    return _run_ours(source, work, {"execution": {"config": {"in_process": {}}}})


def part_ours_multiprocess(source: Path, work: Path) -> dict[str, object]:
    """Dagster's multiprocess executor (Dagster's default, which this code location replaces with
    the in-process one): a process per step.
    """
    return _run_ours(source, work, {"execution": {"config": {"multiprocess": {}}}})


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
    pg = postgres_settings(os.environ["POSTGRES_SCHEMA"])
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
    return {
        "total_s": time.perf_counter() - start,
        "steps_s": steps,
        "rows": len(data),
        "peak_rss_mb": peak_rss_mb(),
    }


def part_machine(source: Path, work: Path) -> dict[str, object]:
    """What the machine itself does: decompress the file; the server copying the cleaned rows in."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from taxi_assets.resources import postgres_resource
    from taxi_assets.resources.postgres import replace_rows

    t = time.perf_counter()
    subprocess.run(f"gzip -dc '{source}' > /dev/null", shell=True, check=True)
    gzip_s = time.perf_counter() - t
    cleaned = pq.read_table(work / "lake" / "cleaned" / "yellow_trips" / f"{MONTH}.parquet")
    csv = work / "cleaned.csv"
    pacsv.write_csv(cleaned, csv)
    os.chmod(work, 0o755)
    os.chmod(csv, 0o644)
    postgres = postgres_resource().process_config_and_initialize()
    replace_rows(postgres, "server_copy", cleaned.slice(0, 0))
    t = time.perf_counter()
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"COPY {postgres.table('server_copy')} FROM '{csv}' (FORMAT csv, HEADER true)")
    copy_s = time.perf_counter() - t
    return {
        "gzip_dc_s": gzip_s,
        "server_copy_s": copy_s,
        "total_s": gzip_s + copy_s,
        "peak_rss_mb": peak_rss_mb(),
    }


PARTS = {
    "ours": part_ours,
    "ours_multiprocess": part_ours_multiprocess,
    "ours_materialize": part_ours_materialize,
    "course": part_course,
    "machine": part_machine,
}


def run_part(name: str, source: Path, work: Path) -> dict[str, object]:
    schema = f"bench_{name}_{uuid.uuid4().hex[:6]}"
    env = {**os.environ, **postgres_settings(schema)}
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--part", name, "--file", str(source), "--work", str(work)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except subprocess.CalledProcessError as failed:
        sys.exit(f"{name} failed:\n{failed.stderr[-5000:]}")
    finally:
        drop_schema(schema)
    return json.loads(out.strip().splitlines()[-1])


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def bench(rows: int, repeat: int, folder: Path) -> None:
    from taxi_assets.publishers import MIRROR
    from taxi_assets.synthetic import write_month

    os.chmod(folder, 0o755)  # the PostgreSQL server process reads the machine part's CSV itself
    # The mirror's CSV.gz: the course's approach and the machine's limits (gzip -dc, COPY) read CSV.
    source = write_month(folder / "source", "yellow", MONTH, rows, publisher=MIRROR)
    print(f"\n## {rows:,} source rows ({source.stat().st_size / 1e6:.0f} MB gzip), medians of {repeat} runs")
    ours, multi, course, machine = [], [], [], []
    for i in range(repeat):
        work = folder / f"run{i}"
        work.mkdir()
        ours.append(run_part("ours", source, work))
        (folder / f"multi{i}").mkdir()
        multi.append(run_part("ours_multiprocess", source, folder / f"multi{i}"))
        machine.append(run_part("machine", source, work))
        course.append(run_part("course", source, work))
    steps = {k: statistics.median(r["steps_s"][k] for r in ours) for k in ours[0]["steps_s"]}
    course_steps = {k: statistics.median(r["steps_s"][k] for r in course) for k in course[0]["steps_s"]}
    total, base = median(ours, "total_s"), median(course, "total_s")
    limit = median(machine, "total_s")
    cleaned = ours[0]["cleaned_rows"]
    print("| ours, per step | s |\n| --- | ---: |")
    for key, seconds in steps.items():
        print(f"| {key} | {seconds:.2f} |")
    print(f"| **whole month through Dagster** | **{total:.2f}** ({rows / total:,.0f} source rows/s) |")
    multi_steps = {k: statistics.median(r["steps_s"][k] for r in multi) for k in multi[0]["steps_s"]}
    multi_total = median(multi, "total_s")
    print("\n| ours, multiprocess executor (a process per step), per step | s |\n| --- | ---: |")
    for key, seconds in multi_steps.items():
        print(f"| {key} | {seconds:.2f} |")
    print(f"| **whole month through Dagster, multiprocess** | **{multi_total:.2f}** |")
    print("\n| the course, per step | s |\n| --- | ---: |")
    for key, seconds in course_steps.items():
        print(f"| {key} | {seconds:.2f} |")
    print(f"| **whole month** | **{base:.2f}** |")
    print("\n| figure | value | target |\n| --- | ---: | --- |")
    print(f"| course / ours (in-process) | {base / total:.1f}× | ≥ 15× |")
    print(f"| course / ours (multiprocess) | {base / multi_total:.1f}× | ≥ 15× |")
    postgres_step = steps.get("postgres__yellow_cab_data", float("nan"))
    copy_s = median(machine, "server_copy_s")
    print(f"| Postgres step / server-side COPY ({copy_s:.2f} s) | {postgres_step / copy_s:.2f} | ≤ 1.5 |")
    print(f"| ours / (gzip -dc {median(machine, 'gzip_dc_s'):.2f} s + COPY) | {total / limit:.1f}× | ≤ 3× |")
    print(f"| ours multiprocess / (gzip -dc + COPY) | {multi_total / limit:.1f}× | ≤ 3× |")
    one, step = max(r["peak_rss_mb"] for r in ours), max(r["step_process_rss_mb"] for r in multi)
    run = max(r["peak_rss_mb"] for r in multi)
    print(f"| peak RSS, ours, every step in one process | {one:,.0f} MB | ≤ 1,500 / 3,000 MB |")
    print(
        f"| peak RSS, ours multiprocess: largest step process / run process | {step:,.0f} / {run:,.0f} MB | |"
    )
    print(f"| peak RSS, course | {max(r['peak_rss_mb'] for r in course):,.0f} MB | |")
    print(f"| cleaned rows (ours) / kept (course) | {cleaned:,} / {course[0]['rows']:,} | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=YELLOW_2021_01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big", action="store_true", help=f"also a {YELLOW_2019_01:,}-row month")
    parser.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part](args.file, args.work)), flush=True)
        # The figures are out; skip interpreter teardown, where native thread pools have been
        # seen to abort the process ("terminate called without an active exception").
        os._exit(0)
    print(f"benchmarks/month.py on {os.cpu_count()} cores, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    for rows in [args.rows, *([YELLOW_2019_01] if args.big else [])]:
        with tempfile.TemporaryDirectory() as tmp:
            bench(rows, args.repeat, Path(tmp))


if __name__ == "__main__":
    main()
