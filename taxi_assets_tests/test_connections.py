"""The connection check (the course's test_config): per sink, OK or the setting to fix, against
the real PostgreSQL, a lake folder, DuckDB and the BigQuery emulator. ``taxi-check`` runs as a
user runs it, in the environment the test sets; the job runs on the resources it is given.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from taxi_assets.connections import PROBE_DIR
from taxi_assets.defs.connections import check_connections
from taxi_assets.resources.duckdb_warehouse import DuckDBWarehouse
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests.support.environment import SETTING_PREFIXES
from taxi_assets_tests.support.google import BigQueryEmulator
from taxi_assets_tests.support.processes import free_port

TAXI_CHECK = str(Path(sys.executable).with_name("taxi-check"))


@pytest.fixture
def environment(tmp_path: Path, postgres: PostgresResource) -> dict[str, str]:
    """Settings a user would export: a lake folder, a DuckDB file, this test's Postgres schema."""
    settings = {
        "TAXI_LAKE_URI": str(tmp_path / "lake"),
        "DUCKDB_DATABASE": str(tmp_path / "warehouse.duckdb"),
        "POSTGRES_HOST": postgres.host,
        "POSTGRES_PORT": str(postgres.port),
        "POSTGRES_DBNAME": postgres.dbname,
        "POSTGRES_USER": postgres.user,
        "POSTGRES_SCHEMA": postgres.schema_name,
        "POSTGRES_CONNECT_TIMEOUT": "3",
    }
    return {**{k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}, **settings}


def taxi_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TAXI_CHECK], env=env, capture_output=True, text=True, timeout=120)


def outcomes(env: dict[str, str]) -> dict[str, tuple[bool, str]]:
    """Each sink's line of taxi-check's report: whether it says OK, and the rest of the line."""
    report = taxi_check(env)
    answers = {}
    for line in report.stdout.splitlines():
        sink, verdict, rest = line.split(maxsplit=2)
        answers[sink] = (verdict == "OK", rest)
    assert answers, report.stderr[-3000:]
    return answers


def schema_exists(postgres: PostgresResource) -> bool:
    with postgres.connect() as conn, conn.cursor() as cur:
        query = "SELECT count(*) FROM pg_namespace WHERE nspname = $1"
        cur.execute(query, parameters=(postgres.schema_name,))
        return cur.fetchone()[0] == 1


@pytest.mark.processes
def test_every_sink_answers_ok_and_nothing_is_left_behind(
    environment: dict[str, str], postgres: PostgresResource
) -> None:
    report = taxi_check(environment)
    assert report.returncode == 0, report.stdout + report.stderr[-3000:]
    lines = report.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["lake", "OK"], ["warehouse", "OK"], ["postgres", "OK"]]
    assert "duckdb" in lines[1] and postgres.schema_name in lines[2]
    lake = Path(environment["TAXI_LAKE_URI"])
    assert not list(lake.rglob("*.parquet"))
    assert not (lake / PROBE_DIR).exists()
    assert not schema_exists(postgres)


# A port nothing listens on, picked when the test runs: test ids must be the same in every
# process that collects them (pytest-xdist's workers).
CLOSED_PORT = "a-closed-port"


@pytest.mark.processes
@pytest.mark.parametrize(
    ("sink", "setting", "value"),
    [
        ("lake", "TAXI_LAKE_URI", "gs://Not_A_Bucket/lake"),
        ("warehouse", "DUCKDB_DATABASE", "/nonexistent/folder/warehouse.duckdb"),
        ("postgres", "POSTGRES_USER", "nobody_here"),
        ("postgres", "POSTGRES_DBNAME", "no_such_database"),
        ("postgres", "POSTGRES_PORT", CLOSED_PORT),
        ("postgres", "POSTGRES_HOST", "no-such-host.invalid"),
    ],
)
def test_a_wrong_setting_is_named_and_the_other_sinks_still_answer(
    environment: dict[str, str], sink: str, setting: str, value: str
) -> None:
    value = str(free_port()) if value == CLOSED_PORT else value
    # Trust auth ignores the password; it must never show.
    answers = outcomes({**environment, setting: value, "POSTGRES_PASSWORD": "s3cret-pw"})
    ok, detail = answers[sink]
    assert not ok
    assert setting in detail
    assert "s3cret-pw" not in detail
    assert all(ok for name, (ok, _) in answers.items() if name != sink)


@pytest.mark.processes
def test_the_bigquery_warehouse_is_checked_with_select_1(
    environment: dict[str, str], bigquery: BigQueryEmulator
) -> None:
    env = {**environment, **bigquery.environment(), "GCP_PROJECT": bigquery.project}
    ok, detail = outcomes({**env, "BIGQUERY_DATASET": bigquery.dataset})["warehouse"]
    assert ok and f"bigquery {bigquery.project}.{bigquery.dataset}" in detail

    ok, detail = outcomes({**env, "BIGQUERY_DATASET": "not_there"})["warehouse"]
    assert not ok and "BIGQUERY_DATASET 'not_there'" in detail

    without_project = {k: v for k, v in env.items() if k != "GCP_PROJECT"}
    ok, detail = outcomes({**without_project, "TAXI_WAREHOUSE": "bigquery"})["warehouse"]
    assert not ok and "GCP_PROJECT is not set" in detail

    assert outcomes({**env, "TAXI_WAREHOUSE": "snowflake"}) == {
        "settings": (False, "TAXI_WAREHOUSE 'snowflake' is not one of duckdb, bigquery")
    }


def test_the_check_is_a_job_in_the_ui_that_fails_naming_the_sink(
    tmp_path: Path, postgres: PostgresResource
) -> None:
    resources = {
        "lake": Lake(base_uri=str(tmp_path / "lake")),
        "warehouse": DuckDBWarehouse(database=str(tmp_path / "warehouse.duckdb")),
        "postgres": postgres,
    }
    assert check_connections.execute_in_process(resources=resources).success

    wrong = PostgresResource(
        host=postgres.host, port=postgres.port, dbname="no_such_database", connect_timeout=3
    )
    result = check_connections.execute_in_process(
        resources={**resources, "postgres": wrong}, raise_on_error=False
    )
    assert not result.success
    [failure] = result.get_step_failure_events()
    data = failure.step_failure_data
    assert data.user_failure_data.description == "1 of 3 sinks failed: postgres"
    assert "POSTGRES_DBNAME" in data.user_failure_data.metadata["postgres"].value


@pytest.mark.processes
def test_taxi_check_is_a_command_that_exits_nonzero_on_failure(environment: dict[str, str]) -> None:
    assert taxi_check(environment).returncode == 0
    failed = taxi_check({**environment, "TAXI_LAKE_URI": "gs://Not_A_Bucket/lake"})
    assert failed.returncode == 1
    assert "TAXI_LAKE_URI" in failed.stdout and "lake       FAILED" in failed.stdout
