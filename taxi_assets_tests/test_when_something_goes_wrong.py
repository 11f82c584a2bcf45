"""Files that parse but cannot be the month they are published as, a partial run configuration, and
a load that fails halfway through the sinks: what a user sees, and every sink afterwards.
"""

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from taxi_assets.keys import CLEANED, MONTHLY_STAGES, POSTGRES, RAW, asset_key
from taxi_assets.partitions import monthly_partitions
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.schema import YELLOW
from taxi_assets_tests.support.cli import dg as dg_cli
from taxi_assets_tests.support.cli import dg_env
from taxi_assets_tests.support.materialize import failure_message, materialize_month
from taxi_assets_tests.support.processes import free_port
from taxi_assets_tests.support.sinks import Sinks, postgres_months, read_lake_month, snapshot
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.command_line import selection_string

ACCEPT = {
    "ops": {asset_key("yellow", RAW).to_python_identifier(): {"config": {"accept_implausible_month": True}}}
}


def header_only(path: Path) -> None:
    with gzip.open(path, "wt") as f:
        f.write(",".join(YELLOW.names) + "\n")


@pytest.mark.processes
def test_a_file_with_only_its_header_fails_on_the_command_line_and_changes_nothing(
    tmp_path: Path, source_server: SourceServer, sinks: Sinks, january_done: dict[str, object]
) -> None:
    header_only(source_server.root / "yellow_tripdata_2021-01.csv.gz")
    env = {
        **dg_env(tmp_path, source_server, sinks.postgres),
        "TAXI_LAKE_URI": str(sinks.lake_dir),
        "DUCKDB_DATABASE": str(sinks.duckdb_path),
    }
    result = dg_cli(
        "launch", "--assets", selection_string("yellow", MONTHLY_STAGES), "--partition", "2021-01", env=env
    )
    assert result.returncode != 0
    first = first_failure_line(result.stdout + result.stderr)
    assert first.startswith("yellow 2021-01 (")
    assert "yellow_tripdata_2021-01.csv.gz): the file holds no trips" in first
    assert "accept_implausible_month" in first
    assert snapshot(sinks) == january_done


def test_another_month_s_file_fails_naming_how_little_of_it_is_this_month(
    source_server: SourceServer, sinks: Sinks, january_done: dict[str, object]
) -> None:
    february = source_server.publish("yellow", "2021-02")
    february.replace(source_server.root / "yellow_tripdata_2021-01.csv.gz")
    result = materialize_month(sinks.resources, "yellow", "2021-01", raise_on_error=False)
    assert not result.success
    assert re.search(
        r"yellow 2021-01 \(.*yellow_tripdata_2021-01\.csv\.gz\): only \d+ of its [\d,]+ trips "
        r"\(0\.\d%\) were picked up in 2021-01: it looks like another month's file",
        failure_message(result),
    ), failure_message(result)
    assert snapshot(sinks) == january_done


def test_a_month_loaded_deliberately_despite_being_empty_replaces_it_everywhere(
    source_server: SourceServer, sinks: Sinks, january_done: dict[str, object]
) -> None:
    header_only(source_server.root / "yellow_tripdata_2021-01.csv.gz")
    result = materialize_month(sinks.resources, "yellow", "2021-01", run_config=ACCEPT)
    assert result.success
    assert len(read_lake_month(sinks.lake_dir, CLEANED, "yellow", "2021-01")) == 0
    assert "2021-01" not in postgres_months(sinks.postgres, "yellow")


@pytest.mark.processes
def test_a_run_config_that_sets_only_the_source_s_timeouts_keeps_its_address(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource
) -> None:
    """The launchpad's (or --config-json's) partial override of taxi_source."""
    source_server.publish("green", "2021-01")
    config = {"resources": {"taxi_source": {"config": {"timeout_seconds": 5, "retries": 1}}}}
    result = dg_cli(
        "launch",
        "--assets",
        asset_key("green", RAW).to_user_string(),
        "--partition",
        "2021-01",
        "--config-json",
        json.dumps(config),
        env=dg_env(tmp_path, source_server, postgres),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "/green_tripdata_2021-01.csv.gz" in source_server.faults.requests
    assert len(read_lake_month(tmp_path / "lake", RAW, "green", "2021-01")) > 0


def test_a_failed_postgres_load_shows_behind_the_lake_until_a_rerun_converges(
    source_server: SourceServer, sinks: Sinks
) -> None:
    """The lake moves on while PostgreSQL keeps the old month: the UI shows the failed asset of
    that month beside the materialised ones, and the next run converges every store.
    """
    instance = dg.DagsterInstance.ephemeral()
    source_server.publish("yellow", "2021-01")
    assert materialize_month(sinks.resources, "yellow", "2021-01", instance=instance).success
    table = sinks.postgres.table("yellow_cab_data")
    with sinks.postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT tiny_fares CHECK (fare_amount < 40) NOT VALID")
    source_server.publish("yellow", "2021-01", seed=3)  # the month, re-published

    failed = materialize_month(sinks.resources, "yellow", "2021-01", instance=instance, raise_on_error=False)
    assert not failed.success
    cleaned = read_lake_month(sinks.lake_dir, CLEANED, "yellow", "2021-01")
    assert postgres_months(sinks.postgres, "yellow")["2021-01"][0] != len(cleaned)  # the lake moved on

    def status(stage: str) -> str:
        found = instance.get_status_by_partition(
            asset_key("yellow", stage), ["2021-01"], monthly_partitions("yellow")
        )
        return found["2021-01"].value

    assert (status(CLEANED), status(POSTGRES)) == ("MATERIALIZED", "FAILED")
    [evaluation] = [e for e in failed.get_asset_check_evaluations() if e.check_name == "matches_lake"] or [
        None
    ]
    assert evaluation is None  # never claimed to match: the check did not run on a failed load

    with sinks.postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT tiny_fares")
    rerun = materialize_month(sinks.resources, "yellow", "2021-01", instance=instance)
    assert rerun.success
    assert [e.passed for e in rerun.get_asset_check_evaluations() if e.check_name == "matches_lake"] == [True]
    assert postgres_months(sinks.postgres, "yellow")["2021-01"][0] == len(cleaned)
    assert (status(CLEANED), status(POSTGRES)) == ("MATERIALIZED", "MATERIALIZED")


def first_failure_line(output: str) -> str:
    """The first line of the first failure the command printed, as a user reads it."""
    found = re.search(r"^dagster\._core\.definitions\.events\.Failure: (.*)$", output, re.M)
    assert found, output[-3000:]
    return found.group(1)


@pytest.mark.processes
def test_an_unwritable_lake_is_named_on_the_command_line(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource
) -> None:
    source_server.publish("green", "2021-01")
    (tmp_path / "a-file").write_text("not a folder")
    env = {**dg_env(tmp_path, source_server, postgres), "TAXI_LAKE_URI": str(tmp_path / "a-file" / "lake")}
    result = dg_cli(
        "launch", "--assets", asset_key("green", RAW).to_user_string(), "--partition", "2021-01", env=env
    )
    assert result.returncode != 0
    assert first_failure_line(result.stdout + result.stderr).startswith(
        f"TAXI_LAKE_URI '{tmp_path}/a-file/lake'"
    )


@pytest.mark.processes
def test_postgresql_not_listening_is_named_on_the_command_line(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource
) -> None:
    source_server.publish("green", "2021-01")
    env = {
        **dg_env(tmp_path, source_server, postgres),
        "POSTGRES_PORT": str(free_port()),
        "POSTGRES_CONNECT_TIMEOUT": "3",
    }
    result = dg_cli(
        "launch", "--assets", selection_string("green", MONTHLY_STAGES), "--partition", "2021-01", env=env
    )
    assert result.returncode != 0
    first = first_failure_line(result.stdout + result.stderr)
    assert first.startswith("POSTGRES_HOST / POSTGRES_PORT: cannot connect to PostgreSQL")
    assert f"port={env['POSTGRES_PORT']}" in first


@pytest.mark.processes
def test_a_setting_that_is_not_a_number_is_named_by_taxi_check(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource
) -> None:
    env = {**dg_env(tmp_path, source_server, postgres), "POSTGRES_PORT": "abc"}
    command = [str(Path(sys.executable).with_name("taxi-check"))]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].split(None, 2) == [
        "settings",
        "FAILED",
        "POSTGRES_PORT 'abc' is not a whole number",
    ]
