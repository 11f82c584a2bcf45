"""Runs whose process died (kill -9 mid-COPY) heal by Dagster's own mechanisms: under the daemon
the run is failed and retried (run_retries), and the month lands once; from the command line,
where nothing watches the run, the next run is not held up by it.
"""

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psutil
import pytest

from taxi_assets.keys import CLEANED, DAILY_STAGES, MONTHLY_STAGES
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.sql import quote_literal
from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.cli import env_for, materialize_command, start_dagster_dev, wait_until_loaded
from taxi_assets_tests.support.graphql import graphql
from taxi_assets_tests.support.oracle import course_cleaning, rows_per_pickup_day
from taxi_assets_tests.support.processes import free_port, start, stop_group, wait_for
from taxi_assets_tests.support.sinks import (
    connections_on_schema,
    postgres_months,
    read_lake_month,
    warehouse_rows_per_day,
)
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.command_line import selection_string

pytestmark = pytest.mark.processes

# Enough rows that PostgreSQL's COPY of the month takes a moment to catch (about a second).
ROWS = 300_000
MONTH = "2021-01"
JANUARY = [f"2021-01-{day:02}" for day in range(1, 32)]
# A month's load in PostgreSQL (ADBC reads results with COPY ... TO STDOUT too: loads are COPYs FROM STDIN).
COPYING_IN = "query ILIKE 'COPY %FROM STDIN%'"


def monthly_run(service: str, month: str) -> list[str]:
    return materialize_command(selection_string(service, MONTHLY_STAGES), "--partition", month)


@pytest.fixture
def run_env(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The CLI's environment: the repo's dagster.yaml (SQLite storage) in a DAGSTER_HOME of its
    own, trips into this test's Postgres schema; this process opens the same instance.
    """
    env = env_for(tmp_path, source_server)
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    env.update(
        POSTGRES_HOST=postgres.host,
        POSTGRES_PORT=str(postgres.port),
        POSTGRES_USER=postgres.user,
        POSTGRES_DBNAME=postgres.dbname,
        POSTGRES_SCHEMA=postgres.schema_name,
    )
    for name in list(os.environ):
        if name.startswith("DAGSTER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    return env


@pytest.fixture
def instance(run_env: dict[str, str]) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.get() as instance:
        yield instance


def loose_tables(postgres: PostgresResource) -> list[str]:
    """Tables in the schema that are neither a partitioned table nor one of its partitions."""
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {quote_literal(postgres.schema_name)} AND c.relkind = 'r' "
            "AND NOT c.relispartition"
        )
        return [name for (name,) in cur.fetchall()]


def runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return [record.dagster_run for record in instance.get_run_records()]


def assert_the_month_landed_once(
    run_env: dict[str, str], postgres: PostgresResource, published: Path
) -> None:
    cleaned = read_lake_month(Path(run_env["TAXI_LAKE_URI"]), CLEANED, "yellow", MONTH)
    assert len(cleaned) == len(course_cleaning(published, "yellow", MONTH))
    assert {month: rows for month, (rows, _) in postgres_months(postgres, "yellow").items()} == {
        MONTH: len(cleaned)
    }
    assert loose_tables(postgres) == [], "the killed load's table was dropped"


def test_a_command_line_run_killed_mid_copy_does_not_hold_up_the_next(
    tmp_path: Path,
    source_server: SourceServer,
    postgres: PostgresResource,
    run_env: dict[str, str],
    instance: dg.DagsterInstance,
) -> None:
    published = source_server.publish("yellow", MONTH, rows=ROWS)
    log = tmp_path / "killed.log"
    process = start(monthly_run("yellow", MONTH), run_env, log, REPO)
    try:
        wait_for(
            "PostgreSQL to copy the month in",
            lambda: (
                connections_on_schema(postgres, COPYING_IN)
                or (process.poll() is not None and pytest.fail(log.read_text()[-3000:]))
            ),
            every=0.01,
        )
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        stop_group(process)
    [killed] = runs(instance)
    # Nothing watches a run the command line executes itself: Dagster cannot know it died.
    assert killed.status == dg.DagsterRunStatus.STARTED

    # A user runs the month again at once: nothing it needs is held by the dead run.
    rerun = subprocess.run(
        monthly_run("yellow", MONTH), env=run_env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert_the_month_landed_once(run_env, postgres, published)


def test_two_command_line_runs_of_the_warehouse_at_once_both_load(
    tmp_path: Path, source_server: SourceServer, run_env: dict[str, str]
) -> None:
    """DuckDB has one writer: a run that bypasses the queue waits for the other's write to end."""
    published = source_server.publish("yellow", MONTH, rows=ROWS)
    first = subprocess.run(
        monthly_run("yellow", MONTH), env=run_env, cwd=REPO, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr[-3000:]
    days = selection_string("yellow", DAILY_STAGES)
    ranges = ("2021-01-01...2021-01-15", "2021-01-16...2021-01-31")
    both = [
        start(materialize_command(days, "--partition-range", r), run_env, tmp_path / f"days{n}.log", REPO)
        for n, r in enumerate(ranges)
    ]
    try:
        for n, process in enumerate(both):
            assert process.wait(timeout=300) == 0, (tmp_path / f"days{n}.log").read_text()[-3000:]
    finally:
        for process in both:
            stop_group(process)
    expected = rows_per_pickup_day(course_cleaning(published, "yellow", MONTH), "yellow")
    assert warehouse_rows_per_day(Path(run_env["DUCKDB_DATABASE"]), "yellow") == expected


def loading_process(postgres: PostgresResource) -> psutil.Process | None:
    """The process on this machine whose connection is copying a month into this test's schema."""
    ports = set(connections_on_schema(postgres, COPYING_IN))
    for connection in psutil.net_connections("tcp"):
        if connection.laddr and connection.laddr.port in ports and connection.pid:
            return psutil.Process(connection.pid)
    return None


def test_a_run_killed_under_the_daemon_is_failed_retried_and_its_days_follow(
    tmp_path: Path,
    source_server: SourceServer,
    postgres: PostgresResource,
    run_env: dict[str, str],
) -> None:
    """`dagster dev` as a user runs it: the monthly job launched from the UI (GraphQL), its run
    worker SIGKILLed mid-COPY. Dagster fails the run, retries it (run_retries), and declarative
    automation then sends the month's days through the daily lake and the warehouse.
    """
    published = source_server.publish("yellow", MONTH, rows=ROWS)
    port, log = free_port(), tmp_path / "dagster-dev.log"
    dev = start_dagster_dev(run_env, log, port)

    def query(text: str) -> dict:
        assert dev.poll() is None, log.read_text()[-3000:]
        return graphql(port, text)

    def run(run_id: str) -> dict:
        return query(
            f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status tags {{ key value }} }} }} }}'
        )["runOrError"]

    try:
        wait_until_loaded(port, dev, log)
        launched = query(
            "mutation { launchPipelineExecution(executionParams: { selector: {"
            ' repositoryLocationName: "taxi_assets", repositoryName: "__repository__",'
            ' pipelineName: "yellow_monthly_trips"}, mode: "default",'
            f' executionMetadata: {{tags: [{{key: "dagster/partition", value: "{MONTH}"}}]}} }})'
            " { __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }"
            " ... on PipelineNotFoundError { message } } }"
        )["launchPipelineExecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        killed = launched["run"]["runId"]

        worker = wait_for(
            "the run worker to copy the month in", lambda: loading_process(postgres), every=0.01
        )
        assert worker.pid != dev.pid
        worker.kill()

        wait_for("Dagster to fail the killed run", lambda: run(killed)["status"] == "FAILURE", timeout=120)
        retried = wait_for(
            "the retry's run",
            lambda: query(
                f'{{ runsOrError(filter: {{tags: [{{key: "dagster/parent_run_id", value: "{killed}"}}]}}) '
                "{ ... on Runs { results { runId } } } }"
            )["runsOrError"]["results"],
            timeout=300,
            every=1,
        )
        [retry] = [r["runId"] for r in retried]
        assert (
            wait_for(
                "the retry to end",
                lambda: (s := run(retry)["status"]) in ("SUCCESS", "FAILURE") and s,
                every=1,
            )
            == "SUCCESS"
        ), log.read_text()[-3000:]

        def days_loaded() -> bool:
            [node] = query(
                '{ assetNodes(assetKeys: [{path: ["yellow", "warehouse_trips"]}]) '
                "{ partitionStats { numMaterialized } } }"
            )["assetNodes"]
            return node["partitionStats"]["numMaterialized"] == len(JANUARY)

        wait_for("automation to load the month's days", days_loaded, timeout=300, every=1)

        def check_ended() -> tuple[str, str] | None:
            # The check runs after the days are stored, in the same run: wait for its answer.
            [node] = query(
                '{ assetNodes(assetKeys: [{path: ["yellow", "warehouse_trips"]}]) { assetChecksOrError '
                "{ ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } } } }"
            )["assetNodes"]
            [check] = node["assetChecksOrError"]["checks"]
            status = (check["executionForLatestMaterialization"] or {}).get("status")
            return None if status in (None, "PLANNED", "IN_PROGRESS") else (check["name"], status)

        assert wait_for("the warehouse check's answer", check_ended, timeout=300, every=1) == (
            "matches_lake",
            "SUCCEEDED",
        )
        every_run = query("{ runsOrError { ... on Runs { results { tags { key } } } } }")["runsOrError"][
            "results"
        ]
        assert not {t["key"] for r in every_run for t in r["tags"] if t["key"].startswith("taxi/")}
    finally:
        stop_group(dev)

    assert_the_month_landed_once(run_env, postgres, published)
    expected = rows_per_pickup_day(course_cleaning(published, "yellow", MONTH), "yellow")
    assert warehouse_rows_per_day(Path(run_env["DUCKDB_DATABASE"]), "yellow") == expected
