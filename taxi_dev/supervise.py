"""Running a long-lived command (``dagster dev``) so that stopping us stops all of it, for sure.

``dagster dev`` starts a web server, a daemon and code servers, all in its process group. A signal
sent to us alone (``kill``, ``make`` forwarding SIGTERM) would leave them running, and ``dagster
dev`` itself may not exit on SIGTERM (its daemon can wait on a shutdown pipe for ever). So the
command runs in a process group of its own; SIGINT, SIGTERM or SIGHUP to us is passed on to that
whole group, and whatever is left after a grace period is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 20.0
# How long killed processes may take to go, at most.
KILL_SECONDS = 30.0


def group_members(pgid: int) -> list[int]:
    """The live processes of group ``pgid`` (zombies, already dead, are not counted)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces: the fields after it follow the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _kill_group(pgid: int, signo: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signo)


def wait_until_gone(pgid: int, timeout: float) -> list[int]:
    """Waits up to ``timeout`` seconds for group ``pgid`` to have no live member; returns those left."""
    deadline = time.monotonic() + timeout
    while (members := group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return members


def stop_group(child: subprocess.Popen, signo: int, grace: float = GRACE_SECONDS) -> None:
    """``signo`` to the child's whole group, then SIGKILL to what is left after ``grace`` seconds;
    returns once no member of the group lives, or says which outlived the SIGKILL's bound.
    """
    _kill_group(child.pid, signo)
    if wait_until_gone(child.pid, grace):
        print(
            f"{' '.join(child.args[:4])}… did not stop within {grace:.0f} s: killing what is left", flush=True
        )
        _kill_group(child.pid, signal.SIGKILL)
        # A killed process is listed until the kernel has torn it down (its memory freed, its files
        # closed), which on a busy machine takes a while after kill() returns.
        left = wait_until_gone(child.pid, KILL_SECONDS)
        if left:
            print(f"still running {KILL_SECONDS:.0f} s after SIGKILL: {left}", flush=True)
    child.wait()  # collects it: a zombie still holds its pid


def run_until_stopped(command: Sequence[str], grace: float = GRACE_SECONDS, cwd: Path | None = None) -> int:
    """Runs ``command`` until it exits or we are asked to stop; nothing it started outlives this call.

    Returns its exit code, or 128 + the signal's number when we were stopped.
    """
    received: list[int] = []

    def note(signo: int, _frame: object) -> None:
        received.append(signo)

    previous = {signo: signal.signal(signo, note) for signo in STOP_SIGNALS}
    try:
        child = subprocess.Popen(list(command), start_new_session=True, cwd=cwd)
        try:
            while child.poll() is None and not received:
                time.sleep(0.2)
        finally:
            # Also when the command exited by itself, or we failed: its helpers may live on.
            stop_group(child, received[0] if received else signal.SIGTERM, grace)
    finally:
        for signo, handler in previous.items():
            signal.signal(signo, handler)
    return 128 + received[0] if received else (child.returncode or 0)
