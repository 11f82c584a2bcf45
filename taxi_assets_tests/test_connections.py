"""The connection check (the course's test_config): per sink, OK or the setting to fix, against
the real PostgreSQL, a lake folder, DuckDB and the BigQuery emulator.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from taxi_assets.connections import PROBE_DIR, check_connections, check_environment, main
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests.conftest import BigQueryEmulator, free_port


@pytest.fixture
def environment(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, postgres: PostgresResource
) -> Path:
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
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("POSTGRES_PASSWORD", raising=False)
    return tmp_path


def outcome_of(sink: str) -> tuple[bool, str]:
    [outcome] = [c for c in check_environment() if c.sink == sink]
    return outcome.ok, f"{outcome.where} {outcome.detail}"


def schema_exists(postgres: PostgresResource) -> bool:
    with postgres.connect() as conn, conn.cursor() as cur:
        query = "SELECT count(*) FROM pg_namespace WHERE nspname = $1"
        cur.execute(query, parameters=(postgres.schema_name,))
        return cur.fetchone()[0] == 1


def test_every_sink_answers_ok_and_nothing_is_left_behind(
    environment: Path, postgres: PostgresResource, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["lake", "OK"], ["warehouse", "OK"], ["postgres", "OK"]]
    assert "duckdb" in lines[1] and postgres.schema_name in lines[2]
    assert not list((environment / "lake").rglob("*.parquet"))
    assert not (environment / "lake" / PROBE_DIR).exists()
    assert not schema_exists(postgres)


@pytest.mark.parametrize(
    ("sink", "setting", "value"),
    [
        ("lake", "TAXI_LAKE_URI", "gs://Not_A_Bucket/lake"),
        ("warehouse", "DUCKDB_DATABASE", "/nonexistent/folder/warehouse.duckdb"),
        ("postgres", "POSTGRES_USER", "nobody_here"),
        ("postgres", "POSTGRES_DBNAME", "no_such_database"),
        ("postgres", "POSTGRES_PORT", str(free_port())),
        ("postgres", "POSTGRES_HOST", "no-such-host.invalid"),
    ],
)
def test_a_wrong_setting_is_named_and_the_other_sinks_still_answer(
    environment: Path, monkeypatch: pytest.MonkeyPatch, sink: str, setting: str, value: str
) -> None:
    monkeypatch.setenv(setting, value)
    monkeypatch.setenv("POSTGRES_PASSWORD", "s3cret-pw")  # trust auth ignores it; it must never show
    outcomes = {c.sink: c for c in check_environment()}
    assert not outcomes[sink].ok
    assert setting in outcomes[sink].detail
    assert "s3cret-pw" not in outcomes[sink].detail
    assert all(c.ok for name, c in outcomes.items() if name != sink)


def test_the_bigquery_warehouse_is_checked_with_select_1(
    environment: Path, bigquery: BigQueryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GCP_PROJECT", bigquery.project)
    monkeypatch.setenv("BIGQUERY_DATASET", bigquery.dataset)
    ok, detail = outcome_of("warehouse")
    assert ok and f"bigquery {bigquery.project}.{bigquery.dataset}" in detail

    monkeypatch.setenv("BIGQUERY_DATASET", "not_there")
    ok, detail = outcome_of("warehouse")
    assert not ok and "BIGQUERY_DATASET 'not_there'" in detail

    monkeypatch.setenv("TAXI_WAREHOUSE", "bigquery")
    monkeypatch.delenv("GCP_PROJECT")
    ok, detail = outcome_of("warehouse")
    assert not ok and "GCP_PROJECT is not set" in detail

    monkeypatch.setenv("TAXI_WAREHOUSE", "snowflake")
    assert [(c.sink, c.ok) for c in check_environment()] == [("settings", False)]


def test_the_check_is_a_job_in_the_ui_that_fails_naming_the_sink(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check_connections.execute_in_process().success

    monkeypatch.setenv("POSTGRES_DBNAME", "no_such_database")
    result = check_connections.execute_in_process(raise_on_error=False)
    assert not result.success
    [failure] = result.get_step_failure_events()
    data = failure.step_failure_data
    assert data.user_failure_data.description == "1 of 3 sinks failed: postgres"
    assert "POSTGRES_DBNAME" in data.user_failure_data.metadata["postgres"].value


def test_taxi_check_is_a_command_that_exits_nonzero_on_failure(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = [str(Path(sys.executable).with_name("taxi-check"))]
    assert subprocess.run(command, capture_output=True, text=True, timeout=120).returncode == 0
    monkeypatch.setenv("TAXI_LAKE_URI", "gs://Not_A_Bucket/lake")
    failed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    assert "TAXI_LAKE_URI" in failed.stdout and "lake       FAILED" in failed.stdout
