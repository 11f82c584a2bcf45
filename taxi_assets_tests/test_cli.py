"""The command line and the web UI, as a user starts them: real subprocesses, real ports."""

import sys
from pathlib import Path

import pytest

from taxi_assets.keys import CLEANED
from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.cli import env_for, materialize_on_the_command_line
from taxi_assets_tests.support.graphql import LOCATION_QUERY, graphql, loaded_asset_keys
from taxi_assets_tests.support.processes import free_port, start, stop_group, wait_for
from taxi_assets_tests.support.sinks import lake_days, read_lake_month, warehouse_rows_per_day
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.supervise import group_members

pytestmark = pytest.mark.processes


def test_asset_materialize_on_the_command_line(tmp_path: Path, source_server: SourceServer) -> None:
    source_server.publish("yellow", "2021-01")
    env = env_for(tmp_path, source_server)
    monthly = materialize_on_the_command_line(
        "yellow/raw_trips,yellow/cleaned_trips,yellow/rejected_trips", ("--partition", "2021-01"), env
    )
    assert monthly.returncode == 0, monthly.stderr[-3000:]
    cleaned = read_lake_month(tmp_path / "lake", CLEANED, "yellow", "2021-01")

    daily = materialize_on_the_command_line(
        "yellow/daily_trips,yellow/warehouse_trips", ("--partition-range", "2021-01-01...2021-01-31"), env
    )
    assert daily.returncode == 0, daily.stderr[-3000:]
    assert len(lake_days(tmp_path / "lake", "yellow")) == 31
    assert sum(warehouse_rows_per_day(tmp_path / "warehouse.duckdb", "yellow").values()) == len(cleaned)


def test_asset_materialize_of_a_missing_month_fails_with_the_reason(
    tmp_path: Path, source_server: SourceServer
) -> None:
    result = materialize_on_the_command_line(
        "green/raw_trips", ("--partition", "2021-05"), env_for(tmp_path, source_server)
    )
    assert result.returncode != 0
    assert "month not published" in result.stdout + result.stderr
    assert not (tmp_path / "lake" / "green").exists()


def test_dagster_dev_loads_the_location_without_errors(tmp_path: Path, source_server: SourceServer) -> None:
    port = free_port()
    log = tmp_path / "dagster-dev.log"  # a file, not a pipe: nobody has to drain it for dagster dev to go on
    process = start(
        [sys.executable, "-m", "dagster", "dev", "--host", "127.0.0.1", "--port", str(port)],
        env_for(tmp_path, source_server),
        log,
        REPO,
    )
    try:

        def loaded() -> list | None:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                entries = graphql(port, LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
            except OSError:
                return None
            return entries if entries and all(e["loadStatus"] == "LOADED" for e in entries) else None

        [location] = wait_for("dagster dev to load the location", loaded, timeout=300, every=1)
        assert {"yellow/raw_trips", "green/warehouse_trips", "green/rejected_trips"} <= loaded_asset_keys(
            location
        )
    finally:
        # SIGTERM, then SIGKILL after a grace period: how long dagster dev takes to stop on a busy
        # machine is not what this test is about; that nothing of it is left is.
        stop_group(process)
    assert group_members(process.pid) == []


def test_the_repo_instance_config_works_with_no_variables(
    tmp_path: Path, source_server: SourceServer
) -> None:
    """The repo's dagster.yaml, where Dagster finds it with DAGSTER_HOME unset, needs no variable."""
    source_server.publish("green", "2021-01")
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    env = {k: v for k, v in env_for(tmp_path, source_server).items() if k != "DAGSTER_HOME"}
    result = materialize_on_the_command_line("green/raw_trips", ("--partition", "2021-01"), env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "lake" / "green" / "raw_trips" / "2021-01.parquet").is_file()
