"""The web UI's way of running things, end to end: the real web server and daemon on the repo's
workspace.yaml and dagster.yaml (instance on the machine's PostgreSQL), driven through GraphQL
exactly as the UI's Materialize button and backfill dialog drive it.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from taxi_assets.partitions import MONTHS_PER_RUN
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.cli import postgres_instance_env, wait_until_loaded
from taxi_assets_tests.support.graphql import graphql, launch_partition_backfill, runs_tagged, stop_automation
from taxi_assets_tests.support.oracle import course_cleaning, rows_per_pickup_day
from taxi_assets_tests.support.processes import free_port, start, stop_group, wait_for
from taxi_assets_tests.support.sinks import lake_days, postgres_months, warehouse_rows_per_day
from taxi_assets_tests.support.source_server import SourceServer

pytestmark = pytest.mark.processes

LOCATION = {"repositoryLocationName": "taxi_assets", "repositoryName": "__repository__"}
DAYS = [f"2021-01-{d:02d}" for d in range(1, 6)]
# One month more than a backfill puts in one run.
LATER_MONTHS = [f"2021-{m:02d}" for m in range(2, 3 + MONTHS_PER_RUN)]


def run_status(port: int, run_id: str) -> str:
    data = graphql(port, f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status }} }} }}')
    return data["runOrError"]["status"]


def launch_backfill(port: int, partitions: list[str], assets: list[list[str]]) -> str:
    """A partition backfill launched as the UI's dialog launches it; its id, once it has ended."""
    backfill_id = launch_partition_backfill(port, partitions, assets)

    def ended() -> str | None:
        status = graphql(
            port,
            f'{{ partitionBackfillOrError(backfillId: "{backfill_id}") '
            "{ ... on PartitionBackfill { status } } }",
        )["partitionBackfillOrError"]["status"]
        return status if status not in ("REQUESTED", "CANCELING", "FAILING") else None

    assert wait_for(f"the backfill of {partitions[0]} … {partitions[-1]}", ended, every=1) in (
        "COMPLETED",
        "COMPLETED_SUCCESS",
    )
    return backfill_id


def materialized_partitions(port: int, path: list[str]) -> int:
    """How many partitions of an asset the UI counts as materialised."""
    [node] = graphql(
        port,
        f'{{ assetNodes(assetKeys: [{{path: ["{path[0]}", "{path[1]}"]}}]) '
        "{ partitionStats { numMaterialized } } }",
    )["assetNodes"]
    return node["partitionStats"]["numMaterialized"]


def months_of(run: dict) -> tuple[str, ...]:
    """A backfill run's status and the months it ran."""
    tags = {t["key"]: t["value"] for t in run["tags"]}
    first = tags.get("dagster/asset_partition_range_start", tags.get("dagster/partition"))
    last = tags.get("dagster/asset_partition_range_end", first)
    return (run["status"], *[m for m in LATER_MONTHS if first <= m <= last])


def test_materialize_button_then_partition_backfill(
    tmp_path: Path,
    source_server: SourceServer,
    postgres: PostgresResource,
    dagster_database: str,
) -> None:
    published = source_server.publish("yellow", "2021-01")
    later = {m: source_server.publish("yellow", m, rows=800, seed=i) for i, m in enumerate(LATER_MONTHS)}
    env = {
        **postgres_instance_env(tmp_path, source_server, postgres, dagster_database),
        "POSTGRES_HOST": postgres.host,
        "POSTGRES_PORT": str(postgres.port),
        "POSTGRES_USER": postgres.user,
        "POSTGRES_DBNAME": postgres.dbname,
        "POSTGRES_SCHEMA": postgres.schema_name,
    }
    port = free_port()
    workspace = ["-w", str(REPO / "workspace.yaml")]
    webserver = start(
        [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port), *workspace],
        env,
        tmp_path / "webserver.log",
    )
    daemon: subprocess.Popen | None = None
    try:
        wait_until_loaded(port, webserver, tmp_path / "webserver.log", timeout=120)

        assert stop_automation(port) == "RUNNING"  # on by default; this test launches every run itself
        # The daemon starts once the sensor is stopped, so none of its ticks runs before the stop.
        daemon = start(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", *workspace],
            env,
            tmp_path / "daemon.log",
        )

        monthly = [
            ["yellow", "raw_trips"],
            ["yellow", "cleaned_trips"],
            ["yellow", "rejected_trips"],
            ["yellow", "postgres_trips"],
        ]
        nodes = graphql(port, '{ assetNodes(assetKeys: [{path: ["yellow", "raw_trips"]}]) { jobNames } }')[
            "assetNodes"
        ]
        job = next(name for name in nodes[0]["jobNames"] if name.startswith("__ASSET_JOB"))
        selection = ", ".join(f'{{path: ["{a}", "{b}"]}}' for a, b in monthly)
        launched = graphql(
            port,
            "mutation { launchPipelineExecution(executionParams: { "
            f'selector: {{repositoryLocationName: "taxi_assets", repositoryName: "__repository__", '
            f'pipelineName: "{job}", assetSelection: [{selection}]}}, mode: "default", '
            'executionMetadata: {tags: [{key: "dagster/partition", value: "2021-01"}]} }) '
            "{ __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }",
        )["launchPipelineExecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        status = wait_for(
            "the monthly run",
            lambda: (s := run_status(port, run_id)) in ("SUCCESS", "FAILURE") and s,
            every=1,
        )
        assert status == "SUCCESS", (tmp_path / "daemon.log").read_text()[-3000:]

        backfill_id = launch_backfill(port, DAYS, [["yellow", "daily_trips"], ["yellow", "warehouse_trips"]])
        runs = runs_tagged(port, "dagster/backfill", backfill_id)
        assert [r["status"] for r in runs] == ["SUCCESS"], (
            "five days are one run (single-run backfill policy)"
        )
        tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
        assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
            DAYS[0],
            DAYS[-1],
        )
        # Every day of both assets is recorded as materialised: the run's events went to PostgreSQL
        # in batches (the image's DAGSTER_EVENT_BATCH_SIZE), none lost.
        for asset in ("daily_trips", "warehouse_trips"):
            assert materialized_partitions(port, ["yellow", asset]) == len(DAYS), asset

        # Five more months backfilled as the UI's dialog launches them: a few months to a run.
        runs = runs_tagged(port, "dagster/backfill", launch_backfill(port, LATER_MONTHS, monthly))
        assert sorted(months_of(run) for run in runs) == [
            ("SUCCESS", *LATER_MONTHS[:MONTHS_PER_RUN]),
            ("SUCCESS", *LATER_MONTHS[MONTHS_PER_RUN:]),
        ]
        assert materialized_partitions(port, ["yellow", "postgres_trips"]) == 1 + len(LATER_MONTHS)
    finally:
        stop_group(webserver, grace=30)
        if daemon is not None:
            stop_group(daemon, grace=30)
    logs = (tmp_path / "webserver.log").read_text() + (tmp_path / "daemon.log").read_text()
    assert "Exception while storing event batch" not in logs  # Dagster's fallback to single writes

    expected = course_cleaning(published, "yellow", "2021-01")
    per_day = rows_per_pickup_day(expected, "yellow")
    assert list(lake_days(tmp_path / "lake", "yellow")) == [f"pickup_date={d}" for d in DAYS]
    assert warehouse_rows_per_day(tmp_path / "warehouse.duckdb", "yellow") == {d: per_day[d] for d in DAYS}
    in_postgres = postgres_months(postgres, "yellow")
    assert in_postgres["2021-01"][0] == len(expected)
    assert {m: in_postgres[m][0] for m in LATER_MONTHS} == {
        m: len(course_cleaning(later[m], "yellow", m)) for m in LATER_MONTHS
    }
