"""The peak resident memory of a Dagster deployment's processes, sampled from outside: the web
server's and the daemon's process trees (code servers, run workers, dbt under a run worker), each
process named by what it is, for ``history.py``.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

_RUN_ID = re.compile(r'\\?"run_id\\?":\s*\\?"([0-9a-f-]{36})')


def process_kind(cmdline: list[str], parent_kind: str | None) -> str:
    command = " ".join(cmdline)
    if any(Path(part).name == "dbt" for part in cmdline[:2]):
        return DBT  # dagster-dbt runs the dbt CLI as a child of the run worker
    if "execute_run" in command or "resume_run" in command:
        return "run worker"
    if "multiprocessing.spawn" in command and parent_kind == "code server":
        return "run worker"  # a code server starts each run's process with multiprocessing
    if "execute_step" in command:
        return "step worker"
    if "dagster-webserver" in command or "dagster_webserver" in command:
        return "webserver"
    if "dagster-daemon" in command or "dagster_daemon" in command:
        return "daemon"
    if "api grpc" in command or "code-server" in command or "code_server" in command:
        return "code server"
    if "watch_orphans" in command:
        return "run worker's orphan watcher"
    if cmdline and Path(cmdline[0]).name == "tail":
        return "compute-log tail"
    if "multiprocessing.resource_tracker" in command:
        return "multiprocessing resource tracker"
    return "other: " + (Path(cmdline[0]).name if cmdline else "?")


DBT = "dbt (a run worker's child)"


@dataclass
class Sampled:
    pid: int
    kind: str
    tree: str  # whose descendant: "webserver" or "daemon"
    command: str
    run_id: str | None
    # The run worker this process is, or descends from (its pid and start time), if any.
    worker: tuple[int, float] | None = None
    peak_bytes: int = 0


def parent_ident(proc: psutil.Process) -> tuple[int, float] | None:
    try:
        parent = proc.parent()
        return (parent.pid, parent.create_time()) if parent else None
    except psutil.Error:
        return None


@dataclass
class RssSampler:
    """Peak RSS of every process under ``roots`` (and their descendants), sampled every ``every`` s."""

    roots: dict[str, int]
    every: float = 0.5
    processes: dict[tuple[int, float], Sampled] = field(default_factory=dict)
    peak_total_bytes: int = 0
    # Per run worker, the peak of its process tree's sum at one instant (the worker and what it
    # started: dbt for the analytics).
    peak_worker_tree_bytes: dict[tuple[int, float], int] = field(default_factory=dict)
    samples: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        total = 0
        trees: dict[tuple[int, float], int] = Counter()
        for tree, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for proc in procs:
                try:
                    ident = (proc.pid, proc.create_time())
                    rss = proc.memory_info().rss
                    if ident not in self.processes:
                        cmdline = proc.cmdline()
                        command = " ".join(cmdline)
                        found = _RUN_ID.search(command)
                        parent = self.processes.get(parent_ident(proc))
                        kind = process_kind(cmdline, parent and parent.kind)
                        run_id = (found and found.group(1)) or (parent and parent.worker and parent.run_id)
                        worker = ident if kind == "run worker" else (parent.worker if parent else None)
                        self.processes[ident] = Sampled(
                            proc.pid, kind, tree, command[:200], run_id or None, worker
                        )
                except psutil.Error:
                    continue
                sampled = self.processes[ident]
                sampled.peak_bytes = max(sampled.peak_bytes, rss)
                total += rss
                if sampled.worker:
                    trees[sampled.worker] += rss
        self.peak_total_bytes = max(self.peak_total_bytes, total)
        for worker, rss in trees.items():
            self.peak_worker_tree_bytes[worker] = max(self.peak_worker_tree_bytes.get(worker, 0), rss)
        self.samples += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def dbt_workers(self) -> list[dict[str, Any]]:
        """The run workers that ran dbt (the analytics' runs): each one's own peak, its dbt
        processes' largest, and the peak of their sum at one instant.
        """
        out = []
        for ident, worker in self.processes.items():
            if worker.kind != "run worker":
                continue
            dbt = [p for p in self.processes.values() if p.worker == ident and p.kind == DBT]
            if dbt:
                out.append(
                    {
                        "pid": worker.pid,
                        "run_id": worker.run_id,
                        "worker_mb": worker.peak_bytes / 2**20,
                        "dbt_processes": len(dbt),
                        "dbt_mb": max(p.peak_bytes for p in dbt) / 2**20,
                        "tree_mb": self.peak_worker_tree_bytes.get(ident, 0) / 2**20,
                    }
                )
        return out

    def by_kind(self) -> dict[str, dict[str, Any]]:
        kinds: dict[str, dict[str, Any]] = {}
        for sampled in self.processes.values():
            kind = (
                sampled.kind
                if sampled.kind in ("run worker", "step worker")
                else (f"{sampled.kind} ({sampled.tree}'s)" if sampled.kind == "code server" else sampled.kind)
            )
            entry = kinds.setdefault(kind, {"processes": 0, "peak_mb": 0.0})
            entry["processes"] += 1
            entry["peak_mb"] = max(entry["peak_mb"], sampled.peak_bytes / 2**20)
        return kinds
