"""The project as a `dg` project, from the repo root, as a user types it: check, list, launch, dev."""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taxi_assets.keys import CLEANED, DAILY_STAGES, MONTHLY_STAGES
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.cli import dg, dg_env
from taxi_assets_tests.support.graphql import graphql
from taxi_assets_tests.support.processes import free_port, stop_group
from taxi_assets_tests.support.sinks import (
    lake_days,
    postgres_months,
    read_lake_month,
    warehouse_rows_per_day,
)
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.command_line import selection_string

pytestmark = pytest.mark.processes

BIN = Path(sys.executable).parent
STAGE_WORDS = ("raw", "cleaned", "rejected", "postgres", "daily", "warehouse")


def test_loading_the_definitions_prints_no_warning() -> None:
    loaded = subprocess.run(
        [sys.executable, "-W", "default", "-c", "import taxi_assets.definitions"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stderr == ""


# dg's own process imports every installed Dagster library before this project's code, dagster-dbt
# among them, whose sqlglot[rs] requirement makes sqlglot 30 warn as it is imported (its check looks
# for a top-level `sqlglotc` module, which sqlglotc does not install). Not this project's warning,
# and too early for taxi_assets/__init__.py's filter; any other warning fails these tests.
_SQLGLOT_PACKAGING = re.compile(r"^.*UserWarning: sqlglot\[rs\] is deprecated.*\n\s*warnings\.warn\(\n", re.M)


def but_sqlglot_s(output: str) -> str:
    return _SQLGLOT_PACKAGING.sub("", output)


def test_dg_check_and_list_defs(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource
) -> None:
    env = dg_env(tmp_path, source_server, postgres)
    checked = dg("check", "defs", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    assert "Warning" not in but_sqlglot_s(checked.stdout + checked.stderr)

    listed = dg("list", "defs", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    for key in ("yellow/raw_trips", "green/postgres_trips", "yellow/warehouse_trips"):
        assert key in listed.stdout


def test_dg_launch_a_month_then_its_days(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource
) -> None:
    source_server.publish("green", "2021-01")
    env = dg_env(tmp_path, source_server, postgres)
    month = dg(
        "launch", "--assets", selection_string("green", MONTHLY_STAGES), "--partition", "2021-01", env=env
    )
    assert month.returncode == 0, month.stdout[-3000:] + month.stderr[-3000:]
    assert "Warning" not in but_sqlglot_s(month.stdout + month.stderr)
    cleaned = read_lake_month(tmp_path / "lake", CLEANED, "green", "2021-01")
    assert postgres_months(postgres, "green")["2021-01"][0] == len(cleaned)

    days = dg(
        "launch",
        "--assets",
        selection_string("green", DAILY_STAGES),
        "--partition-range",
        "2021-01-01...2021-01-31",
        env=env,
    )
    assert days.returncode == 0, days.stdout[-3000:] + days.stderr[-3000:]
    assert len(lake_days(tmp_path / "lake", "green")) == 31
    assert sum(warehouse_rows_per_day(tmp_path / "warehouse.duckdb", "green").values()) == len(cleaned)


def test_dg_dev_shows_each_stage_of_a_group_under_a_name_of_its_own(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource
) -> None:
    """The asset graph titles each box with the last part of its key: within a service's group,
    every box must say which stage it is.
    """
    port = free_port()
    log = (tmp_path / "dg-dev.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "dg"), "dev", "--host", "127.0.0.1", "--port", str(port)],
        env=dg_env(tmp_path, source_server, postgres),
        cwd=REPO,
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, nodes = time.monotonic() + 180, None
        while time.monotonic() < deadline and nodes is None:
            assert process.poll() is None, (tmp_path / "dg-dev.log").read_text()[-3000:]
            try:
                nodes = graphql(port, "{ assetNodes { assetKey { path } groupName } }")["assetNodes"]
            except (OSError, TypeError, KeyError):
                time.sleep(1)
        assert nodes, "dg dev never answered on its GraphQL API"
    finally:
        stop_group(process, grace=60)
        log.close()

    for service in ("yellow", "green", "fhv"):
        shown = [n["assetKey"]["path"][-1] for n in nodes if n["groupName"] == service]
        assert len(shown) == len(set(shown)) == 6, shown
        for name in shown:
            assert sum(word in name for word in STAGE_WORDS) == 1, name
