"""Dagster's own share of a run (issue 33): the code location's load in a run worker, and a range
run's creation with the events it writes, on a throwaway instance.

    .venv/bin/python benchmarks/dagster_share.py [--days 31] [--repeat 3]

Each figure is measured in a fresh process (``--part``), as a run worker starts:
- ``load``: importing dagster, importing the code location's module, ``defs()``
  (``load_from_defs_folder``), and within it the plugin discovery Dagster's defs folder does on
  every load (``get_library_json_enriched_defs``: it imports every package registered under the
  ``dagster_dg_cli.registry_modules`` entry point and snapshots every component type, for the
  metadata ``dg`` and the UI show; timed alone, in another fresh process);
- ``create``: creating a run of the service's daily job over ``--days`` days (the range tags a
  backfill gives it) on a SQLite instance (the local ``dagster.yaml``), and the events that wrote:
  one ``ASSET_MATERIALIZATION_PLANNED`` per day and asset, unless
  ``DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS`` is set (one per asset; Dagster's
  ``event_log/base.py`` says it then no longer marks the partitions of a failed run as failed).
Prints a table of medians.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SUBSET_SETTING = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"


def part_load() -> dict[str, float]:
    start = time.perf_counter()
    import dagster  # noqa: F401

    imported = time.perf_counter()
    from taxi_assets.definitions import defs

    module = time.perf_counter()
    # The plugin discovery timed where it runs, inside the load (after the code location's own
    # imports, which it may share): Dagster's defs folder imports it from here at each build.
    from dagster.components.core import load_defs

    discovery = load_defs.get_library_json_enriched_defs
    spent: list[float] = []

    def timed(tree: Any) -> Any:
        begun = time.perf_counter()
        try:
            return discovery(tree)
        finally:
            spent.append(time.perf_counter() - begun)

    load_defs.get_library_json_enriched_defs = timed
    defs()
    built = time.perf_counter()
    return {
        "import dagster": imported - start,
        "import the code location": module - imported,
        "defs() (load_from_defs_folder)": built - module,
        "of which plugin discovery (get_library_json_enriched_defs)": sum(spent),
        "in all": built - start,
    }


def part_plugins() -> dict[str, float]:
    import dagster  # noqa: F401
    from dagster.components.core.load_defs import get_library_json_enriched_defs

    start = time.perf_counter()
    get_library_json_enriched_defs(None)
    return {"plugin discovery (get_library_json_enriched_defs)": time.perf_counter() - start}


def part_create(days: int) -> dict[str, float]:
    import dagster as dg

    from taxi_assets.definitions import defs
    from taxi_assets.defs.jobs import daily_job_name

    job = defs().resolve_job_def(daily_job_name("yellow"))
    first = dt.date(2019, 1, 1)
    last = first + dt.timedelta(days=days - 1)
    tags = {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }
    with dg.DagsterInstance.get() as instance:
        start = time.perf_counter()
        run = instance.create_run_for_job(job, tags=tags)
        created = time.perf_counter() - start
        planned = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, limit=100_000
        ).records
        checks = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED, limit=100_000
        ).records
    return {"create the run": created, "planned events": len(planned), "check planned events": len(checks)}


PARTS = {"load": part_load, "plugins alone": part_plugins}


def fresh(part: str, env: dict[str, str], days: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--part", part, "--days", str(days)]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def medians(results: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--part", choices=[*PARTS, "create"])
    args = parser.parse_args()
    if args.part:
        result = part_create(args.days) if args.part == "create" else PARTS[args.part]()
        print(json.dumps(result), flush=True)
        os._exit(0)
    print(f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load {os.getloadavg()[0]:.1f}")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "TAXI_"))}
    rows: dict[str, dict[str, float]] = {}
    for part in PARTS:
        rows[part] = medians([fresh(part, base, args.days) for _ in range(args.repeat)])
    for label, extra in (("per day", {}), ("subset", {SUBSET_SETTING: "true"})):
        results = []
        for _ in range(args.repeat):
            home = Path(tempfile.mkdtemp(prefix="dagster-share-"))
            shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
            try:
                results.append(fresh("create", {**base, **extra, "DAGSTER_HOME": str(home)}, args.days))
            finally:
                shutil.rmtree(home, ignore_errors=True)
        rows[f"create, {args.days} days, planned events {label}"] = medians(results)
    print(f"\n| medians of {args.repeat}, fresh processes | value |\n| --- | ---: |")
    for part, figures in rows.items():
        for name, value in figures.items():
            shown = f"{value:.0f}" if "events" in name else f"{value:.2f} s"
            print(f"| {part}: {name} | {shown} |")


if __name__ == "__main__":
    main()
