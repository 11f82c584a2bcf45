"""The executor of this code location: Dagster's in-process executor, plus what a run needs to
survive the runs before it having died.

Before its first step a run records its worker (``recovery.Worker``) and fails the runs on this
host whose process died, freeing their pool slots: a run killed mid-load does not block the next
run of its pool, whatever launched either (CLI, UI, daemon, backfill). While a step waits for a
pool slot, a watch says which run holds it, fails the holder if its process dies meanwhile, and
lets Ctrl-C (SIGINT or SIGTERM) stop the run; Dagster's in-process loop would ignore both.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg

from taxi_assets import recovery

# How often a run waiting for a pool slot looks at who holds it, and how often it says so.
WATCH_SECONDS = 2.0
SAY_AGAIN_SECONDS = 60.0


class PoolWatch:
    """A thread that, while this run waits for a pool slot, says for what and for whom, and fails
    the holders whose process died.
    """

    def __init__(self, instance: dg.DagsterInstance, run_id: str, log: Any) -> None:
        self.instance, self.run_id, self.log = instance, run_id, log
        self.waiting = threading.Event()
        self._stop = threading.Event()
        self._said: dict[str, float] = {}
        self._thread = threading.Thread(target=self._watch, name="taxi-pool-watch", daemon=True)

    def __enter__(self) -> PoolWatch:
        if self.instance.event_log_storage.supports_global_concurrency_limits:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_SECONDS):
            try:
                self.check()
            except Exception as exc:  # a storage hiccup must not end the run; the next check retries
                self.log.debug(f"pool watch: {exc}")

    def check(self) -> None:
        storage = self.instance.event_log_storage
        waiting = False
        for pool in sorted(storage.get_concurrency_keys()):
            info = storage.get_concurrency_info(pool)
            mine = [s for s in info.pending_steps if s.run_id == self.run_id]
            steps = [s.step_key for s in mine if s.assigned_timestamp is None]
            if not steps:
                continue
            waiting = True
            for item in recovery.recover(self.instance, exclude=frozenset({self.run_id})):
                self.log.warning(f"freed a dead run's slot: {item.describe()}")
            if time.monotonic() - self._said.get(pool, -SAY_AGAIN_SECONDS) >= SAY_AGAIN_SECONDS:
                self._said[pool] = time.monotonic()
                self.log.warning(self._waiting_message(pool, steps, info))
        if waiting:
            self.waiting.set()
        else:
            self.waiting.clear()

    def _waiting_message(self, pool: str, steps: list[str], info: Any) -> str:
        holders = []
        for run_id in sorted(info.active_run_ids):
            run = self.instance.get_run_by_id(run_id)
            worker = recovery.Worker.of(run) if run else None
            status = run.status.value if run else "unknown"
            holders.append(f"run {run_id} ({status}" + (f", {worker.describe()})" if worker else ")"))
        return (
            f"{', '.join(steps)} waits for a slot in pool {pool!r} (limit {info.slot_count}), held by "
            f"{'; '.join(holders) or 'no run yet (being assigned)'}. A holder whose process died on "
            "this host is failed and freed within seconds; for one on another host run "
            "`taxi-recover --run RUN_ID`. Ctrl-C stops this run."
        )


class RecoveringExecutor(dg.Executor):
    """Runs the steps with ``inner`` after recording this worker and recovering dead runs."""

    def __init__(self, inner: dg.Executor) -> None:
        self._inner = inner

    @property
    def retries(self) -> Any:
        return self._inner.retries

    @property
    def step_dependency_config(self) -> Any:
        return self._inner.step_dependency_config

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[Any]:
        instance, run_id = plan_context.instance, plan_context.run_id
        instance.add_run_tags(run_id, recovery.Worker.current().tags())
        for item in recovery.recover(instance, exclude=frozenset({run_id})):
            plan_context.log.warning(f"recovered before starting: {item.describe()}")
        with PoolWatch(instance, run_id, plan_context.log) as watch, _interruptible_while(watch.waiting):
            yield from self._inner.execute(plan_context, execution_plan)


@contextmanager
def _interruptible_while(waiting: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM stop the run at once while ``waiting`` is set.

    Dagster's CLI and run workers only note these signals (``capture_interrupts``) and act on them
    at checkpoints its in-process loop never reaches while a step waits for a pool slot
    (dagster/_core/execution/plan/execute_plan.py: the ``while not active_execution.is_complete``
    loop calls no ``check_for_interrupts``), and they re-install their handler inside the run, so
    no handler of ours would be called. Python's wakeup fd still hears every signal: a thread
    reads it and, while the run waits, raises Dagster's own interruption in the run's thread
    (as Dagster does inside a step), so the run fails cleanly and gives up its place in the queue.
    Signals at other times are left to Dagster, as before.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only; there is nothing to hear
        return
    read_fd, write_fd = os.pipe()
    for fd in (read_fd, write_fd):
        os.set_blocking(fd, False)
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    run_thread, done = threading.get_ident(), threading.Event()

    def listen() -> None:
        while not done.is_set():
            if not select.select([read_fd], [], [], 0.5)[0]:
                continue
            try:
                heard = os.read(read_fd, 512)
            except BlockingIOError:
                continue
            if waiting.is_set() and {signal.SIGINT, signal.SIGTERM} & set(heard):
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(run_thread), ctypes.py_object(dg.DagsterExecutionInterruptedError)
                )
                return

    listener = threading.Thread(target=listen, name="taxi-signal-listener", daemon=True)
    listener.start()
    try:
        yield
    finally:
        done.set()
        os.write(write_fd, b"\0")  # wakes the listener now, not at its next select timeout
        listener.join(timeout=5)
        signal.set_wakeup_fd(previous_fd)
        os.close(read_fd)
        os.close(write_fd)


@dg.executor(name="in_process", config_schema=dg.in_process_executor.config_schema)
def in_process_with_recovery(init_context: dg.InitExecutorContext) -> dg.Executor:
    """Dagster's in-process executor (same config), recovering dead runs before the steps."""
    return RecoveringExecutor(dg.in_process_executor.executor_creation_fn(init_context))
