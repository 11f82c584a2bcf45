"""The session's temporary folder, the test tiers, and the fixtures of ``support/``.

Services the tests talk to (a local HTTP server publishing synthetic TLC files, the machine's
PostgreSQL, GCS and BigQuery emulators on loopback) and per-test storage (lake folder, DuckDB file,
PostgreSQL schema, BigQuery dataset) are fixtures of the ``support`` package, registered here.
Nothing reaches the internet.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SESSION_TMP = pytest.StashKey[str]()
pytest_plugins = [
    "taxi_assets_tests.support.source_server",
    "taxi_assets_tests.support.postgres",
    "taxi_assets_tests.support.sinks",
    "taxi_assets_tests.support.google",
    "taxi_assets_tests.support.environment",
    "taxi_assets_tests.support.stores",
    "taxi_assets_tests.support.materialize",
]
# The tiers: a test is `quick` (in its own process: pure functions, materialisations, the GCS
# emulator on a thread) unless it starts processes and servers, or containers. A test module or
# test says so with its marker; a test that talks to the BigQuery emulator (a server of its own: a
# few seconds to start, a second or two a query) is in `processes` by that alone.
_SLOWER_TIERS = ("processes", "containers")


def _needs_the_bigquery_emulator(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    chosen = callspec.params.values() if callspec else ()
    return "bigquery" in getattr(item, "fixturenames", ()) or "bigquery" in chosen


@pytest.hookimpl(tryfirst=True)  # before pytest's own tmp_path factory reads --basetemp
def pytest_configure(config: pytest.Config) -> None:
    """Every temporary file of the session goes in one folder, removed when the session ends:
    pytest's own (``tmp_path``), and what the processes the tests start leave in TMPDIR (the
    sockets of Dagster's code servers, bqemulator's uploads, embedded PostgreSQL's lock).

    ``tmp_path`` is kept short (``{folder}/t/``, and ``popen-gwN/`` under it in pytest-xdist's
    workers, which take the path from the main process): a Unix socket's path holds at most
    107 bytes, and podman's API socket and embedded PostgreSQL's live in test folders.
    """
    folder = tempfile.mkdtemp(prefix="taxi-tests-")
    config.stash[_SESSION_TMP] = folder
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = None  # tempfile reads TMPDIR again
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = str(Path(folder) / "t")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash[_SESSION_TMP], ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _needs_the_bigquery_emulator(item) and not item.get_closest_marker("processes"):
            item.add_marker(pytest.mark.processes)
        if not any(item.get_closest_marker(tier) for tier in _SLOWER_TIERS):
            item.add_marker(pytest.mark.quick)
