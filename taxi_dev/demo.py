"""The README's first command: one synthetic month through every asset, on the embedded defaults.

It writes a synthetic taxi zone lookup and a synthetic source month of each service the configured
publisher has, as it publishes it (the TLC's parquet layout of that month by default;
``TAXI_PUBLISHER=mirror``: the mirror's CSV.gz), and runs them as a deployment does: Dagster's
daemon starts the runs that ``dagster job launch`` queues (the zones, then each service's monthly
job), and its automation sends each month's days through the daily lake and the warehouse, then
the month through the dbt models and the revenue chart (docs/analytics.md). Then it prints where
every result is and the first rows of the revenue mart; ``make dev`` shows the same runs, each in
its code location.
Everything lands under ``./data``; nothing reaches the network. With no ``POSTGRES_HOST`` set, a
throwaway PostgreSQL keeps its data in ``data/postgres``.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from taxi_assets.constants import DEFAULT_DATA_DIR, ZONES_POSTGRES_TABLE, postgres_table, warehouse_table
from taxi_assets.defs.assets.analytics import analytics_partitions
from taxi_assets.defs.assets.charts import CHART_KEY, REVENUE_KEY
from taxi_assets.defs.jobs import monthly_job_name
from taxi_assets.keys import CLEANED, DAILY, POSTGRES, RAW, REJECTED, WAREHOUSE, ZONES_KEY, asset_key
from taxi_assets.partitions import daily_partitions
from taxi_assets.publishers import configured_publisher
from taxi_assets.zone_shapes import SHAPES_FILE
from taxi_assets.zones import ZONES_FILE
from taxi_dev.local_postgres import start_local_postgres
from taxi_dev.supervise import run_until_stopped, stop_group
from taxi_dev.synthetic import write_month, write_zone_lookup
from taxi_dev.synthetic_zones import write_zone_shapes

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = REPO_ROOT / "workspace.yaml"
# How long the month and its days may take, all services together.
WAIT_SECONDS = 900
# How long `make dev`'s dagster dev may take to stop by itself before what is left is killed.
DEV_GRACE_SECONDS = 60.0
# The backfills still under way, as the UI asks Dagster's GraphQL API for them.
BACKFILLS_QUERY = "{ partitionBackfillsOrError { ... on PartitionBackfills { results { id status } } } }"
UNFINISHED = ("REQUESTED", "CANCELING", "FAILING")


def demo_environment(data_dir: Path) -> dict[str, str]:
    """The settings the demo runs with: a file:// source and everything else under ``data_dir``
    (PostgreSQL too, unless ``POSTGRES_HOST`` names a server).
    """
    source = (data_dir / "source").resolve()
    postgres: dict[str, str] = {}
    if not os.environ.get("POSTGRES_HOST"):
        postgres = start_local_postgres(data_dir / "postgres", keep=False)
        print(f"no POSTGRES_HOST set: started a throwaway PostgreSQL in {data_dir / 'postgres'}")
    return {
        **postgres,
        "DAGSTER_HOME": str((data_dir / "dagster_home").resolve()),
        # The publisher's file names, in a local folder: its months and layouts, offline.
        "TAXI_SOURCE_URL_TEMPLATE": source.as_uri() + "/" + configured_publisher().file_name,
        "TAXI_ZONES_URL": (source / ZONES_FILE).as_uri(),
        "TAXI_ZONE_SHAPES_URL": (source / SHAPES_FILE).as_uri(),
        "TAXI_LAKE_URI": str((data_dir / "lake").resolve()),
        "DUCKDB_DATABASE": str((data_dir / "warehouse.duckdb").resolve()),
    }


def launch(job: str, tags: dict[str, str], home: Path) -> None:
    """``dagster job launch`` of one of the code location's jobs, as a user types it: queued, and
    started by the daemon.
    """
    command = [sys.executable, "-m", "dagster", "job", "launch", "-w", str(WORKSPACE), "-j", job]
    command += ["--tags", json.dumps(tags)] if tags else []
    print(f"$ dagster job launch -j {job}" + (f" --tags '{json.dumps(tags)}'" if tags else ""), flush=True)
    completed = subprocess.run(command, capture_output=True, text=True, cwd=home)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-20_000:] + completed.stderr[-20_000:])
        raise SystemExit(f"dagster job launch failed (exit {completed.returncode}); see the log above")


def wait_for(what: str, done: Callable[[dg.DagsterInstance], bool], log: Path) -> None:
    """Until ``done``; a run that failed for good (not to be retried), or the time, ends the demo."""
    deadline = time.monotonic() + WAIT_SECONDS
    with dg.DagsterInstance.get() as instance:
        while not done(instance):
            failed = [
                record.dagster_run
                for record in instance.get_run_records(
                    filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE])
                )
                if record.dagster_run.tags.get("dagster/will_retry") != "true"
            ]
            if failed:
                names = ", ".join(f"{run.job_name} ({run.run_id})" for run in failed)
                raise SystemExit(f"run(s) failed: {names}; `make dev` shows why, the daemon's log is {log}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{what} did not happen within {WAIT_SECONDS} s; the daemon's log is {log}")
            time.sleep(1)


def unfinished_backfills(home: Path) -> list[str]:
    """The backfills Dagster's backfill daemon has not finalised yet (a backfill whose runs all
    ended is marked done on the daemon's next pass, up to 30 s later).

    Asked through the GraphQL API the UI reads, by Dagster's own ``dagster-graphql`` command on a
    workspace with no code location (backfills are the instance's): the instance's own backfill
    methods are not public API.
    """
    workspace = home / "instance_only_workspace.yaml"
    workspace.write_text("load_from: []\n")
    command = [
        str(Path(sys.executable).with_name("dagster-graphql")),
        "-w",
        str(workspace),
        "-t",
        BACKFILLS_QUERY,
    ]
    asked = subprocess.run(command, capture_output=True, text=True, cwd=home)
    if asked.returncode != 0:
        raise SystemExit(f"dagster-graphql failed (exit {asked.returncode}): {asked.stderr[-2000:]}")
    answer = json.loads(asked.stdout.strip().splitlines()[-1])["data"]["partitionBackfillsOrError"]
    return [backfill["id"] for backfill in answer["results"] if backfill["status"] in UNFINISHED]


def zones_loaded(instance: dg.DagsterInstance) -> bool:
    return instance.get_latest_materialization_event(ZONES_KEY) is not None


def days_loaded(services: Sequence[str], month: str) -> Callable[[dg.DagsterInstance], bool]:
    """Whether every day of ``month`` is in each service's warehouse table (automation's doing)."""
    window = pd.Period(month, "M")
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range(window.start_time, window.end_time.normalize())]

    def done(instance: dg.DagsterInstance) -> bool:
        for service in services:
            status = instance.get_status_by_partition(
                asset_key(service, WAREHOUSE), days, daily_partitions(service)
            )
            if any(s != dg.AssetPartitionStatus.MATERIALIZED for s in (status or {}).values()) or not status:
                return False
        return True

    return done


# The first rows of the course's mart (which automation builds once the month's days are in the
# warehouse, its chart drawn after it) that the demo prints.
REVENUE_ROWS_SHOWN = 5


def analytics_built(month: str) -> Callable[[dg.DagsterInstance], bool]:
    """Whether the month's revenue mart has been built (dbt, started by automation)."""

    def done(instance: dg.DagsterInstance) -> bool:
        status = instance.get_status_by_partition(REVENUE_KEY, [month], analytics_partitions())
        return (status or {}).get(month) == dg.AssetPartitionStatus.MATERIALIZED

    return done


def chart_drawn(instance: dg.DagsterInstance) -> bool:
    """Whether the revenue chart was drawn after the mart's latest build (automation's doing)."""
    chart, mart = (instance.get_latest_materialization_event(k) for k in (CHART_KEY, REVENUE_KEY))
    return bool(chart and mart and chart.timestamp >= mart.timestamp)


def revenue_rows(warehouse: duckdb.DuckDBPyConnection) -> str:
    """The first rows of fct_monthly_zone_revenue, its biggest zones first, as a query prints them."""
    first = warehouse.execute(
        "select pickup_zone, revenue_month, service_type, total_monthly_trips, revenue_monthly_total_amount "
        f"from ny_taxi.{REVENUE_KEY.path[-1]} order by revenue_monthly_total_amount desc "
        f"limit {REVENUE_ROWS_SHOWN}"
    ).df()
    return first.to_string(index=False)


def postgres_rows(instance: dg.DagsterInstance, service: str) -> int:
    """The rows the month's load put in PostgreSQL, as its materialisation recorded them."""
    loaded = instance.get_latest_materialization_event(asset_key(service, POSTGRES))
    metadata = loaded.asset_materialization.metadata if loaded and loaded.asset_materialization else {}
    return int(metadata["dagster/partition_row_count"].value) if metadata else 0


def summary(env: dict[str, str], month: str) -> str:
    lake = Path(env["TAXI_LAKE_URI"])
    lines = [f"Done. Results of {month}:"]
    with (
        duckdb.connect(env["DUCKDB_DATABASE"], read_only=True) as warehouse,
        dg.DagsterInstance.get() as instance,
    ):
        for service in configured_publisher().services:
            table = warehouse_table(service)
            counts = {
                stage: len(pd.read_parquet(lake / service / stage / f"{month}.parquet", columns=[]))
                for stage in (RAW, CLEANED, REJECTED)
            }
            days = sorted((lake / service / DAILY).glob("pickup_date=*"))
            rows, n_days = warehouse.execute(
                f"select count(*), count(distinct pickup_date) from ny_taxi.{table}"
            ).fetchone()
            lines += [
                f"  {service}: raw {counts[RAW]:,} rows → cleaned {counts[CLEANED]:,} + rejected "
                f"{counts[REJECTED]:,}",
                f"    lake      {lake / service / CLEANED / f'{month}.parquet'}",
                f"    daily     {lake / service / DAILY}/pickup_date=…/ ({len(days)} days)",
                f"    postgres  {os.environ.get('POSTGRES_HOST', '127.0.0.1')} "
                f"table ny_taxi.{postgres_table(service)} ({postgres_rows(instance, service):,} rows)",
                f"    warehouse {env['DUCKDB_DATABASE']} table ny_taxi.{table} "
                f"({rows:,} rows, {n_days} days)",
            ]
        lines += [
            f"  analytics (dbt): {env['DUCKDB_DATABASE']} table ny_taxi.{REVENUE_KEY.path[-1]}, first rows:",
            *("    " + line for line in revenue_rows(warehouse).splitlines()),
        ]
    zones = lake / "zones" / "taxi_zones.parquet"
    lines.append(f"  zones: lake {zones}, postgres table ny_taxi.{ZONES_POSTGRES_TABLE}")
    lines += ["", "See the runs and assets in the Dagster UI, with the same settings: make dev"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="taxi-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2021-01", help="YYYY-MM (default 2021-01)")
    parser.add_argument("--rows", type=int, default=100_000, help="synthetic rows per service")
    parser.add_argument(
        "--fhvhv-rows",
        type=int,
        default=20_000,
        help="synthetic high-volume FHV rows (default 20,000: its 25 columns keep the demo quick)",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--ui", action="store_true", help="start `dagster dev` on the demo's settings instead of running"
    )
    parser.add_argument("--port", type=int, default=3000, help="the UI's port with --ui (default 3000)")
    args = parser.parse_args(argv)

    env = demo_environment(args.data_dir)
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    # The repo's instance settings (queue, pools); no DAGSTER_POSTGRES_* here, so SQLite.
    if (REPO_ROOT / "dagster.yaml").is_file():
        shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ.update(env)
    if args.ui:
        # A child, not exec: the throwaway PostgreSQL stops (at exit) when the UI does, and
        # Ctrl-C or SIGTERM to this process stops dagster dev and everything it started.
        # Started in DAGSTER_HOME, where the instance's dagster.yaml is: from the repo's root, dagster
        # dev would warn that the repo's copy "will not be used".
        dev = [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(WORKSPACE),
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
        ]
        # Only a graceful stop removes dagster dev's temporary files (its code servers' sockets, its
        # workspace file); its daemon can take longer than the default grace on a busy machine.
        raise SystemExit(run_until_stopped(dev, grace=DEV_GRACE_SECONDS, cwd=home))
    publisher = configured_publisher()
    path = write_zone_lookup(args.data_dir / "source" / ZONES_FILE)
    print(f"synthetic zone lookup: {path}")
    path = write_zone_shapes(args.data_dir / "source" / SHAPES_FILE)
    print(f"synthetic zone shapes: {path}")
    for service in publisher.services:
        rows = args.fhvhv_rows if service == "fhvhv" else args.rows
        path = write_month(args.data_dir / "source", service, args.month, rows, publisher=publisher.name)
        print(f"synthetic source ({publisher.name}): {path} ({rows:,} rows)")

    log = home / "daemon.log"
    with dg.DagsterInstance.get():
        pass  # its storage made once, here: the daemon and the first launch would race to make it
    with log.open("w") as out:
        daemon = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(WORKSPACE)],
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    print(f"started Dagster's daemon (log: {log})")
    try:
        # The zones first: each month's zone check reads them.
        launch("load_taxi_zones", {}, home)
        wait_for("the taxi zones to load", zones_loaded, log)
        for service in publisher.services:
            launch(monthly_job_name(service), {"dagster/partition": args.month}, home)
        print("waiting for the months, then for automation to load their days …", flush=True)
        wait_for("every day of the month in the warehouse", days_loaded(publisher.services, args.month), log)
        print("waiting for automation to build the month's dbt models …", flush=True)
        wait_for("the month's analytics (dbt)", analytics_built(args.month), log)
        # Then its chart, which automation draws once the mart is built: stopped before, its run
        # would be cut off.
        wait_for("the revenue chart", chart_drawn, log)
        # The daemon stops only once it has finalised the automation's backfills: stopped before,
        # `make dev` would show them successful with a duration still counting until it runs again.
        wait_for("the backfills to be finalised", lambda _: not unfinished_backfills(home), log)
    finally:
        stop_group(daemon, signal.SIGTERM)
    print(summary(env, args.month))


if __name__ == "__main__":
    main()
