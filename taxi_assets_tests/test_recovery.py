"""A run whose process died (kill -9 mid-COPY) must not wedge the runs after it: the next run heals
by itself, `taxi-recover` heals at once, the daemon's sensor heals within its tick; and a run
waiting for a slot held by a live run says what it waits for and stops on Ctrl-C.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from taxi_assets.constants import postgres_table
from taxi_assets.keys import CLEANED, MONTHLY_STAGES, selection_string
from taxi_assets.recovery import PID_TAG, dead_run_sensor
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.sql import quote_literal
from taxi_assets_tests.conftest import SourceServer, free_port
from taxi_assets_tests.processes import start, stop_group, wait_for
from taxi_assets_tests.session import course_cleaning, postgres_months, read_lake_month
from taxi_assets_tests.test_cli import REPO, env_for, materialize_command

# Enough rows that PostgreSQL's COPY of the month takes a moment to catch (about a second).
ROWS = 300_000
MONTH = "2021-01"


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


def copying(postgres: PostgresResource) -> int:
    """How many COPYs into this test's schema PostgreSQL is running (or waiting to run)."""
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            # ADBC reads results with COPY ... TO STDOUT too: the loads are the COPYs FROM STDIN.
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND query ILIKE 'COPY %FROM STDIN%' "
            f"AND position({quote_literal(postgres.schema_name)} in query) > 0"
        )
        return cur.fetchone()[0]


def loose_tables(postgres: PostgresResource) -> list[str]:
    """Tables in the schema that are neither a partitioned table nor one of its partitions."""
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {quote_literal(postgres.schema_name)} AND c.relkind = 'r' "
            "AND NOT c.relispartition"
        )
        return [name for (name,) in cur.fetchall()]


def only_run(instance: dg.DagsterInstance) -> dg.DagsterRun:
    [run] = instance.get_runs()
    return run


def kill_mid_copy(
    env: dict[str, str], postgres: PostgresResource, instance: dg.DagsterInstance, log: Path
) -> dg.DagsterRun:
    """Starts the month's run, SIGKILLs its process group while PostgreSQL copies the month in,
    and returns the run as the instance then has it.
    """
    process = start(monthly_run("yellow", MONTH), env, log, REPO)
    try:
        wait_for(
            "PostgreSQL to copy the month in",
            lambda: (
                copying(postgres) or (process.poll() is not None and pytest.fail(log.read_text()[-3000:]))
            ),
            every=0.01,
        )
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        stop_group(process)
    return only_run(instance)


def held_slots(instance: dg.DagsterInstance) -> set[str]:
    """Runs holding or waiting for a pool slot."""
    return instance.event_log_storage.get_concurrency_run_ids()


@pytest.mark.parametrize("heal", ["the next run", "taxi-recover", "the sensor", "the daemon"])
def test_a_run_killed_mid_copy_does_not_block_the_month(
    heal: str,
    tmp_path: Path,
    source_server: SourceServer,
    postgres: PostgresResource,
    run_env: dict[str, str],
    instance: dg.DagsterInstance,
) -> None:
    published = source_server.publish("yellow", MONTH, rows=ROWS)
    killed = kill_mid_copy(run_env, postgres, instance, tmp_path / "killed.log")
    assert killed.status == dg.DagsterRunStatus.STARTED, "nothing ended the killed run"
    assert killed.run_id in held_slots(instance), "the killed run kept its pool slot"

    if heal == "taxi-recover":
        recovered = subprocess.run(
            [str(Path(sys.executable).with_name("taxi-recover"))],
            env=run_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert recovered.returncode == 0, recovered.stderr[-3000:]
        [line] = [line for line in recovered.stdout.splitlines() if killed.run_id in line]
        assert line.startswith("recovered") and "is gone" in line and "postgres" in line, recovered.stdout
        again = subprocess.run(
            [str(Path(sys.executable).with_name("taxi-recover"))], env=run_env, capture_output=True, text=True
        )
        assert again.stdout.startswith("nothing to recover"), again.stdout
    elif heal == "the sensor":
        result = dead_run_sensor(dg.build_sensor_context(instance=instance))
        assert killed.run_id in result.skip_message and "is gone" in result.skip_message
    elif heal == "the daemon":
        # dagster dev's daemon ticks dead_run_sensor (on by default) every 30 s.
        dev = start(
            [sys.executable, "-m", "dagster", "dev", "--host", "127.0.0.1", "--port", str(free_port())],
            run_env,
            tmp_path / "dagster-dev.log",
            REPO,
        )
        try:
            wait_for(
                "the daemon to fail the killed run",
                lambda: instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE,
                timeout=300,
                every=1,
            )
        finally:
            stop_group(dev)

    if heal != "the next run":
        failed = instance.get_run_by_id(killed.run_id)
        assert failed.status == dg.DagsterRunStatus.FAILURE
        assert not held_slots(instance)
        return

    # A user runs the month again, with nothing done in between.
    rerun = subprocess.run(
        monthly_run("yellow", MONTH),
        env=run_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    output = rerun.stdout + rerun.stderr
    assert f"recovered before starting: run {killed.run_id}" in output
    assert f"pid {killed.tags[PID_TAG]}" in output

    failed = instance.get_run_by_id(killed.run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    [failure] = instance.all_logs(killed.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert f"pid {killed.tags[PID_TAG]}" in failure.dagster_event.message
    assert not held_slots(instance)

    cleaned = read_lake_month(Path(run_env["TAXI_LAKE_URI"]), CLEANED, "yellow", MONTH)
    assert len(cleaned) == len(course_cleaning(published, "yellow", MONTH))
    assert {month: rows for month, (rows, _) in postgres_months(postgres, "yellow").items()} == {
        MONTH: len(cleaned)
    }
    assert loose_tables(postgres) == [], "the killed load's table was dropped"


def blocked_on_a_lock(postgres: PostgresResource) -> int:
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            f"AND wait_event_type = 'Lock' AND position({quote_literal(postgres.schema_name)} in query) > 0"
        )
        return cur.fetchone()[0]


def test_a_run_waiting_for_a_live_runs_slot_says_so_and_stops_on_ctrl_c(
    tmp_path: Path,
    source_server: SourceServer,
    postgres: PostgresResource,
    run_env: dict[str, str],
    instance: dg.DagsterInstance,
) -> None:
    for month in ("2021-01", "2021-02", "2021-03"):
        source_server.publish("yellow", month)
    first = subprocess.run(
        monthly_run("yellow", "2021-02"), env=run_env, cwd=REPO, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr[-3000:]
    table = postgres.table(postgres_table("yellow"))

    # A reader holding the table keeps the next load (alive) in its step, with the pool's slot.
    with postgres.connect() as reader, reader.cursor() as lock:
        lock.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        holder = start(monthly_run("yellow", "2021-01"), run_env, tmp_path / "holder.log", REPO)
        waiter = None
        try:
            wait_for("the first load to wait for the table", lambda: blocked_on_a_lock(postgres))
            [holding] = [r for r in instance.get_runs() if r.status == dg.DagsterRunStatus.STARTED]
            assert held_slots(instance) == {holding.run_id}

            waiter_log = tmp_path / "waiter.log"
            waiter = start(monthly_run("yellow", "2021-03"), run_env, waiter_log, REPO)
            said = wait_for(
                "the second run to say what it waits for",
                lambda: [line for line in waiter_log.read_text().splitlines() if "waits for a slot" in line],
            )
            assert f"held by run {holding.run_id} (STARTED, pid {holding.tags[PID_TAG]}" in said[0]
            [waiting] = [
                r for r in instance.get_runs() if r.run_id != holding.run_id and r.status.value == "STARTED"
            ]

            os.killpg(waiter.pid, signal.SIGINT)
            # Bounded by the run's own clean-up, not by a wait for the slot (which never comes).
            assert waiter.wait(timeout=120) != 0
            assert instance.get_run_by_id(waiting.run_id).status == dg.DagsterRunStatus.FAILURE
            assert held_slots(instance) == {holding.run_id}, "the stopped run gave up its place in the queue"
        finally:
            if waiter is not None:
                stop_group(waiter)
            reader.rollback()
        # The live run was never taken for dead: it finishes once the table is free.
        assert holder.wait(timeout=300) == 0, (tmp_path / "holder.log").read_text()[-3000:]
    assert instance.get_run_by_id(holding.run_id).status == dg.DagsterRunStatus.SUCCESS
    assert not held_slots(instance)
