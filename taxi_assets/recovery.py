"""Runs whose process died: told apart from live ones, marked failed, and their pool slots freed.

A run killed outright (SIGKILL, the out-of-memory killer, a reboot) writes no end event: Dagster
keeps it STARTED and keeps the pool slot its step claimed, so every later run of that pool waits
for ever. Dagster's daemon detects dead run workers only for run launchers that report their
health (``supports_check_run_worker_health``: not the default launcher, not the CLI), and frees a
run's slots only after the run has ended (``free_slots_after_run_end_seconds``).

So each run worker records who it is in run tags (host, boot, pid, process start time: a pid
alone is reused), and whoever runs on the same host can tell for sure whether it still lives:
the next run before it starts its steps (``taxi_assets.executor``), the ``dead_run_sensor`` the
daemon ticks, and ``taxi-recover``, the one command for "a run died, free what it held".
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import dagster as dg
import psutil

HOST_TAG = "taxi/worker_host"
PID_TAG = "taxi/worker_pid"
STARTED_TAG = "taxi/worker_started"  # the process's start time (epoch seconds): tells pids apart
BOOT_TAG = "taxi/worker_boot"  # the host's boot time: a process of an earlier boot is gone

# The statuses of a run whose worker should be alive.
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


@dataclass(frozen=True)
class Worker:
    """The process a run executes in, as recorded in the run's tags."""

    host: str
    pid: int
    started: float
    boot: float

    @classmethod
    def current(cls) -> Worker:
        process = psutil.Process()
        return cls(socket.gethostname(), process.pid, process.create_time(), psutil.boot_time())

    def tags(self) -> dict[str, str]:
        return {
            HOST_TAG: self.host,
            PID_TAG: str(self.pid),
            STARTED_TAG: f"{self.started:.2f}",
            BOOT_TAG: f"{self.boot:.0f}",
        }

    @classmethod
    def of(cls, run: dg.DagsterRun) -> Worker | None:
        tags = run.tags
        try:
            return cls(tags[HOST_TAG], int(tags[PID_TAG]), float(tags[STARTED_TAG]), float(tags[BOOT_TAG]))
        except (KeyError, ValueError):
            return None  # started before its executor recorded it, or by another executor

    def why_dead(self) -> str | None:
        """Why this worker is certainly gone, or None when it lives or cannot be checked from here."""
        if self.host != socket.gethostname():
            return None
        # Boot times read at different moments differ by a fraction of a second.
        if abs(psutil.boot_time() - self.boot) > 2:
            return f"host {self.host} restarted since pid {self.pid} ran it"
        try:
            process = psutil.Process(self.pid)
            started, status = process.create_time(), process.status()
        except psutil.NoSuchProcess:
            return f"its process (pid {self.pid} on {self.host}) is gone"
        except psutil.Error:
            return None
        if status == psutil.STATUS_ZOMBIE:  # exited; only its parent has not collected it yet
            return f"its process (pid {self.pid} on {self.host}) is gone (a zombie)"
        if abs(started - self.started) > 1:
            return f"its process (pid {self.pid} on {self.host}) is gone; the pid now belongs to another"
        return None

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


@dataclass
class Recovered:
    """One run dealt with: why, and which pool slots it held or waited for."""

    run_id: str
    job_name: str
    status: dg.DagsterRunStatus
    reason: str
    pools: list[str] = field(default_factory=list)

    def describe(self) -> str:
        held = f"; freed its place in pool(s) {', '.join(self.pools)}" if self.pools else ""
        return f"run {self.run_id} ({self.job_name}, was {self.status.value}): {self.reason}{held}"


def pools_of(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The pools in which ``run_id`` holds a slot or waits for one."""
    # Pool slots are read and freed through the instance's event log storage, as Dagster's own
    # daemon does (run monitoring): Dagster 1.13 has no DagsterInstance method for either.
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    pools = []
    for pool in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(pool)
        if run_id in info.active_run_ids or any(step.run_id == run_id for step in info.pending_steps):
            pools.append(pool)
    return pools


def free_slots(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Frees every slot ``run_id`` holds or waits for; the pools it was in."""
    pools = pools_of(instance, run_id)
    if pools:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return pools


def fail_run(instance: dg.DagsterInstance, run: dg.DagsterRun, reason: str) -> Recovered:
    """Marks ``run`` failed with ``reason`` and frees its slots."""
    instance.report_run_failed(run, f"Marked failed by taxi-assets' recovery: {reason}.")
    return Recovered(run.run_id, run.job_name, run.status, reason, free_slots(instance, run.run_id))


def dead_runs(
    instance: dg.DagsterInstance, exclude: frozenset[str] = frozenset()
) -> list[tuple[dg.DagsterRun, str]]:
    """In-progress runs whose recorded worker is certainly gone, with the reason: (run, reason)."""
    found = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        worker = Worker.of(run)
        reason = worker.why_dead() if worker and run.run_id not in exclude else None
        if reason:
            found.append((run, reason))
    return found


def recover(instance: dg.DagsterInstance, exclude: frozenset[str] = frozenset()) -> list[Recovered]:
    """Fails every run on this host whose process died and frees its slots; also frees slots still
    held by runs that have ended (Dagster's daemon does that only after a delay, and the CLI never).
    """
    recovered = [
        fail_run(instance, run, f"the run was {run.status.value} but {why}")
        for run, why in dead_runs(instance, exclude)
    ]
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        holders = storage.get_concurrency_run_ids() - exclude - {r.run_id for r in recovered}
        if holders:
            for run in instance.get_runs(filters=dg.RunsFilter(run_ids=sorted(holders), statuses=FINISHED)):
                pools = free_slots(instance, run.run_id)
                if pools:
                    reason = f"the run had ended ({run.status.value}) but still held its slot"
                    recovered.append(Recovered(run.run_id, run.job_name, run.status, reason, pools))
    return recovered


def unchecked_runs(instance: dg.DagsterInstance) -> list[str]:
    """In-progress runs this host cannot judge (another host's, or no recorded worker), described."""
    lines = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        worker = Worker.of(run)
        if worker is None:
            lines.append(f"run {run.run_id} ({run.job_name}, {run.status.value}): no worker recorded")
        elif worker.host != socket.gethostname():
            lines.append(f"run {run.run_id} ({run.job_name}, {run.status.value}): on {worker.describe()}")
    return lines


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every 30 s: marks failed the runs on this host whose process died (killed, out of "
    "memory, a reboot) and frees the pool slots they held, so that later runs do not wait for ever.",
)
def dead_run_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    recovered = recover(context.instance)
    for item in recovered:
        context.log.warning(item.describe())
    if recovered:
        return dg.SkipReason("recovered " + "; ".join(item.describe() for item in recovered))
    return dg.SkipReason(f"no dead run on {socket.gethostname()}")


def main(argv: list[str] | None = None) -> None:
    """taxi-recover: a run died; mark it failed and free what it held, now."""
    import argparse
    import os

    parser = argparse.ArgumentParser(
        prog="taxi-recover",
        description="Marks failed the runs of $DAGSTER_HOME's instance whose process died on this host, "
        "and frees the pool slots they (or runs that have ended) still hold. Safe to run at any time: "
        "a live run is never touched.",
    )
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="RUN_ID",
        help="also mark this run failed, whatever its host (for a run on another machine you know is "
        "dead); repeatable",
    )
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        raise SystemExit(
            "taxi-recover: DAGSTER_HOME is not set; set it to the folder of the instance whose runs "
            "to recover (make dev and make demo use data/dagster_home)"
        )
    with dg.DagsterInstance.get() as instance:
        recovered = []
        for run_id in args.run:
            run = instance.get_run_by_id(run_id)
            if run is None:
                raise SystemExit(f"taxi-recover: no run {run_id} in {os.environ['DAGSTER_HOME']}")
            if run.status in IN_PROGRESS:
                recovered.append(fail_run(instance, run, "named by taxi-recover --run"))
            else:
                pools = free_slots(instance, run_id)
                recovered.append(Recovered(run_id, run.job_name, run.status, "named by --run", pools))
        recovered += recover(instance, exclude=frozenset(args.run))
        for item in recovered:
            print(f"recovered  {item.describe()}")
        if not recovered:
            print("nothing to recover: no dead run on this host, no slot held by a run that has ended")
        for line in unchecked_runs(instance):
            print(f"not judged {line} (if you know it is dead: taxi-recover --run RUN_ID)")
