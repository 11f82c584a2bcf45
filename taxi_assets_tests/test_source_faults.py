"""A source that never finishes: the download's total deadline, and what a killed download leaves."""

import os
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest

from taxi_assets.keys import RAW, asset_key
from taxi_assets.source import DeadlinePassed, TaxiSource
from taxi_assets_tests.conftest import MONTH_ROWS, SourceServer
from taxi_assets_tests.processes import start, stop_group, wait_for
from taxi_assets_tests.session import read_lake_month
from taxi_assets_tests.test_cli import REPO, env_for, materialize_command

# Upper bounds only, for a machine busy with other work: what is asserted is the deadline itself.
SLACK_SECONDS = 15


def materialize_raw(month: str) -> list[str]:
    return materialize_command(asset_key("yellow", RAW).to_user_string(), "--partition", month)


def test_a_trickling_download_fails_at_its_deadline(source_server: SourceServer) -> None:
    source_server.publish("yellow", "2021-01")
    source_server.fail("yellow", "2021-01", *["trickle"] * 5)
    source = TaxiSource(url_template=source_server.url_template, deadline_seconds=2, backoff_seconds=0.01)
    began = time.monotonic()
    with pytest.raises(DeadlinePassed) as failed, source.fetch("yellow", "2021-01"):
        pass
    took = time.monotonic() - began
    assert 2 <= took < 2 + SLACK_SECONDS
    assert str(failed.value).startswith(
        f"TAXI_SOURCE_DEADLINE_SECONDS: downloading {source_server.url('yellow', '2021-01')} took longer "
        "than 2 s (got "
    )
    assert str(failed.value).endswith("bytes); raise the deadline or try later")


def test_a_trickling_source_fails_the_run_at_the_deadline(
    tmp_path: Path, source_server: SourceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_server.publish("yellow", "2021-01")
    source_server.fail("yellow", "2021-01", *["trickle"] * 5)
    env = {**env_for(tmp_path, source_server), "TAXI_SOURCE_DEADLINE_SECONDS": "2"}
    result = subprocess.run(
        materialize_raw("2021-01"), env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode != 0
    [first] = [line for line in result.stderr.splitlines() if "TAXI_SOURCE_DEADLINE_SECONDS:" in line][:1]
    assert f"downloading {source_server.url('yellow', '2021-01')} took longer than 2 s (got " in first
    assert not (tmp_path / "lake").exists(), "nothing written"

    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        [run] = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.FAILURE
        [began] = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
        [ended] = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    assert 2 <= ended.timestamp - began.timestamp < 2 + SLACK_SECONDS


def temporary_folders(tmpdir: Path) -> list[Path]:
    return sorted(tmpdir.glob("taxi-source-*"))


def test_a_download_killed_midway_leaves_no_temporary_file(
    tmp_path: Path, source_server: SourceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_server.publish("yellow", "2021-01")
    source_server.fail("yellow", "2021-01", "trickle")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**env_for(tmp_path, source_server), "TMPDIR": str(tmpdir)}

    killed = start(materialize_raw("2021-01"), env, tmp_path / "killed.log", REPO)
    try:
        partial = wait_for(
            "the download to begin",
            lambda: [f for d in temporary_folders(tmpdir) for f in d.iterdir()],
        )
        os.killpg(killed.pid, signal.SIGKILL)
    finally:
        stop_group(killed)
    assert partial[0].exists(), "SIGKILL leaves the partial download (no clean-up can run)"

    again = subprocess.run(
        materialize_raw("2021-01"), env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert temporary_folders(tmpdir) == []
    assert len(read_lake_month(tmp_path / "lake", RAW, "yellow", "2021-01")) == MONTH_ROWS

    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        statuses = sorted(record.dagster_run.status.value for record in instance.get_run_records())
    # Nothing watches a run the command line executes itself: the killed one stays STARTED
    # (docs/guarantees.md: When something goes wrong), and held nothing the next one needed.
    assert statuses == ["STARTED", "SUCCESS"]
