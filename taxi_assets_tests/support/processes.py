"""Starting, waiting for and stopping the processes a test starts, and the ports they listen on, on
a machine of any busyness: tests wait for conditions (with generous upper bounds), never for a
fixed time.
"""

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from taxi_assets_tests.support import REPO
from taxi_dev import supervise

T = TypeVar("T")


def wait_for(what: str, poll: Callable[[], T], timeout: float = 300, every: float = 0.05) -> T:
    """``poll()``'s first truthy value; fails naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = poll()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def start(command: list[str], env: dict[str, str], log: Path, cwd: Path = REPO) -> subprocess.Popen:
    """A process in a session (and process group) of its own, its output going to ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(
            command, env=env, cwd=cwd, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )


def stop_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM to the process's group, then SIGKILL to what is left after ``grace`` seconds; returns
    when no member of the group is left (or after a bounded wait, saying which are).
    """
    supervise.stop_group(process, signal.SIGTERM, grace)


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    """Every live process started by ``pid``, its children's children included."""
    parents, found, frontier = _parents(), set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (zombies are not)."""
    return set(_parents()) & pids


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
