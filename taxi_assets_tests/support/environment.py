"""The project's settings in a test: none leaking in from the developer's shell, or a fresh interpreter
that reads them as a code server, a run worker or the CLI does.
"""

import os
import subprocess
import sys
import textwrap

import pytest


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No project setting leaks in from the developer's shell (the emulator endpoints stay)."""
    for name in list(os.environ):
        if name.startswith(("TAXI_", "DUCKDB_", "DAGSTER_", "GCP_", "GOOGLE_", "BIGQUERY_DATASET", "GCS_")):
            monkeypatch.delenv(name)


# The settings a test's fresh process must not inherit from the one running the tests.
SETTING_PREFIXES = ("TAXI_", "POSTGRES_", "DUCKDB_", "GCP_", "GCS_", "GOOGLE_", "BIGQUERY_", "DAGSTER_")


def in_a_fresh_process(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    """``code`` run by a new interpreter in this environment plus ``env``: the resources read their
    settings when imported, as a code server, a run worker or the CLI does on starting.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
