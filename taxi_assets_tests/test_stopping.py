"""Everything the project starts stops when asked: `make dev`'s `taxi-demo --ui` on SIGTERM takes
dagster dev, its web server, daemon and code servers, and the throwaway PostgreSQL with it.
"""

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest

from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.cli import wait_until_loaded
from taxi_assets_tests.support.processes import alive, descendants, free_port, start, stop_group, wait_for
from taxi_dev.supervise import group_members

pytestmark = pytest.mark.processes

# taxi-demo's own grace before it kills what is left (taxi_dev.supervise), plus PostgreSQL's stop;
# an upper bound for a busy machine, not an expectation.
STOP_BOUND_SECONDS = 120


def test_sigterm_to_the_demo_ui_stops_dagster_dev_and_the_throwaway_postgres(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    # A temporary folder of its own (short: a socket's path must fit in 107 bytes) and no runtime
    # folder, as for root in CI: what the demo leaves in it is seen.
    temp = Path(tempfile.mkdtemp(prefix="demo-"))
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TAXI_", "DUCKDB_", "DAGSTER_", "POSTGRES_")) and k != "XDG_RUNTIME_DIR"
        },
        "TMPDIR": str(temp),
    }
    log = tmp_path / "demo.log"
    demo = start(
        [sys.executable, "-m", "taxi_dev.demo", "--ui", "--data-dir", str(data), "--port", str(port)],
        env,
        log,
        REPO,
    )
    try:
        wait_until_loaded(port, demo, log)
        postmaster_pid_file = data / "postgres" / "postmaster.pid"
        postmaster = int(postmaster_pid_file.read_text().splitlines()[0])
        started = descendants(demo.pid) | {postmaster}
        assert len(started) >= 4, "dagster dev, its web server, daemon and code server"

        os.kill(demo.pid, signal.SIGTERM)  # to taxi-demo alone, as `make` or `kill` sends it
        demo.wait(timeout=STOP_BOUND_SECONDS)
    finally:
        stop_group(demo)
    assert demo.returncode == 128 + signal.SIGTERM, log.read_text()[-3000:]
    assert alive(started) == set(), "every process the demo started has stopped"
    assert not postmaster_pid_file.exists(), "the throwaway PostgreSQL was shut down"
    assert group_members(demo.pid) == []
    left = sorted(str(p.relative_to(temp)) for p in temp.rglob("*"))
    shutil.rmtree(temp)
    assert left == [], "nothing is left in the temporary folder"


STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
child = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
subprocess.Popen([sys.executable, "-c", child])
print("started", flush=True)
time.sleep(600)
"""


def test_a_command_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    """What taxi-demo --ui does when dagster dev does not stop on SIGTERM (it may not: see NOTES)."""
    log = tmp_path / "supervisor.log"
    supervisor = start(
        [
            sys.executable,
            "-c",
            "import sys; from taxi_dev.supervise import run_until_stopped; "
            f"raise SystemExit(run_until_stopped([sys.executable, '-c', {STUBBORN!r}], grace=1))",
        ],
        dict(os.environ),
        log,
        REPO,
    )
    try:
        wait_for("the stubborn command to start", lambda: "started" in log.read_text(), timeout=120)
        started = descendants(supervisor.pid)
        assert len(started) == 2, "the command and the child it started"
        os.kill(supervisor.pid, signal.SIGTERM)
        supervisor.wait(timeout=STOP_BOUND_SECONDS)
    finally:
        stop_group(supervisor)
    assert supervisor.returncode == 128 + signal.SIGTERM
    assert "did not stop within 1 s: killing what is left" in log.read_text()
    assert alive(started) == set()
