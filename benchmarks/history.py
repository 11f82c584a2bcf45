"""Benchmark: a history of trip months backfilled as a user would (the course's by default), then
the analytics built on them.

    .venv/bin/python benchmarks/history.py [--service yellow,green] [--months N] [--scale 1]
                                           [--days backfill|automation] [--no-analytics]
                                           [--json figures.json]
    .venv/bin/python benchmarks/history.py --months 2 --scale 0.01     # the quick check
    .venv/bin/python benchmarks/history.py --months 2 --scale 0.01 --days automation
    .venv/bin/python benchmarks/history.py --service fhvhv             # the high-volume FHV year

Services (``--service``, repeatable or comma-separated): the course's yellow and green, 2019-01 …
2021-07 (the default, 132.4M rows), and high-volume FHV, 2019-02 … 2020-01 (255.2M rows: its
first year, the largest months the TLC has published).

What it does, in a throwaway setting that it removes at the end (also on Ctrl-C or a failure):
- prints what the run will hold on disk (``BYTES_PER_ROW`` × the planned rows: the source files,
  the lake's raw, cleaned + rejected and daily files, the PostgreSQL table and DuckDB, with
  headroom for a month being written and PostgreSQL's WAL) and the free space where they go (the
  work folder under TMPDIR; PostgreSQL's data directory if it is on this machine), and refuses to
  start if it does not fit;
- generates every month of each service at the size the TLC published it (``TLC_ROWS`` and
  ``FHVHV_ROWS`` below; ``--scale`` multiplies every month, ``--months N`` keeps the first N
  months of each service) with ``taxi_dev.synthetic.write_month``, in ``--workers`` processes, in
  the TLC's parquet layout of each month, and serves the files at the TLC's paths
  (``/trip-data/{service}_tripdata_{month}.parquet``) from a local HTTP server that counts
  requests, as a mirror of the TLC's files; generation is timed on its own and is not part of the
  backfill's wall time; a synthetic taxi zone lookup (``taxi_dev.synthetic.write_zone_lookup``)
  is served at the TLC's path of it too (``TAXI_ZONES_URL``);
- starts ``dagster-webserver`` and ``dagster-daemon run`` from the venv on the repo's
  ``workspace.yaml``, with a ``DAGSTER_HOME`` holding ``deploy/dagster.yaml`` as it is (Dagster's
  storage on PostgreSQL, in a database created for the run and dropped with FORCE afterwards; the
  run queue's and pools' limits in force) and the Dagster settings of the deployment's image
  (``DAGSTER_EVENT_BATCH_SIZE``, from the Dockerfile); the trips go to a PostgreSQL schema of
  their own, a temporary lake folder and DuckDB file;
- turns off ``follow_upstream``, the automation sensor (so only the benchmark's backfills run),
  and loads the zones (the ``load_taxi_zones`` job, launched as the UI's "Launch run" does; not
  timed): a deployment has them before its history, the months' zone checks read them and the
  models join them; then through
  the GraphQL API the UI uses launches ONE partition backfill of the monthly assets of the
  services over their months, waits for it, then ONE of the daily assets over every day of those
  months (``--days backfill``, the default: the UI user's two backfills), then ONE of the
  analytics over those months (below); with ``--days
  automation`` it leaves ``follow_upstream`` running, as a deployment does, loads the zones,
  launches the monthly backfill alone and waits until the sensor has sent every day of every
  month through the daily lake and the warehouse (each month's days requested as the month
  lands) and every month through the analytics (each month's models requested once its days are
  all in the warehouse, the zones' dimension after the zones, the chart after the mart), every
  partition materialised, the dimension and the chart newer than what they read, and no run is
  left. The automation's runs are split by their assets: the "daily" line is the runs of the
  days, its wall time the tail from the months' end to the last day run's end; the "analytics"
  line the runs of the models, its wall time the tail from there to the last analytics run's end.
  Asset keys come from ``taxi_assets.keys``; partition keys and table names from the
  asset nodes in GraphQL. Where the API refuses one backfill across services (their partitions
  differ), it says so and launches one per service.
- The analytics are the ``analytics`` group's assets (dbt's models through dagster-dbt, the
  chart) whose every upstream asset the benchmark loads (the services' warehouse tables, the
  zones) or is one of them: what automation builds, and what a user selects, since a model over a
  service not loaded (``stg_fhv_tripdata``) reads a table that does not exist. Each partitioned
  one over the months of the services it reads; the dimension and the chart as themselves. They
  are built by default: the issue's figure is the analytics' share of the history's wall time
  (at most 20% more), which the one command that measures the history then gives;
  ``--no-analytics`` measures the loads alone (with ``--days backfill`` only: under ``--days
  automation`` the sensor builds them whatever the benchmark does). With ``--days backfill`` they
  come as a third backfill, as a UI user selects the group and backfills it over the months once
  the days are in: one backfill as the other two, so its wall time is the analytics' own, beside
  the loads' (one backfill of the days and the models together would hide it); it also orders the
  runs itself (the dimension, then the months, as one run: the models' single-run policy, then the
  chart).

What it measures and checks (exit status 1 if any check fails, 2 on a usage or set-up error):
- wall time of each backfill (launch to the backfill's end, seen by polling every second) and in
  all, and the rows per second of the loads (months and days);
- the analytics: their wall time (``--days backfill``: their backfill's; ``--days automation``:
  the tail after the last day run, and their runs' span beside the days'), the wall time in all
  (the months' launch to the analytics done), their runs and statuses (each must succeed), their
  wall time against the loads' (the issue's target: at most 20%), the peak RSS of each run worker
  that ran dbt (dagster-dbt runs the dbt CLI as the worker's child: the sampler walks the process
  trees, so it sees dbt, and sums the worker and its children at each instant), dbt's alone; and
  the marts' trips per service and month against the warehouse's (``MARTS``: the revenue mart
  counts the taxis' trips with a known vendor, one per vendor, second, pickup zone and service;
  the high-volume mart every trip): equal, and more than none, for every month;
- runs launched per backfill and their statuses; every run must succeed (the failure of a run
  that did not is printed from its event log);
- run start-up overhead, beside the wall time: for every run, its launch (the RUN_STARTING event:
  its worker is started, the code location loaded, the run set up) to its first step's start, and
  its last step's end to the run's end, from the runs' stats and step stats in GraphQL; summed
  over the runs and the median run's. Runs overlap, so the wall time it costs is about the sum
  over the runs at once: what fewer, bigger runs would save;
- source downloads: every month's file must be fetched exactly once (GET answered 200);
- peak RSS of every process of the web server's and the daemon's process trees (the web server,
  the daemon, their code servers, each run worker), sampled every 0.5 s with psutil: the largest
  per kind of process, and the largest sum over all of them at one instant;
- rows per sink against the generated totals, per service and month: lake raw = generated,
  cleaned + rejected = generated, and PostgreSQL, the daily lake and DuckDB each = cleaned;
- bytes per sink at the end, per generated row (what ``BYTES_PER_ROW`` records), and what that
  makes for each service's whole range at ``--scale 1``.

Also printed: where each backfill's wall time goes (launch → first run, the runs, last run →
backfill done; the backfill and queue daemons tick every few seconds to 30 s) and how many runs
ran at once. ``--remove yellow/2019-02`` deletes a month's file after generating it, to see the
checks fail; ``--keep`` keeps the work folder (source, lake, DuckDB, the processes' logs).

``TLC_ROWS`` are the rows of each month's file in the DataTalksClub mirror of the TLC's trip files
(the CSV.gz files the course downloads), 132.4M in all (the issue says "about 125M"). The TLC's
own parquet re-issue has a few more rows in some 2019-2020 months. Cross-checked against public
figures (course homework answers and published per-file counts of the re-issue): the yearly totals
of yellow 2019 (84,399,019), yellow 2020 (24,648,499) and green 2020 (1,734,051); yellow 2019-01,
-02, -03 and 2021-03; green 2019-01; and every month the re-issue left unchanged (yellow 2019-07
… 2020-01, 2020-07, 2021-02 … 2021-07; green 2019-07 … 2020-02, 2020-08 … 2021-07). Yellow
2019-04 … 06 and green 2019-02 … 06 are the mirror's counts as commonly quoted, not cross-checked
here; the other 2020 months agree with the re-issue within a few rows. They are the sizes of the
TLC-layout months served here. ``FHVHV_ROWS`` are the TLC's own per-file counts (where they come
from is written beside them). A month is generated with at least 100 rows, whatever ``--scale``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from postgres_env import postgres_settings  # beside this file
from process_memory import RssSampler  # beside this file

from taxi_dev import image, supervise
from taxi_dev.synthetic import write_zone_lookup

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOCATION = {"repositoryLocationName": "taxi_assets", "repositoryName": "__repository__"}
AUTOMATION_SENSOR = "follow_upstream"
ZONES_JOB = "load_taxi_zones"
# Where the TLC serves its zone lookup (TaxiSource's default TAXI_ZONES_URL); the local server too.
ZONES_PATH = "/misc/taxi_zone_lookup.csv"
# How the days follow the months (--days): a second backfill, as a UI user launches it, or the
# automation sensor as each month lands, as a deployment runs it.
BACKFILL, AUTOMATION = "backfill", "automation"
T = TypeVar("T")

# Rows per month from 2019-01 to 2021-07 of the DataTalksClub mirror of the TLC's trip files
# (github.com/DataTalksClub/nyc-tlc-data releases, the course's source; see the docstring).
TLC_ROWS = {
    "yellow": (
        # 2019
        7_667_792, 7_019_375, 7_832_545, 7_433_139, 7_565_261, 6_941_024,
        6_310_419, 6_073_357, 6_567_788, 7_213_891, 6_878_111, 6_896_317,
        # 2020
        6_405_008, 6_299_354, 3_007_292, 237_993, 348_371, 549_760,
        800_412, 1_007_284, 1_341_012, 1_681_131, 1_508_985, 1_461_897,
        # 2021
        1_369_765, 1_371_709, 1_925_152, 2_171_187, 2_507_109, 2_834_264, 2_821_746,
    ),
    "green": (
        630_918, 575_685, 601_102, 514_392, 504_887, 471_052,
        470_743, 449_695, 449_063, 476_386, 449_500, 455_294,
        447_770, 398_632, 223_406, 35_612, 57_360, 63_109,
        72_257, 81_063, 87_987, 95_120, 88_605, 83_130,
        76_518, 64_572, 83_827, 86_941, 88_180, 86_737, 83_691,
    ),
}  # fmt: skip
# Rows per month from 2019-02 (the first month of high-volume FHV records) to 2020-01 of the TLC's
# fhvhv_tripdata_YYYY-MM.parquet files, 255,199,632 in all: each file's footer row count as
# published in lykmapipo/NYC-TLC-Trip-Data (data/trips-metadata/fhvhv_tripmetadata_2019.csv and
# _2020.csv, column file_num_rows, at 8b5915f; files dated 2022-06-30, 24 columns), the same count
# for every month in another user's cleaning log of the TLC's files ("Было строк"), and for 2019-03
# in librasteve/omasheet's demo-data release (23,864,598 × 24, 611 MB): the largest month of any
# service, the size benchmarks/month.py --service fhvhv measures.
FHVHV_ROWS = (
    20_159_102, 23_864_598, 21_734_822, 22_329_247, 21_001_990, 20_303_312,
    20_126_113, 20_069_321, 21_162_290, 21_635_568, 22_243_901,
    20_569_368,
)  # fmt: skip
# Each service's months: its first month and the rows of each (yellow and green: the course's range).
PUBLISHED = {
    "yellow": ("2019-01", TLC_ROWS["yellow"]),
    "green": ("2019-01", TLC_ROWS["green"]),
    "fhvhv": ("2019-02", FHVHV_ROWS),
}
DEFAULT_SERVICES = ("yellow", "green")
# The synthetic generator needs some rows to make a plausible month (and a file of 0 rows is refused).
MIN_ROWS = 100
LOAD_TIMEOUT = 600  # seconds for the web server to load the code location
# What each sink holds per generated row, as this benchmark measured it at the end of a small run
# (its "bytes per generated row" table; `--months 2 --scale 0.02`, and `--service fhvhv --months 2
# --scale 0.02`, 4 December 2026): the disk check at the start multiplies the planned rows by it.
# Parquet files, PostgreSQL rows and DuckDB's compressed row groups grow in proportion to the rows;
# a small run's days are small files, whose fixed costs count for more per row (green's daily lake
# and DuckDB most), so the estimate errs high.
SINKS = ("source", "lake raw", "lake cleaned + rejected", "lake daily", "postgres", "duckdb")
BYTES_PER_ROW: dict[str, dict[str, float]] = {
    "yellow": dict(zip(SINKS, (27.3, 25.1, 25.3, 26.0, 170.6, 32.4), strict=True)),
    "green": dict(zip(SINKS, (30.6, 28.2, 30.1, 62.9, 182.0, 73.1), strict=True)),
    "fhvhv": dict(zip(SINKS, (37.5, 35.2, 35.3, 34.6, 196.4, 34.6), strict=True)),
}


class BenchmarkError(Exception):
    """The benchmark could not be set up or run (not a finding about the pipeline)."""


def months_from(first: str, n: int) -> list[str]:
    year, month = (int(part) for part in first.split("-"))
    out = []
    for i in range(n):
        y, m = divmod(month - 1 + i, 12)
        out.append(f"{year + y}-{m + 1:02d}")
    return out


def planned_rows(services: list[str], months: int | None, scale: float) -> dict[str, dict[str, int]]:
    """Rows to generate per service and month: the first ``months`` of each (all if None)."""
    plan = {}
    for service in services:
        first, counts = PUBLISHED[service]
        counts = counts[:months]
        plan[service] = {
            month: max(MIN_ROWS, round(rows * scale))
            for month, rows in zip(months_from(first, len(counts)), counts, strict=True)
        }
    return plan


# --- the source: generated files behind an HTTP server that counts requests ------------------
def tlc_path() -> str:
    """Where the TLC serves a month on its host: ``/trip-data/{service}_tripdata_{month}.parquet``."""
    from taxi_assets.publishers import PUBLISHERS, TLC

    return urllib.parse.urlsplit(PUBLISHERS[TLC].url_template).path


def _write_one(job: tuple[Path, str, str, int, int]) -> tuple[str, str, str, float]:
    from taxi_assets.publishers import TLC
    from taxi_dev.synthetic import write_month

    root, service, month, rows, seed = job
    start = time.perf_counter()
    folder = root / tlc_path().lstrip("/").rsplit("/", 1)[0]
    path = write_month(folder, service, month, rows, seed, publisher=TLC)
    return service, month, str(path.relative_to(root)), time.perf_counter() - start


def generate(plan: dict[str, dict[str, int]], root: Path, seed: int, workers: int) -> dict[str, Any]:
    """Every planned month as the TLC publishes it (its parquet layout of that month), under ``root``
    at the path of the TLC's URL, the biggest first (to balance workers).
    """
    jobs = sorted(
        ((root, s, m, n, seed) for s, months in plan.items() for m, n in months.items()),
        key=lambda job: -job[3],
    )
    start = time.perf_counter()
    files: dict[str, dict[str, str]] = defaultdict(dict)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for service, month, relative, _ in pool.map(_write_one, jobs):
            files[service][month] = "/" + relative
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    return {"files": dict(files), "seconds": time.perf_counter() - start, "bytes": size}


def url_template(base_url: str) -> str:
    """The TLC's URL template on the local server: a mirror of the TLC's files, as a user keeps one."""
    return base_url + tlc_path()


class SourceServer:
    """The generated files on 127.0.0.1, counting requests per method, path and status."""

    def __init__(self, root: Path) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        lock, requests = threading.Lock(), self.requests

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(root), **kwargs)

            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                with lock:
                    requests[(self.command, self.path, int(code))] += 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.1,), daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- PostgreSQL: Dagster's database and the trips' schema -------------------------------------
@contextlib.contextmanager
def postgres(settings: dict[str, str], dbname: str | None = None) -> Iterator[Any]:
    import psycopg2

    conn = psycopg2.connect(
        host=settings["POSTGRES_HOST"],
        port=int(settings["POSTGRES_PORT"]),
        dbname=dbname or settings["POSTGRES_DBNAME"],
        user=settings["POSTGRES_USER"],
        password=settings["POSTGRES_PASSWORD"],
        connect_timeout=10,
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# --- the web server's and daemon's processes ---------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A process in a session (and process group) of its own, its output going to ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(
            command, env=env, cwd=REPO, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )


def stop_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM to the process's group, then SIGKILL to what is left after ``grace`` seconds."""
    supervise.stop_group(process, signal.SIGTERM, grace)


def log_tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


# --- GraphQL, as the UI speaks it -------------------------------------------------------------
class GraphQL:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"

    def __call__(self, query: str, variables: dict[str, Any] | None = None, timeout: float = 60) -> dict:
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
        if body.get("errors"):
            raise BenchmarkError(f"GraphQL error: {body['errors'][0].get('message')}")
        return body["data"]


LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""

ASSET_NODES_QUERY = """
query ($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
  assetKey { path }
  partitionKeys
  backfillPolicy { description }
  metadataEntries { label ... on TextMetadataEntry { text } ... on TableSchemaMetadataEntry { label } }
} }
"""

SENSOR_QUERY = """
query ($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { id selectorId status ticks(limit: 1) { status } } } } }
"""

STOP_SENSOR = """
mutation ($id: String!, $selectorId: String!) { stopSensor(id: $id, jobSelectorId: $selectorId) {
  __typename ... on StopSensorMutationResult { instigationState { status } }
  ... on PythonError { message } } }
"""

LAUNCH_BACKFILL = """
mutation ($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId }
  ... on PythonError { message } ... on UnauthorizedError { message }
  ... on PartitionSetNotFoundError { message } ... on InvalidStepError { invalidStepKey }
  ... on InvalidOutputError { stepKey } ... on RunConflict { message }
  ... on PresetNotFoundError { message } ... on ConflictingExecutionParamsError { message }
  ... on NoModeProvidedError { message } ... on InvalidSubsetError { message } } }
"""

BACKFILL_QUERY = """
query ($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PartitionBackfill { status numPartitions error { message } }
  ... on PythonError { message } } }
"""

RUNS_QUERY = """
query ($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) { ... on Runs { results {
  runId status startTime endTime tags { key value } assetSelection { path }
  stats { ... on RunStatsSnapshot { launchTime startTime endTime } }
  stepStats { stepKey startTime endTime } } } } }
"""

PARTITION_STATS_QUERY = """
query ($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
  assetKey { path } partitionStats { numMaterialized numFailed numMaterializing } } }
"""
FINISHED_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}

GRAPH_QUERY = """
{ assetNodes { assetKey { path } groupName isPartitioned dependencyKeys { path } } }
"""

LATEST_QUERY = """
query ($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
  assetKey { path } assetMaterializations(limit: 1) { timestamp } } }
"""

LAUNCH_RUN = """
mutation ($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } }
  ... on PythonError { message } ... on UnauthorizedError { message } ... on RunConflict { message }
  ... on PipelineNotFoundError { message } ... on InvalidSubsetError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }
"""

RUN_QUERY = """
query ($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status } } }
"""
BACKFILL_TAG = "dagster/backfill"

RUN_FAILURE_QUERY = """
query ($runId: ID!) { logsForRun(runId: $runId, limit: 10000) { __typename
  ... on EventConnection { events { __typename
    ... on ExecutionStepFailureEvent { stepKey error { message cause { message cause { message } } } }
    ... on RunFailureEvent { message error { message } } } } } }
"""


def wait_for(what: str, poll: Callable[[], T], timeout: float, every: float = 1.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = poll()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchmarkError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass
class Dagster:
    """The web server and daemon, as a deployment runs them, and the GraphQL API they answer."""

    webserver: subprocess.Popen
    daemon: subprocess.Popen
    logs: Path
    gql: GraphQL

    def check_alive(self) -> None:
        for name, process in (("webserver", self.webserver), ("daemon", self.daemon)):
            if process.poll() is not None:
                raise BenchmarkError(
                    f"dagster {name} exited ({process.returncode}):\n{log_tail(self.logs / f'{name}.log')}"
                )

    def wait_loaded(self, timeout: float) -> None:
        def loaded() -> bool:
            self.check_alive()
            try:
                entries = self.gql(LOCATION_QUERY, timeout=10)["workspaceOrError"]["locationEntries"]
            except (OSError, BenchmarkError):
                return False
            for entry in entries:
                error = entry.get("locationOrLoadError") or {}
                if error.get("__typename") == "PythonError":
                    raise BenchmarkError(f"the code location failed to load: {error['message']}")
            return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)

        wait_for("the code location to load in the web server", loaded, timeout)

    def stop_sensor(self, name: str) -> None:
        found = self.gql(SENSOR_QUERY, {"selector": {**LOCATION, "sensorName": name}})["sensorOrError"]
        if found["__typename"] != "Sensor":
            raise BenchmarkError(f"sensor {name}: {found['__typename']}")
        state = found["sensorState"]
        if state["status"] == "RUNNING":
            stopped = self.gql(STOP_SENSOR, {"id": state["id"], "selectorId": state["selectorId"]})
            if stopped["stopSensor"]["__typename"] != "StopSensorMutationResult":
                raise BenchmarkError(f"could not stop {name}: {stopped['stopSensor']}")

        # A tick begun before the stop still launches what it finds: the backfills wait for it.
        def no_tick_under_way() -> bool:
            found = self.gql(SENSOR_QUERY, {"selector": {**LOCATION, "sensorName": name}})["sensorOrError"]
            ticks = found["sensorState"]["ticks"]
            return not ticks or ticks[0]["status"] != "STARTED"

        wait_for(f"{name}'s last tick to end", no_tick_under_way, 300)

    def asset_nodes(self, keys: list[list[str]]) -> dict[tuple[str, ...], dict[str, Any]]:
        nodes = self.gql(ASSET_NODES_QUERY, {"keys": [{"path": k} for k in keys]})["assetNodes"]
        found = {tuple(n["assetKey"]["path"]): n for n in nodes}
        missing = [k for k in keys if tuple(k) not in found]
        if missing:
            raise BenchmarkError(f"the code location has no asset {', '.join('/'.join(k) for k in missing)}")
        return found

    def launch(self, params: dict[str, Any]) -> tuple[str | None, str]:
        try:
            result = self.gql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        except urllib.error.HTTPError as exc:
            # Assets of different partitions definitions (one per service) in one selection: the
            # web server answers 500 rather than a refusal.
            return None, f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:300]}"
        if result["__typename"] == "LaunchBackfillSuccess":
            return result["backfillId"], ""
        return None, f"{result['__typename']}: {result.get('message', result)}"

    def run_job(self, job: str, timeout: float) -> str:
        """Launch one of the code location's jobs (the UI's "Launch run"), wait for its run to end
        and return its status.
        """
        params = {"selector": {**LOCATION, "jobName": job}}
        result = self.gql(LAUNCH_RUN, {"params": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise BenchmarkError(f"job {job} was not launched: {result}")
        run_id = result["run"]["runId"]
        statuses: list[str] = []

        def ended() -> bool:
            self.check_alive()
            statuses.append(self.gql(RUN_QUERY, {"runId": run_id})["runOrError"].get("status", "?"))
            return statuses[-1] in FINISHED_RUN_STATUSES

        wait_for(f"the {job} run", ended, timeout)
        if statuses[-1] != "SUCCESS":
            raise BenchmarkError(f"the {job} run {run_id} ended {statuses[-1]}: {self.failure(run_id)}")
        return run_id

    def latest_materialisations(self, keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], float]:
        """Each asset's latest materialisation (any partition), seconds since the epoch; 0 if none."""
        nodes = self.gql(LATEST_QUERY, {"keys": [{"path": list(k)} for k in keys]})["assetNodes"]
        return {
            tuple(n["assetKey"]["path"]): max(
                (int(m["timestamp"]) / 1000 for m in n["assetMaterializations"]), default=0
            )
            for n in nodes
        }

    def backfill_status(self, backfill_id: str) -> dict[str, Any]:
        return self.gql(BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"]

    def runs(self, backfill_id: str) -> list[dict[str, Any]]:
        tags = [{"key": "dagster/backfill", "value": backfill_id}]
        return self.gql(RUNS_QUERY, {"tags": tags})["runsOrError"]["results"]

    def failure(self, run_id: str) -> str:
        logs = self.gql(RUN_FAILURE_QUERY, {"runId": run_id})["logsForRun"]
        reasons = []
        for event in logs.get("events", []):
            if event["__typename"] == "ExecutionStepFailureEvent":
                error, messages = event.get("error"), []
                while error:  # the step's error, then what caused it
                    messages.append(first_line(error.get("message")))
                    error = error.get("cause")
                reasons.append(f"{event['stepKey']}: {' ← '.join(m for m in messages if m)}")
            elif event["__typename"] == "RunFailureEvent" and not reasons:
                reasons.append(first_line(event.get("message") or (event.get("error") or {}).get("message")))
        return " | ".join(r for r in reasons if r) or "no failure event"


def first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


# --- the backfills -----------------------------------------------------------------------------
ENDED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
SUCCEEDED = {"COMPLETED", "COMPLETED_SUCCESS"}


def selected_partitions(nodes: dict[tuple[str, ...], dict], keep: Callable[[str, str], bool]) -> dict:
    """Per asset, its partition keys (as the asset node lists them) that ``keep(service, key)``
    accepts; an asset's service is its key's first part (``taxi_assets.keys``).
    """
    out = {}
    for key, node in nodes.items():
        partitions = [p for p in node["partitionKeys"] if keep(key[0], p)]
        if not partitions:
            raise BenchmarkError(f"asset {'/'.join(key)} has no partition among the generated months")
        out[key] = partitions
    return out


def launch_params(partitions: dict[tuple[str, ...], list[str] | None], title: str) -> dict[str, Any]:
    """One backfill's parameters: the UI's (asset selection and partition names) when the assets
    share their partitions, else a range per asset (None: an unpartitioned asset, as itself).
    """
    names = {None if p is None else tuple(p) for p in partitions.values()}
    if len(names) == 1 and None not in names:
        return {
            "assetSelection": [{"path": list(k)} for k in partitions],
            "partitionNames": list(next(iter(names))),
            "title": title,
        }
    return {
        "partitionsByAssets": [
            {
                "assetKey": {"path": list(k)},
                "partitions": {"range": {"start": p[0], "end": p[-1]}} if p is not None else None,
            }
            for k, p in partitions.items()
        ],
        "title": title,
    }


def backfill(
    dagster: Dagster, name: str, partitions: dict, timeout: float, per_service: bool = True
) -> dict[str, Any]:
    """Launch one backfill over ``partitions`` (one per service if the API refuses that and
    ``per_service``), wait for it to end, and gather its runs.
    """
    start, launched_at = time.perf_counter(), time.time()
    backfill_id, refused = dagster.launch(launch_params(partitions, f"history benchmark: {name}"))
    launched = [backfill_id] if backfill_id else []
    note = ""
    if not backfill_id and not per_service:
        raise BenchmarkError(f"the {name} backfill was refused: {refused}")
    if not backfill_id:
        note = f"one backfill across services was refused ({refused[:300]}); launched one per service"
        for service in sorted({k[0] for k in partitions}):
            part = {k: v for k, v in partitions.items() if k[0] == service}
            backfill_id, refused = dagster.launch(
                launch_params(part, f"history benchmark: {name}, {service}")
            )
            if not backfill_id:
                raise BenchmarkError(f"the {name} backfill of {service} was refused: {refused}")
            launched.append(backfill_id)
    statuses: dict[str, dict] = {}

    def ended() -> bool:
        dagster.check_alive()
        for backfill_id in launched:
            statuses[backfill_id] = dagster.backfill_status(backfill_id)
        return all(s.get("status") in ENDED for s in statuses.values())

    wait_for(f"the {name} backfill", ended, timeout)
    wall, ended_at = time.perf_counter() - start, time.time()
    runs = [run for backfill_id in launched for run in dagster.runs(backfill_id)]
    return {
        "backfill_ids": launched,
        "note": note,
        "statuses": [s.get("status") for s in statuses.values()],
        "errors": [s["error"]["message"] for s in statuses.values() if s.get("error")],
        "assets": ["/".join(k) for k in partitions],
        "partitions": max((len(p) for p in partitions.values() if p is not None), default=0),
        "wall_s": wall,
        "launched_at": launched_at,
        "ended_at": ended_at,
        **run_figures(dagster, runs, launched_at, ended_at),
    }


def run_figures(
    dagster: Dagster, runs: list[dict[str, Any]], launched_at: float, ended_at: float
) -> dict[str, Any]:
    """What a set of runs (a backfill's, or the automation's) did, and where their time went."""
    spans = [(r["startTime"], r["endTime"] or ended_at) for r in runs if r["startTime"]]
    failures = {run["runId"]: dagster.failure(run["runId"]) for run in runs if run["status"] != "SUCCESS"}
    overheads = {r["runId"]: run_overhead(r) for r in runs}
    starts = [o[0] for o in overheads.values() if o[0] is not None]
    ends = [o[1] for o in overheads.values() if o[1] is not None]
    return {
        # Where the wall time goes: before the first run starts (backfill and queue daemons), in
        # runs (at most how many at once), after the last run ends (until the backfill is done).
        "first_run_after_s": min((a for a, _ in spans), default=ended_at) - launched_at,
        "run_s_sum": sum(b - a for a, b in spans),
        "most_runs_at_once": most_at_once(spans),
        "done_after_last_run_s": ended_at - max((b for _, b in spans), default=launched_at),
        # What each run pays besides its steps: its launch (RUN_STARTING) to its first step's start
        # (a worker process started, the code location loaded, the run set up), and its last
        # step's end to the run's end; summed over the runs and the median run's.
        "startup_s_sum": sum(starts),
        "startup_s_median": statistics.median(starts) if starts else None,
        "teardown_s_sum": sum(ends),
        "teardown_s_median": statistics.median(ends) if ends else None,
        "runs": [
            {
                "run_id": r["runId"],
                "status": r["status"],
                "seconds": (r["endTime"] or 0) - (r["startTime"] or 0),
                "startup_s": overheads[r["runId"]][0],
                "teardown_s": overheads[r["runId"]][1],
            }
            for r in runs
        ],
        "run_statuses": dict(Counter(r["status"] for r in runs)),
        "failures": failures,
    }


Key = tuple[str, ...]


@dataclass
class Analytics:
    """The analytics assets (dbt's models, the chart) that the services benchmarked feed: per asset
    its months (None: unpartitioned) and the assets it reads.
    """

    partitions: dict[Key, list[str] | None]
    deps: dict[Key, list[Key]]

    @property
    def unpartitioned(self) -> list[Key]:
        return [k for k, p in self.partitions.items() if p is None]


def analytics_assets(dagster: Dagster, plan: dict[str, dict[str, int]]) -> Analytics:
    """The analytics group's assets whose every upstream asset the benchmark loads (the services'
    warehouse tables, the zones) or is one of them: as automation builds them, and what a user
    selects (a model over a service not loaded, e.g. ``stg_fhv_tripdata``, reads a table that does
    not exist). Each partitioned one over the months of the services upstream of it.
    """
    from taxi_assets.defs.assets.analytics import ANALYTICS_GROUP
    from taxi_assets.keys import WAREHOUSE, ZONES_KEY, asset_key

    nodes = dagster.gql(GRAPH_QUERY)["assetNodes"]
    group = {tuple(n["assetKey"]["path"]): n for n in nodes if n["groupName"] == ANALYTICS_GROUP}
    loaded: dict[Key, set[str]] = {tuple(asset_key(s, WAREHOUSE).path): {s} for s in plan}
    loaded[tuple(ZONES_KEY.path)] = set()
    deps = {k: [tuple(d["path"]) for d in n["dependencyKeys"]] for k, n in group.items()}
    services: dict[Key, set[str]] = {}  # per analytics asset built, the services it reads
    while True:
        ready = [k for k in group if k not in services and all(d in loaded or d in services for d in deps[k])]
        if not ready:
            break
        for key in ready:
            services[key] = set().union(*(loaded[d] if d in loaded else services[d] for d in deps[key]))
    if not services:
        raise BenchmarkError(f"no asset of the group {ANALYTICS_GROUP} reads only what the benchmark loads")
    partitioned = [k for k in services if group[k]["isPartitioned"]]
    keys = dagster.asset_nodes([list(k) for k in partitioned]) if partitioned else {}
    partitions: dict[Key, list[str] | None] = {}
    for key in services:
        if key not in keys:
            partitions[key] = None
            continue
        months = {m for s in services[key] for m in plan[s]}
        partitions[key] = [p for p in keys[key]["partitionKeys"] if p in months]
    return Analytics(partitions, {k: deps[k] for k in services})


def touches(run: dict[str, Any], keys: Any) -> bool:
    return any(tuple(k["path"]) in keys for k in run.get("assetSelection") or [])


def by_automation(
    dagster: Dagster,
    partitions: dict,
    analytics: Analytics | None,
    monthly: dict[str, Any],
    setup_runs: set[str],
    timeout: float,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The days, and the analytics after them, as a deployment gets them: ``follow_upstream``
    (left running) requests each month's days as the month lands (one backfill run per month or
    per tick), and each month's models once its days are all in the warehouse, the dimension
    when the zones change, the chart when the mart does. Waits until every day of every daily
    asset and every month of every model is materialised, every unpartitioned model or chart is
    newer than what it reads, and no run is queued or running; then splits the runs the
    automation launched (every run outside the monthly backfill and the set-up) by their assets.
    The days' wall time is the tail from the monthly backfill's end to the last day run's end; the
    analytics' is the tail from there to the last analytics run's end.
    """
    wanted = {key: len(days) for key, days in partitions.items()}
    if analytics:
        wanted |= {k: len(p) for k, p in analytics.partitions.items() if p is not None}
    skip = setup_runs | {r["run_id"] for r in monthly["runs"]}
    latest: dict[str, Any] = {}

    def complete(stats: dict[Key, dict]) -> bool:
        return all(stats[k].get("numMaterialized", 0) >= n for k, n in wanted.items())

    def fresh() -> bool:
        """Every unpartitioned analytics asset materialised after what it reads last changed."""
        if not analytics or not analytics.unpartitioned:
            return True
        keys = {*analytics.unpartitioned, *(d for k in analytics.unpartitioned for d in analytics.deps[k])}
        when = dagster.latest_materialisations(list(keys))
        return all(
            when[k] > 0 and all(when[k] >= when[d] for d in analytics.deps[k])
            for k in analytics.unpartitioned
        )

    def landed() -> bool:
        dagster.check_alive()
        nodes = dagster.gql(PARTITION_STATS_QUERY, {"keys": [{"path": list(k)} for k in wanted]})
        stats = {tuple(n["assetKey"]["path"]): n["partitionStats"] or {} for n in nodes["assetNodes"]}
        runs = [r for r in dagster.gql(RUNS_QUERY, {"tags": []})["runsOrError"]["results"]]
        latest["runs"] = [r for r in runs if r["runId"] not in skip]
        latest["stats"] = stats
        if any(r["status"] not in FINISHED_RUN_STATUSES for r in latest["runs"]):
            return False
        failed = sum(s.get("numFailed", 0) for s in stats.values()) or any(
            r["status"] != "SUCCESS" for r in latest["runs"]
        )
        latest["fresh"] = complete(stats) and fresh()
        return bool(failed) or latest["fresh"]

    wait_for("the automation's days and analytics", landed, timeout, every=2.0)
    now, stats = time.time(), latest["stats"]
    runs = latest["runs"]
    modelled = set(analytics.partitions) if analytics else set()
    model_runs = [r for r in runs if touches(r, modelled)]
    day_runs = [r for r in runs if r not in model_runs]  # the days' runs, and any other it started
    days_end = max((r["endTime"] for r in day_runs if touches(r, partitions) and r["endTime"]), default=now)
    days_complete = all(stats[k].get("numMaterialized", 0) >= len(p) for k, p in partitions.items())
    launched_at, monthly_end = monthly["launched_at"], monthly["ended_at"]
    daily = {
        "backfill_ids": sorted({t["value"] for r in day_runs for t in r["tags"] if t["key"] == BACKFILL_TAG}),
        "note": "the days by the automation sensor (follow_upstream) as each month landed",
        "statuses": [
            "COMPLETED_SUCCESS"
            if days_complete and all(r["status"] == "SUCCESS" for r in day_runs)
            else "INCOMPLETE"
        ],
        "errors": [] if days_complete else [f"days materialised: {stats}"],
        "assets": ["/".join(k) for k in partitions],
        "partitions": len(next(iter(partitions.values()))),
        "wall_s": days_end - monthly_end,
        "launched_at": monthly_end,
        "ended_at": days_end,
        **run_figures(dagster, day_runs, launched_at, days_end),
    }
    if not analytics:
        return daily, None
    end = max((r["endTime"] for r in model_runs if r["endTime"]), default=now)
    first = min((r["startTime"] for r in model_runs if r["startTime"]), default=end)
    models = {k: p for k, p in analytics.partitions.items() if p is not None}
    built = all(stats[k].get("numMaterialized", 0) >= len(p) for k, p in models.items()) and latest.get(
        "fresh"
    )
    return daily, {
        "backfill_ids": sorted(
            {t["value"] for r in model_runs for t in r["tags"] if t["key"] == BACKFILL_TAG}
        ),
        "note": "the analytics by the automation sensor as each month's days landed; wall s is the "
        "tail after the last day run's end",
        "statuses": [
            "COMPLETED_SUCCESS"
            if built and all(r["status"] == "SUCCESS" for r in model_runs)
            else "INCOMPLETE"
        ],
        "errors": [] if built else [f"analytics materialised: { {'/'.join(k): stats[k] for k in models} }"],
        "assets": ["/".join(k) for k in analytics.partitions],
        "partitions": max((len(p) for p in models.values()), default=0),
        "wall_s": end - days_end,
        "span_s": end - first,  # its first run's start to its last run's end
        "launched_at": launched_at,
        "ended_at": end,
        **run_figures(dagster, model_runs, launched_at, end),
    }


def run_overhead(run: dict[str, Any]) -> tuple[float | None, float | None]:
    """A run's launch (its RUN_STARTING event; its start if none) to its first step's start, and its
    last step's end to the run's end (RUN_SUCCESS or RUN_FAILURE), from its stats and step stats as
    GraphQL gives them (None where a run has no step or has not ended).
    """
    stats = run.get("stats") or {}
    launched = stats.get("launchTime") or stats.get("startTime") or run["startTime"]
    ended = stats.get("endTime") or run["endTime"]
    first = min((s["startTime"] for s in run["stepStats"] if s["startTime"]), default=None)
    last = max((s["endTime"] for s in run["stepStats"] if s["endTime"]), default=None)
    return (
        first - launched if first is not None and launched else None,
        ended - last if last is not None and ended else None,
    )


def most_at_once(spans: list[tuple[float, float]]) -> int:
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    most = running = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


# --- what the sinks hold -----------------------------------------------------------------------
def parquet_rows(path: Path) -> int | None:
    import pyarrow.parquet as pq

    return pq.read_metadata(path).num_rows if path.is_file() else None


def sink_rows(
    lake: Path,
    duckdb_path: Path,
    plan: dict[str, dict[str, int]],
    tables: dict[str, dict[str, Any]],
    pg: dict[str, str],
) -> dict[str, dict[str, dict[str, int | None]]]:
    """Rows per service, sink and month (the service's planned months): lake raw/cleaned/rejected/
    daily, PostgreSQL, DuckDB.
    """

    from taxi_assets.keys import CLEANED, DAILY, RAW, REJECTED, asset_key

    out: dict[str, dict[str, dict[str, int | None]]] = {}
    for service, where in tables.items():
        months = list(plan[service])
        rows: dict[str, dict[str, int | None]] = {}
        for sink, stage in (("raw", RAW), ("cleaned", CLEANED), ("rejected", REJECTED)):
            folder = lake.joinpath(*asset_key(service, stage).path)
            rows[sink] = {m: parquet_rows(folder / f"{m}.parquet") for m in months}
        daily: dict[str, int] = Counter()
        for day in lake.joinpath(*asset_key(service, DAILY).path).glob("*=*"):
            month = day.name.split("=", 1)[1][:7]
            if month in months:
                daily[month] += sum(parquet_rows(f) or 0 for f in day.glob("*.parquet"))
        rows["lake daily"] = {m: daily.get(m) for m in months}

        table, column = where["postgres"]
        counts: dict[str, int] = {}
        with contextlib.suppress(Exception), postgres(pg) as cur:
            cur.execute(
                f"SELECT to_char({quote(column)}, 'YYYY-MM'), count(*) FROM "
                f"{quote(pg['POSTGRES_SCHEMA'])}.{quote(table)} GROUP BY 1"
            )
            counts = dict(cur.fetchall())
        rows["postgres"] = {m: counts.get(m) for m in months}

        table, column = where["warehouse"]
        counts = duckdb_per_month(
            duckdb_path,
            f"SELECT strftime({quote(column)}, '%Y-%m'), count(*) FROM "
            f"{quote(pg['DUCKDB_SCHEMA'])}.{quote(table)} GROUP BY 1",
        )
        rows["duckdb"] = {m: counts.get(m) for m in months}
        out[service] = rows
    return out


# What each mart counts, per service and month, read from the models (taxi_assets/analytics/models):
# the revenue mart counts fct_trips' rows, the taxis' trips with a known vendor (stg_*_tripdata), one
# per vendor, second, pickup zone and service (fct_trips keeps one of several); every pickup zone
# counts (a zone the lookup lacks is "Unknown Zone"). The high-volume mart counts every trip. Per
# service: the mart, its rows of that service, its month column, and the warehouse's trips it counts.
MARTS = {
    "yellow": (
        "fct_monthly_zone_revenue",
        "service_type = 'Yellow'",
        "revenue_month",
        "SELECT DISTINCT vendor_id, CAST(tpep_pickup_datetime AS TIMESTAMP) AS pickup, pu_location_id "
        "FROM {table} WHERE vendor_id IS NOT NULL",
    ),
    "green": (
        "fct_monthly_zone_revenue",
        "service_type = 'Green'",
        "revenue_month",
        "SELECT DISTINCT vendor_id, CAST(lpep_pickup_datetime AS TIMESTAMP) AS pickup, pu_location_id "
        "FROM {table} WHERE vendor_id IS NOT NULL",
    ),
    "fhvhv": (
        "fct_fhvhv_monthly_zone_trips",
        "true",
        "trip_month",
        "SELECT CAST(pickup_datetime AS TIMESTAMP) AS pickup FROM {table}",
    ),
}


def duckdb_per_month(duckdb_path: Path, sql: str) -> dict[str, int]:
    """Month → count from ``sql`` on the warehouse file, opened read-only; a file, table or mart
    that cannot be read counts nothing, so its months are reported as missing.
    """
    import duckdb

    if not duckdb_path.is_file():
        return {}
    with contextlib.suppress(duckdb.Error), duckdb.connect(str(duckdb_path), read_only=True) as db:
        return dict(db.execute(sql).fetchall())
    return {}


def mart_trips(
    duckdb_path: Path,
    plan: dict[str, dict[str, int]],
    tables: dict[str, dict[str, Any]],
    pg: dict[str, str],
    built: dict[str, int | None],
) -> dict[str, dict[str, dict[str, int | None]]]:
    """Per service whose mart was built and month: the trips the mart counts and those of the
    warehouse's table it should count (``MARTS``).
    """

    out: dict[str, dict[str, dict[str, int | None]]] = {}
    schema = quote(pg["DUCKDB_SCHEMA"])
    for service in plan:
        if service not in MARTS or MARTS[service][0] not in built:
            continue
        mart, rows_of, month, counted = MARTS[service]
        table = f"{schema}.{quote(tables[service]['warehouse'][0])}"
        got = duckdb_per_month(
            duckdb_path,
            f"SELECT strftime({month}, '%Y-%m'), sum(total_monthly_trips)::BIGINT "
            f"FROM {schema}.{quote(mart)} WHERE {rows_of} GROUP BY 1",
        )
        want = duckdb_per_month(
            duckdb_path,
            f"SELECT strftime(pickup, '%Y-%m'), count(*) FROM ({counted.format(table=table)}) GROUP BY 1",
        )
        out[service] = {
            "mart": {m: got.get(m) for m in plan[service]},
            "warehouse": {m: want.get(m) for m in plan[service]},
        }
    return out


def compare_marts(plan: dict[str, dict[str, int]], marts: dict[str, Any]) -> list[str]:
    """Every month of each service whose mart holds no trips, or not the warehouse's."""
    problems = []
    for service, counts in marts.items():
        for month in plan[service]:
            got, want = counts["mart"][month], counts["warehouse"][month]
            if not got or got != want:
                problems.append(
                    f"{service} {month}: {MARTS[service][0]} counts {got} trips, the warehouse {want}"
                )
    return problems


def file_bytes(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def folder_bytes(folder: Path) -> int:
    return sum(file_bytes(f) for f in folder.rglob("*")) if folder.is_dir() else 0


def sink_bytes(
    work: Path, files: dict[str, dict[str, str]], tables: dict[str, dict[str, Any]], pg: dict[str, str]
) -> dict[str, dict[str, int]]:
    """Bytes per service and sink once the backfills are done: the source files, the lake's raw,
    cleaned + rejected and daily folders, the PostgreSQL table (every partition, with its TOAST and
    indexes) and the service's share of the DuckDB file (by the storage blocks its table uses).
    """
    import duckdb

    from taxi_assets.keys import CLEANED, DAILY, RAW, REJECTED, asset_key

    lake, duckdb_path = work / "lake", work / "warehouse.duckdb"
    blocks: dict[str, int] = {}
    if duckdb_path.is_file():
        with contextlib.suppress(duckdb.Error), duckdb.connect(str(duckdb_path), read_only=True) as db:
            for service, where in tables.items():
                name = f"{quote(pg['DUCKDB_SCHEMA'])}.{quote(where['warehouse'][0])}"
                blocks[service] = db.execute(
                    "SELECT count(DISTINCT block_id) FROM pragma_storage_info(?) WHERE persistent", [name]
                ).fetchone()[0]
    out = {}
    for service, where in tables.items():
        in_postgres = 0
        with contextlib.suppress(Exception), postgres(pg) as cur:
            table = f"{quote(pg['POSTGRES_SCHEMA'])}.{quote(where['postgres'][0])}"
            cur.execute(
                "SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree(%s::regclass)",
                (table,),
            )
            in_postgres = int(cur.fetchone()[0])
        share = blocks.get(service, 0) / (sum(blocks.values()) or 1)
        out[service] = {
            "source": sum(file_bytes(work / "source" / p.lstrip("/")) for p in files[service].values()),
            "lake raw": folder_bytes(lake.joinpath(*asset_key(service, RAW).path)),
            "lake cleaned + rejected": folder_bytes(lake.joinpath(*asset_key(service, CLEANED).path))
            + folder_bytes(lake.joinpath(*asset_key(service, REJECTED).path)),
            "lake daily": folder_bytes(lake.joinpath(*asset_key(service, DAILY).path)),
            "postgres": in_postgres,
            "duckdb": round(share * duckdb_path.stat().st_size) if duckdb_path.is_file() else 0,
        }
    return out


def table_of(node: dict[str, Any]) -> tuple[str, str]:
    """An asset's table, from its definition metadata as GraphQL shows it, and its day column (every
    trips table's, ``pickup_date``: the project takes it from the schema, not from metadata).
    """
    from taxi_assets.schema import PICKUP_DATE

    meta = {e["label"]: e.get("text") for e in node["metadataEntries"]}
    table = meta.get("dagster/table_name")
    if not table:
        raise BenchmarkError(f"asset {'/'.join(node['assetKey']['path'])} shows no table name")
    return table.rsplit(".", 1)[-1], PICKUP_DATE


def compare(plan: dict[str, dict[str, int]], rows: dict) -> list[str]:
    """Every disagreement between the sinks and the generated totals, worded for the reader."""
    problems = []
    for service, months in plan.items():
        sinks = rows[service]
        for month, generated in months.items():
            got = {sink: per_month.get(month) for sink, per_month in sinks.items()}
            cleaned, rejected = got["cleaned"], got["rejected"]
            if got["raw"] != generated:
                problems.append(
                    f"{service} {month}: lake raw holds {got['raw']} rows, generated {generated:,}"
                )
            if cleaned is None or rejected is None or cleaned + rejected != generated:
                problems.append(
                    f"{service} {month}: cleaned {cleaned} + rejected {rejected} != generated {generated:,}"
                )
            for sink in ("postgres", "lake daily", "duckdb"):
                if got[sink] != cleaned or cleaned is None:
                    problems.append(f"{service} {month}: {sink} holds {got[sink]} rows, cleaned {cleaned}")
    return problems


# --- the disk: what the run will hold, against the free space --------------------------------
def mount_of(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path):
        path = path.parent
    return path


def postgres_disk(pg: dict[str, str]) -> tuple[Path | None, int]:
    """PostgreSQL's data directory if it is on this machine and readable (else None), and its
    ``max_wal_size`` in bytes (the WAL a load may hold before a checkpoint recycles it).
    """
    data, wal = None, 2**30
    with contextlib.suppress(Exception), postgres(pg) as cur:
        cur.execute("SELECT pg_size_bytes(current_setting('max_wal_size'))")
        wal = int(cur.fetchone()[0])
        cur.execute("SELECT current_setting('data_directory')")  # superusers and pg_read_all_settings
        found = Path(cur.fetchone()[0])
        data = found if pg["POSTGRES_HOST"] in ("127.0.0.1", "localhost", "") and found.is_dir() else None
    return data, wal


def disk_needed(plan: dict[str, dict[str, int]], wal: int) -> dict[str, float]:
    """Bytes per sink the run holds at its end (BYTES_PER_ROW × the rows planned), and ``headroom``
    for what is written while a month loads (the biggest month again in every sink: its download,
    the files and the partition being written) and PostgreSQL's WAL.
    """
    need = dict.fromkeys(SINKS, 0.0)
    biggest = 0.0
    for service, months in plan.items():
        per_row = BYTES_PER_ROW[service]
        for sink in SINKS:
            need[sink] += per_row[sink] * sum(months.values())
        biggest = max(biggest, sum(per_row.values()) * max(months.values()))
    return {**need, "headroom": biggest + wal}


def gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB"


def check_disk(plan: dict[str, dict[str, int]], work: Path, pg: dict[str, str]) -> dict[str, Any]:
    """Print what the run will need on disk and what is free; refuse (BenchmarkError) if it cannot fit."""
    unmeasured = [s for s in plan if s not in BYTES_PER_ROW]
    if unmeasured:
        print(f"disk: no bytes per row measured for {', '.join(unmeasured)}; not checked", flush=True)
        return {}
    data, wal = postgres_disk(pg)
    need = disk_needed(plan, wal)
    places: dict[Path, dict[str, float]] = defaultdict(dict)
    for sink, size in need.items():
        if sink != "postgres":
            places[mount_of(work)][sink] = size
    if data:
        places[mount_of(data)]["postgres"] = need["postgres"]
    else:
        print("disk: PostgreSQL's data directory is not on this machine or not readable: not checked")
    free = {mount: shutil.disk_usage(mount).free for mount in places}
    lake = sum(v for k, v in need.items() if k.startswith("lake"))
    print(
        f"disk: this run needs about {gb(sum(need.values()))}: source {gb(need['source'])}, lake "
        f"{gb(lake)} (raw {gb(need['lake raw'])}, cleaned + rejected {gb(need['lake cleaned + rejected'])}, "
        f"daily {gb(need['lake daily'])}), PostgreSQL {gb(need['postgres'])}, DuckDB {gb(need['duckdb'])}, "
        f"headroom {gb(need['headroom'])} (the biggest month again, PostgreSQL's WAL); "
        + "; ".join(
            f"free on {mount}: {gb(free[mount])} for {gb(sum(sinks.values()))}"
            for mount, sinks in places.items()
        ),
        flush=True,
    )
    for mount, sinks in places.items():
        if sum(sinks.values()) > free[mount]:
            raise BenchmarkError(
                f"not enough disk: this run needs about {gb(sum(sinks.values()))} on {mount} "
                f"({', '.join(sinks)}) and {gb(free[mount])} is free. Free some space, run fewer months or "
                "fewer rows (--months, --scale), or put the work folder on a bigger disk (TMPDIR)"
            )
    return {"needed_bytes": need, "free_bytes": {str(m): f for m, f in free.items()}}


# --- the run ------------------------------------------------------------------------------------
def environment(
    work: Path, home: Path, pg: dict[str, str], database: str, template: str, zones_url: str
) -> dict[str, str]:
    """The web server's and daemon's environment: the caller's, less any project or Dagster setting,
    plus the benchmark's.
    """
    prefixes = ("TAXI_", "DUCKDB_", "DAGSTER_", "POSTGRES_", "GCP_", "BIGQUERY_", "GCS_", "GOOGLE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    (work / "tmp").mkdir()
    return {
        **env,
        **image.dagster_settings(),  # as deployed: the image gives them every Dagster process
        **image.memory_settings(),
        **{k: v for k, v in pg.items() if k.startswith("POSTGRES_") or k.startswith("DUCKDB_")},
        "DAGSTER_HOME": str(home),
        "DAGSTER_POSTGRES_HOST": pg["POSTGRES_HOST"],
        "DAGSTER_POSTGRES_PORT": pg["POSTGRES_PORT"],
        "DAGSTER_POSTGRES_USER": pg["POSTGRES_USER"],
        "DAGSTER_POSTGRES_PASSWORD": pg["POSTGRES_PASSWORD"],
        "DAGSTER_POSTGRES_DB": database,
        "TAXI_SOURCE_URL_TEMPLATE": template,
        "TAXI_ZONES_URL": zones_url,
        "TAXI_LAKE_URI": str(work / "lake"),
        "TAXI_WAREHOUSE": "duckdb",
        "DUCKDB_DATABASE": str(work / "warehouse.duckdb"),
        "TMPDIR": str(work / "tmp"),  # downloads' temporary folders go with the rest
    }


def span_text(plan: dict[str, dict[str, int]]) -> str:
    """``yellow, green 2019-01 … 2021-07 (31 months)``, a phrase per distinct range of months."""
    spans: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for service, months in plan.items():
        spans[tuple(months)].append(service)
    return "; ".join(
        f"{', '.join(services)} {months[0]} … {months[-1]} ({len(months)} months)"
        for months, services in spans.items()
    )


def bench(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Generate, serve, backfill and count; Dagster's database and the trips' schema are dropped
    before it returns, whatever happened.
    """
    plan = planned_rows(args.service, args.months, args.scale)
    generated = sum(n for per_month in plan.values() for n in per_month.values())
    figures: dict[str, Any] = {
        "started": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "cores": os.cpu_count(),
        "months": {s: list(m) for s, m in plan.items()},
        "scale": args.scale,
        "days": args.days,
        "analytics": args.analytics,
        "backfill_limit": args.backfill_limit,
        "generated_rows": {s: sum(m.values()) for s, m in plan.items()},
        "generated_rows_total": generated,
    }
    print(
        f"benchmarks/history.py on {os.cpu_count()} cores, {figures['started']}: {span_text(plan)}, "
        f"scale {args.scale:g}, {generated:,} rows",
        flush=True,
    )
    pg = {
        **postgres_settings(),
        "POSTGRES_SCHEMA": f"history_{uuid.uuid4().hex[:8]}",
        "DUCKDB_SCHEMA": "ny_taxi",
    }
    figures["disk"] = check_disk(plan, work, pg)

    print(
        f"generating {sum(len(m) for m in plan.values())} source files in {args.workers} processes …",
        flush=True,
    )
    source = generate(plan, work / "source", args.seed, args.workers)
    figures["source"] = {"seconds": source["seconds"], "bytes": source["bytes"]}
    write_zone_lookup(work / "source" / ZONES_PATH.lstrip("/"))
    for service, month in args.remove or []:
        (work / "source" / source["files"][service][month].lstrip("/")).unlink()
        print(f"removed the source file of {service} {month} (--remove)", flush=True)
    print(f"generated in {source['seconds']:.1f} s ({source['bytes'] / 1e6:,.1f} MB parquet)", flush=True)

    database = f"dagster_history_{uuid.uuid4().hex[:8]}"
    home = work / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    if args.backfill_limit:
        set_backfill_limit(home / "dagster.yaml", args.backfill_limit)
    logs = work / "logs"
    logs.mkdir()

    server = SourceServer(work / "source")
    processes: list[subprocess.Popen] = []
    sampler: RssSampler | None = None
    created_database = False
    try:
        with postgres(pg) as cur:
            cur.execute(f"CREATE DATABASE {quote(database)}")
        created_database = True
        env = environment(
            work, home, pg, database, url_template(server.base_url), server.base_url + ZONES_PATH
        )
        port = free_port()
        workspace = ["-w", str(REPO / "workspace.yaml")]
        try:
            started = time.perf_counter()
            webserver = start(
                [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), *workspace],
                env,
                logs / "webserver.log",
            )
            processes.append(webserver)
            daemon = start([str(BIN / "dagster-daemon"), "run", *workspace], env, logs / "daemon.log")
            processes.append(daemon)
            sampler = RssSampler({"webserver": webserver.pid, "daemon": daemon.pid})
            dagster = Dagster(webserver, daemon, logs, GraphQL(port))
            dagster.wait_loaded(LOAD_TIMEOUT)
            if args.days == BACKFILL:
                dagster.stop_sensor(AUTOMATION_SENSOR)
            figures["startup_s"] = time.perf_counter() - started
            print(f"web server and daemon up, location loaded in {figures['startup_s']:.1f} s", flush=True)
            # The zones first, as a deployment has them (and the demo loads them): the months'
            # zone checks read them, and the models join them. Not part of the wall time.
            zones_start = time.perf_counter()
            dagster.run_job(ZONES_JOB, LOAD_TIMEOUT)
            figures["zones_s"] = time.perf_counter() - zones_start
            print(f"zones loaded ({ZONES_JOB}) in {figures['zones_s']:.1f} s", flush=True)
            figures["backfills"] = run_backfills(
                dagster, plan, args.timeout, figures, args.days, args.analytics
            )
        finally:
            if sampler:
                sampler.stop()
            for process in processes:
                stop_group(process)
            server.close()

        figures["rss"] = {
            "dbt_workers": sampler.dbt_workers(),
            "by_kind": sampler.by_kind(),
            "peak_total_mb": sampler.peak_total_bytes / 2**20,
            "samples": sampler.samples,
            "processes": [
                {
                    "pid": p.pid,
                    "kind": p.kind,
                    "tree": p.tree,
                    "run_id": p.run_id,
                    "peak_mb": p.peak_bytes / 2**20,
                    "command": p.command,
                }
                for p in sampler.processes.values()
            ],
        }
        requests = server.requests
        figures["downloads"] = {
            f"{service}/{month}": requests[("GET", path, 200)]
            for service, per_month in source["files"].items()
            for month, path in per_month.items()
        }
        figures["requests"] = [
            {"method": m, "path": p, "status": s, "count": n} for (m, p, s), n in sorted(requests.items())
        ]
        figures["rows"] = sink_rows(work / "lake", work / "warehouse.duckdb", plan, figures["tables"], pg)
        figures["bytes"] = sink_bytes(work, source["files"], figures["tables"], pg)
        if "analytics" in figures.get("backfills", {}):
            figures["marts"] = mart_trips(
                work / "warehouse.duckdb", plan, figures["tables"], pg, figures["analytics_assets"]
            )
    finally:
        if created_database:
            with contextlib.suppress(Exception), postgres(pg) as cur:
                cur.execute(f"DROP SCHEMA IF EXISTS {quote(pg['POSTGRES_SCHEMA'])} CASCADE")
            with contextlib.suppress(Exception), postgres(pg) as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {quote(database)} WITH (FORCE)")
    return figures


def set_backfill_limit(instance: Path, limit: int) -> None:
    """The queue's limit for backfill runs (tag ``dagster/backfill``) in the copied instance file."""
    import yaml

    settings = yaml.safe_load(instance.read_text())
    limits = settings["concurrency"]["runs"]["tag_concurrency_limits"]
    next(entry for entry in limits if entry["key"] == BACKFILL_TAG)["limit"] = limit
    instance.write_text(yaml.safe_dump(settings, sort_keys=False))


def run_backfills(
    dagster: Dagster,
    plan: dict[str, dict[str, int]],
    timeout: float,
    figures: dict[str, Any],
    days: str,
    with_analytics: bool,
) -> dict[str, Any]:
    """The monthly backfill, then (if it succeeded) the daily one, then (if that succeeded) the
    analytics; their keys and tables from GraphQL.
    """
    from taxi_assets.keys import DAILY_STAGES, MONTHLY_STAGES, POSTGRES, WAREHOUSE, asset_key

    monthly_nodes = dagster.asset_nodes([asset_key(s, stage).path for s in plan for stage in MONTHLY_STAGES])
    daily_nodes = dagster.asset_nodes([asset_key(s, stage).path for s in plan for stage in DAILY_STAGES])
    figures["tables"] = {
        s: {
            "postgres": table_of(monthly_nodes[tuple(asset_key(s, POSTGRES).path)]),
            "warehouse": table_of(daily_nodes[tuple(asset_key(s, WAREHOUSE).path)]),
        }
        for s in plan
    }
    analytics = analytics_assets(dagster, plan) if with_analytics else None
    if analytics:
        figures["analytics_assets"] = {"/".join(k): p and len(p) for k, p in analytics.partitions.items()}
    setup_runs = {r["runId"] for r in dagster.gql(RUNS_QUERY, {"tags": []})["runsOrError"]["results"]}
    backfills: dict[str, Any] = {}
    print("monthly backfill …", flush=True)
    monthly_partitions = selected_partitions(monthly_nodes, lambda service, month: month in plan[service])
    monthly = backfill(dagster, "monthly", monthly_partitions, timeout)
    backfills["monthly"] = monthly
    print(f"  {monthly['statuses']} in {monthly['wall_s']:.1f} s, runs {monthly['run_statuses']}", flush=True)
    if monthly["failures"] or set(monthly["statuses"]) - SUCCEEDED:
        print("  the monthly backfill did not succeed: the daily one is not launched", flush=True)
        return backfills
    partitions = selected_partitions(daily_nodes, lambda service, day: day[:7] in plan[service])
    if days == AUTOMATION:
        print(
            "the days" + (" and the analytics" if analytics else "") + ", by the automation sensor …",
            flush=True,
        )
        daily, models = by_automation(dagster, partitions, analytics, monthly, setup_runs, timeout)
        backfills["daily"] = daily
        print(
            f"  {daily['statuses']} {daily['wall_s']:.1f} s after, runs {daily['run_statuses']}", flush=True
        )
        figures["wall_s"] = daily["ended_at"] - monthly["launched_at"]
        if models:
            backfills["analytics"] = models
            print(
                f"  analytics {models['statuses']} {models['wall_s']:.1f} s after the days, "
                f"runs {models['run_statuses']}",
                flush=True,
            )
        return backfills
    print("daily backfill …", flush=True)
    daily = backfill(dagster, "daily", partitions, timeout)
    backfills["daily"] = daily
    print(f"  {daily['statuses']} in {daily['wall_s']:.1f} s, runs {daily['run_statuses']}", flush=True)
    figures["wall_s"] = daily["ended_at"] - monthly["launched_at"]
    if not analytics:
        return backfills
    if daily["failures"] or set(daily["statuses"]) - SUCCEEDED:
        print("  the daily backfill did not succeed: the analytics are not launched", flush=True)
        return backfills
    print("analytics backfill …", flush=True)
    models = backfill(dagster, "analytics", analytics.partitions, timeout, per_service=False)
    backfills["analytics"] = models
    print(f"  {models['statuses']} in {models['wall_s']:.1f} s, runs {models['run_statuses']}", flush=True)
    return backfills


def problems_in(figures: dict[str, Any], plan: dict[str, dict[str, int]]) -> list[str]:
    problems = []
    for name, result in figures.get("backfills", {}).items():
        for status in result["statuses"]:
            if status not in SUCCEEDED:
                problems.append(f"{name} backfill ended {status}")
        for error in result["errors"]:
            problems.append(f"{name} backfill error: {error.strip().splitlines()[0]}")
        for run_id, reason in result["failures"].items():
            status = next(r["status"] for r in result["runs"] if r["run_id"] == run_id)
            problems.append(f"{name} run {run_id[:8]} {status}: {reason[:500]}")
    backfills = figures.get("backfills", {})
    if "daily" not in backfills:
        problems.append("the daily backfill was not launched (the monthly one did not succeed)")
    elif figures.get("analytics") and "analytics" not in backfills:
        problems.append("the analytics were not launched (the daily backfill did not succeed)")
    problems += compare_marts(plan, figures.get("marts", {}))
    for month, count in figures["downloads"].items():
        if count != 1:
            problems.append(f"source {month} downloaded {count} times (expected once)")
    problems += compare(plan, figures["rows"])
    return problems


def report(figures: dict[str, Any], plan: dict[str, dict[str, int]], problems: list[str]) -> None:
    generated = figures["generated_rows_total"]
    source = figures["source"]
    print(
        f"\n## {span_text(plan)}, {generated:,} rows; source "
        f"{source['bytes'] / 1e6:,.1f} MB parquet, generated in {source['seconds']:.1f} s "
        "(not in the wall time); "
        f"web server and daemon up in {figures.get('startup_s', float('nan')):.1f} s\n"
    )
    print(
        "| backfill | assets | partitions | runs launched | run statuses | backfill status | wall s | "
        "run start-up overhead, s: sum (median run: launch → first step + last step → run end) |"
    )
    print("| --- | --- | ---: | ---: | --- | --- | ---: | ---: |")
    for name, b in figures.get("backfills", {}).items():
        statuses = ", ".join(f"{n} {s}" for s, n in b["run_statuses"].items()) or "—"
        print(
            f"| {name} | {len(b['assets'])} ({', '.join(b['assets'])}) | {b['partitions']} | "
            f"{len(b['runs'])} | "
            f"{statuses} | {', '.join(b['statuses'])} | {b['wall_s']:.1f} | {overhead_text(b)} |"
        )
    wall = figures.get("wall_s")
    backfills = figures.get("backfills", {})
    overhead = sum(b["startup_s_sum"] + b["teardown_s_sum"] for b in backfills.values())
    total = total_wall(figures)
    if wall:
        runs = sum(len(b["runs"]) for b in backfills.values())
        rate = f"; the loads {wall:.1f} s, {generated / wall:,.0f} rows/s" if "daily" in backfills else ""
        print(f"| **in all** | | | {runs} | | | **{total:.1f}**{rate} | **{overhead:.1f}** |")
    for name, b in figures.get("backfills", {}).items():
        if b["note"]:
            print(f"\nnote, {name} backfill: {b['note']}")
    print(
        "\n| backfill | launch → first run starts, s | runs, sum of their s | most runs at once | "
        "last run ends → backfill done, s |\n| --- | ---: | ---: | ---: | ---: |"
    )
    for name, b in figures.get("backfills", {}).items():
        print(
            f"| {name} | {b['first_run_after_s']:.1f} | {b['run_s_sum']:.1f} | {b['most_runs_at_once']} | "
            f"{b['done_after_last_run_s']:.1f} |"
        )

    if "analytics" in backfills:
        report_analytics(figures, plan)

    rss = figures["rss"]
    print("\n| process (sampled every 0.5 s) | processes | peak RSS, largest, MB |\n| --- | ---: | ---: |")
    for kind, entry in sorted(rss["by_kind"].items()):
        print(f"| {kind} | {entry['processes']} | {entry['peak_mb']:,.0f} |")
    print(
        f"| **all of them at once (peak of the sum)** | {len(rss['processes'])} | "
        f"**{rss['peak_total_mb']:,.0f}** |"
    )
    workers = sorted((p for p in rss["processes"] if p["kind"] == "run worker"), key=lambda p: -p["peak_mb"])
    if workers:
        print("\n| run worker | peak RSS MB |\n| --- | ---: |")
        for p in workers:
            print(f"| {p['run_id'] or p['command'][:60]} | {p['peak_mb']:,.0f} |")

    print("\n| service | sink | rows | expected | |\n| --- | --- | ---: | ---: | --- |")
    for service, sinks in figures["rows"].items():
        total = {sink: sum(v or 0 for v in per_month.values()) for sink, per_month in sinks.items()}
        gen = sum(plan[service].values())
        expected = {
            "raw": gen,
            "cleaned + rejected": gen,
            "postgres": total["cleaned"],
            "lake daily": total["cleaned"],
            "duckdb": total["cleaned"],
        }
        got = {**total, "cleaned + rejected": total["cleaned"] + total["rejected"]}
        print(f"| {service} | generated | {gen:,} | | |")
        for sink, want in expected.items():
            print(
                f"| {service} | {sink} | {got[sink]:,} | {want:,} | "
                f"{'ok' if got[sink] == want else 'DIFFERS'} |"
            )

    downloads = figures["downloads"]
    once = sum(1 for n in downloads.values() if n == 1)
    others = [r for r in figures["requests"] if not (r["method"] == "GET" and r["status"] == 200)]
    print(f"\nsource downloads: {once} of {len(downloads)} files fetched exactly once", end="")
    print(
        "; other requests: "
        + ", ".join(f"{r['method']} {r['path']} → {r['status']} ×{r['count']}" for r in others)
        if others
        else "; no other request"
    )

    failed = sum(
        n
        for b in figures.get("backfills", {}).values()
        for s, n in b["run_statuses"].items()
        if s != "SUCCESS"
    )
    full = sum(sum(PUBLISHED[s][1]) for s in plan)
    print("\n| figure | value | target (full size) |\n| --- | ---: | --- |")
    print(f"| rows backfilled (generated) | {generated:,} | {full / 1e6:,.1f}M at --scale 1 |")
    print(f"| wall time, both backfills | {f'{wall:.1f} s' if wall else '—'} | {wall_target(plan)} |")
    most = max((b["most_runs_at_once"] for b in figures.get("backfills", {}).values()), default=1)
    print(
        f"| run start-up overhead, summed over the runs (launch → first step, last step → run end) | "
        f"{overhead:.1f} s (runs overlap: at most {most} at once) | |"
    )
    print(f"| months downloaded exactly once | {once} / {len(downloads)} | all |")
    print(f"| runs not succeeded | {failed} | 0 |")
    print(
        f"| peak RSS, largest process | "
        f"{max((p['peak_mb'] for p in rss['processes']), default=0):,.0f} MB | |"
    )
    sinks_ok = not compare(plan, figures["rows"])
    print(f"| every sink's rows = generated totals | {'yes' if sinks_ok else 'no'} | yes |")
    print_bytes(figures, plan)
    if problems:
        print(f"\nFAILED: {len(problems)} problem(s)")
        for problem in problems[:50]:
            print(f"- {problem}")
        if len(problems) > 50:
            print(f"- … and {len(problems) - 50} more (all in --json)")
    else:
        marts = ", the marts count the warehouse's trips" if figures.get("marts") else ""
        print(
            "\nOK: every run succeeded, every month was downloaded once, every sink holds the generated "
            f"rows{marts}"
        )


def total_wall(figures: dict[str, Any]) -> float:
    """The months' launch to the last thing done: the analytics if built, else the days."""
    backfills = figures.get("backfills", {})
    if "analytics" in backfills:
        return backfills["analytics"]["ended_at"] - backfills["monthly"]["launched_at"]
    return figures.get("wall_s") or 0.0


def report_analytics(figures: dict[str, Any], plan: dict[str, dict[str, int]]) -> None:
    """The analytics' figures: wall time against the loads' (the issue's ≤ 20%), runs, the memory
    of the runs that ran dbt, and the marts' trips against the warehouse's.
    """
    a, wall = figures["backfills"]["analytics"], figures["wall_s"]
    statuses = ", ".join(f"{n} {s}" for s, n in a["run_statuses"].items()) or "—"
    dbt = figures["rss"]["dbt_workers"]
    largest = max(dbt, key=lambda w: w["tree_mb"], default=None)
    marts = figures.get("marts", {})
    print("\n| analytics | value | target |\n| --- | ---: | --- |")
    print(
        f"| assets built (dbt's models, the chart) | {len(a['assets'])}, "
        f"{a['partitions']} months each partitioned one | |"
    )
    if figures["days"] == AUTOMATION:
        print(f"| wall time: the last day run's end → the last analytics run's end | {a['wall_s']:.1f} s | |")
        print(f"| its runs, the first's start → the last's end (beside the days') | {a['span_s']:.1f} s | |")
    else:
        print(f"| wall time: its backfill, launch → done | {a['wall_s']:.1f} s | |")
    print(f"| the loads' wall time: months and days | {wall:.1f} s | |")
    print(f"| **analytics / loads** | **{a['wall_s'] / wall:.1%}** | ≤ 20% |")
    print(
        f"| wall time, all of it: the months' launch → the analytics done | {total_wall(figures):.1f} s | |"
    )
    print(f"| runs | {len(a['runs'])}: {statuses} | all SUCCESS |")
    if largest:
        print(
            f"| peak RSS of a run worker with its dbt (process tree at one instant), largest | "
            f"{largest['tree_mb']:,.0f} MB (worker {largest['worker_mb']:,.0f}, dbt "
            f"{largest['dbt_mb']:,.0f}) | |"
        )
        print(f"| peak RSS of dbt alone, largest | {max(w['dbt_mb'] for w in dbt):,.0f} MB | |")
        print(f"| run workers that ran dbt | {len(dbt)} | |")
    else:
        print("| peak RSS of the runs that ran dbt | no dbt process was sampled | |")
    same = "yes" if marts and not compare_marts(plan, marts) else "no"
    print(f"| every month's trips in the marts = the warehouse's | {same} | yes |")
    if marts:
        print("\n| service | month | mart | trips in the mart | in the warehouse | |")
        print("| --- | --- | --- | ---: | ---: | --- |")
        for service, counts in marts.items():
            for month in plan[service]:
                got, want = counts["mart"][month], counts["warehouse"][month]
                shown = [n if n is None else f"{n:,}" for n in (got, want)]
                print(
                    f"| {service} | {month} | {MARTS[service][0]} | {shown[0]} | {shown[1]} | "
                    f"{'ok' if got and got == want else 'DIFFERS'} |"
                )


def overhead_text(b: dict[str, Any]) -> str:
    if b["startup_s_median"] is None:
        return "—"
    ends = f" + {b['teardown_s_median']:.2f}" if b["teardown_s_median"] is not None else ""
    return f"{b['startup_s_sum'] + b['teardown_s_sum']:.1f} ({b['startup_s_median']:.2f}{ends})"


def wall_target(plan: dict[str, dict[str, int]]) -> str:
    """Issue 17's target for the course's range, issue 26's for the high-volume FHV year."""
    targets = {"yellow": "≤ 20 min (yellow and green)", "green": "≤ 20 min (yellow and green)"}
    targets["fhvhv"] = "≤ 25 min (fhvhv)"
    return ", ".join(dict.fromkeys(targets[s] for s in plan))


def print_bytes(figures: dict[str, Any], plan: dict[str, dict[str, int]]) -> None:
    """What each sink held per generated row (what BYTES_PER_ROW records), and what that makes for
    every published month of each service at --scale 1.
    """
    if not figures.get("bytes"):
        return
    print(
        "\n| bytes per generated row | "
        + " | ".join(SINKS)
        + " | all |\n| --- |"
        + " ---: |" * (len(SINKS) + 1)
    )
    for service, sinks in figures["bytes"].items():
        rows = sum(plan[service].values())
        print(
            f"| {service} | "
            + " | ".join(f"{sinks[sink] / rows:,.1f}" for sink in SINKS)
            + f" | {sum(sinks.values()) / rows:,.1f} |"
        )
    for service, sinks in figures["bytes"].items():
        rows, full = sum(plan[service].values()), sum(PUBLISHED[service][1])
        first, counts = PUBLISHED[service]
        print(
            f"{service} at --scale 1 ({full:,} rows, {first} … {months_from(first, len(counts))[-1]}): "
            f"about {gb(sum(sinks.values()) / rows * full)} in these sinks"
        )


def interrupted(signum: int, frame: Any) -> None:
    """SIGTERM ends the benchmark as Ctrl-C does: through the finally blocks that clean up."""
    raise KeyboardInterrupt


def services_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PUBLISHED]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown services {unknown}; choose from {', '.join(PUBLISHED)}")
    return names


def service_month(text: str) -> tuple[str, str]:
    service, _, month = text.partition("/")
    if not service or not month:
        raise argparse.ArgumentTypeError(f"{text!r} is not SERVICE/YYYY-MM")
    return service, month


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--service",
        type=services_list,
        action="append",
        help=f"repeatable or comma-separated, of {', '.join(PUBLISHED)} "
        f"(default: {', '.join(DEFAULT_SERVICES)})",
    )
    parser.add_argument(
        "--months", type=int, help="the first N months of each service (default all: 31, fhvhv 12)"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every month's rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help="generator processes"
    )
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds to wait for each backfill")
    parser.add_argument(
        "--days",
        choices=(BACKFILL, AUTOMATION),
        default=BACKFILL,
        help="the days by a second backfill once every month landed (the UI user's way), or by the "
        "automation sensor as each month lands (a deployment's)",
    )
    parser.add_argument(
        "--analytics",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="build the analytics (dbt's models, the chart) after the days and measure them (default); "
        "--no-analytics measures the loads alone (with --days backfill only: the automation sensor "
        "builds the analytics as a deployment does)",
    )
    parser.add_argument(
        "--backfill-limit",
        type=int,
        help="try another limit for backfill runs at once (deploy/dagster.yaml's dagster/backfill: 2)",
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (source, lake, logs)")
    parser.add_argument(
        "--remove",
        type=service_month,
        action="append",
        metavar="SERVICE/YYYY-MM",
        help="delete that month's source file after generating it (to see the benchmark fail)",
    )
    args = parser.parse_args()
    args.service = list(dict.fromkeys(s for chosen in args.service or [DEFAULT_SERVICES] for s in chosen))
    most = max(len(PUBLISHED[s][1]) for s in args.service)
    if not 1 <= (args.months or most) <= most or args.scale <= 0:
        parser.error(f"--months must be 1-{most} and --scale positive")
    if args.days == AUTOMATION and not args.analytics:
        parser.error("--no-analytics needs --days backfill: with --days automation the sensor builds them")
    plan = planned_rows(args.service, args.months, args.scale)
    for service, month in args.remove or []:
        if month not in plan.get(service, {}):
            parser.error(f"--remove {service}/{month}: not a generated month")

    signal.signal(signal.SIGTERM, interrupted)
    work = Path(tempfile.mkdtemp(prefix="taxi-history-"))
    try:
        figures = bench(args, work)
    except BenchmarkError as error:
        print(f"\nbenchmark error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("\ninterrupted: stopped the web server and daemon, dropped the database", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    problems = problems_in(figures, plan)
    figures["problems"] = problems
    report(figures, plan, problems)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
        print(f"figures written to {args.json}")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
