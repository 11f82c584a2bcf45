"""The README's first command: one synthetic month through every asset, on the embedded defaults.

It writes a synthetic taxi zone lookup and loads it (each month is checked against it), and a
synthetic source month of each service the configured publisher has, as it publishes it (the
TLC's parquet layout of that month by default; ``TAXI_PUBLISHER=mirror``: the mirror's CSV.gz),
materialises each service's monthly assets for that month and its daily assets for each
of its days with ``dg launch`` (as a user would; one launch per service and calendar, since each
service has partitions of its own), and prints where every result is. Everything lands under
``./data``; nothing reaches the network. With no ``POSTGRES_HOST`` set, a throwaway PostgreSQL
keeps its data in ``data/postgres``.
"""

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from taxi_assets.constants import DEFAULT_DATA_DIR, ZONES_POSTGRES_TABLE, postgres_table, warehouse_table
from taxi_assets.defs.assets.zones import ZONES_KEY
from taxi_assets.keys import CLEANED, DAILY, DAILY_STAGES, MONTHLY_STAGES, RAW, REJECTED, selection_string
from taxi_assets.publishers import configured_publisher
from taxi_assets.zones import ZONES_FILE
from taxi_dev.local_postgres import start_local_postgres
from taxi_dev.supervise import run_until_stopped
from taxi_dev.synthetic import write_month, write_zone_lookup

MODULE = "taxi_assets.definitions"
REPO_ROOT = Path(__file__).resolve().parents[1]


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
        "TAXI_LAKE_URI": str((data_dir / "lake").resolve()),
        "DUCKDB_DATABASE": str((data_dir / "warehouse.duckdb").resolve()),
    }


def launch(selection: str, partition_args: Sequence[str]) -> None:
    """``dg launch`` of the code location, as a user types it."""
    dg_cli = Path(sys.executable).with_name("dg")
    command = [str(dg_cli), "launch", "-m", MODULE, "--assets", selection, *partition_args]
    print("$ dg", " ".join(command[1:]), flush=True)
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-20_000:] + completed.stderr[-20_000:])
        raise SystemExit(f"dg launch failed (exit {completed.returncode}); see the log above")


def postgres_rows(service: str) -> int:
    # Imported once the demo's settings are in the environment: the resource reads them then.
    from taxi_assets.resources.postgres import PostgresResource

    with dg.build_resources({"postgres": PostgresResource()}) as built:
        postgres = built.postgres
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {postgres.table(postgres_table(service))}")
        return cur.fetchone()[0]


def summary(env: dict[str, str], month: str) -> str:
    lake = Path(env["TAXI_LAKE_URI"])
    lines = [f"Done. Results of {month}:"]
    with duckdb.connect(env["DUCKDB_DATABASE"], read_only=True) as warehouse:
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
                f"table ny_taxi.{postgres_table(service)} ({postgres_rows(service):,} rows)",
                f"    warehouse {env['DUCKDB_DATABASE']} table ny_taxi.{table} "
                f"({rows:,} rows, {n_days} days)",
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
        workspace = str(REPO_ROOT / "workspace.yaml")
        dev = [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            workspace,
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
        ]
        raise SystemExit(run_until_stopped(dev, cwd=home))
    publisher = configured_publisher()
    # The zones first: each month's zone check reads them.
    path = write_zone_lookup(args.data_dir / "source" / ZONES_FILE)
    print(f"synthetic zone lookup: {path}")
    launch(ZONES_KEY.to_user_string(), [])
    for service in publisher.services:
        rows = args.fhvhv_rows if service == "fhvhv" else args.rows
        path = write_month(args.data_dir / "source", service, args.month, rows, publisher=publisher.name)
        print(f"synthetic source ({publisher.name}): {path} ({rows:,} rows)")

    first = pd.Period(args.month, "M")
    for service in publisher.services:
        launch(selection_string(service, MONTHLY_STAGES), ["--partition", args.month])
        days = f"{first.start_time:%Y-%m-%d}...{first.end_time:%Y-%m-%d}"
        launch(selection_string(service, DAILY_STAGES), ["--partition-range", days])
    print(summary(env, args.month))


if __name__ == "__main__":
    main()
