"""The dbt project (``taxi_assets/analytics``) as Dagster loads it: where it is, and its manifest.

The project lives inside the package so that every install has it, the image included; the image
parses it when it is built (Dockerfile), so a code server reads the manifest and never runs dbt
to start. Where no manifest exists yet (a fresh checkout, a test's interpreter) or a project file
is newer (an edited checkout), the first process to load the definitions parses it, under a lock,
since a code server, a daemon and run workers may start together; ``dg dev`` parses it again on
every load, as dagster-dbt does there.
"""

from __future__ import annotations

import fcntl
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

PROJECT_DIR = Path(__file__).parent / "analytics"
# dbt as installed beside this interpreter (a venv not activated has it off PATH), else on PATH.
_BESIDE = Path(sys.executable).parent / "dbt"
DBT_EXECUTABLE = str(_BESIDE) if _BESIDE.exists() else (shutil.which("dbt") or "dbt")

ANALYTICS = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)


def _stale() -> bool:
    """Whether the manifest is missing or older than a file of the project (an edited checkout)."""
    if not ANALYTICS.manifest_path.exists():
        return True
    made = ANALYTICS.manifest_path.stat().st_mtime
    sources = [PROJECT_DIR / "dbt_project.yml", PROJECT_DIR / "profiles.yml"]
    sources += [f for folder in ("models", "macros", "tests") for f in (PROJECT_DIR / folder).rglob("*")]
    return any(f.stat().st_mtime > made for f in sources if f.is_file())


def prepared() -> DbtProject:
    """The project with its manifest made where it is missing or older than the project (or under
    ``dg dev``, where it is made again on every load).
    """
    if not _stale() and not ANALYTICS.preparer.using_dagster_dev():
        return ANALYTICS
    ANALYTICS.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with open(ANALYTICS.manifest_path.parent / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stale() or ANALYTICS.preparer.using_dagster_dev():
            cli = DbtCliResource(project_dir=ANALYTICS, dbt_executable=DBT_EXECUTABLE)
            cli.cli(["parse", "--quiet"], target_path=ANALYTICS.target_path).wait()
    return ANALYTICS
