"""The deployment's image, read as Docker reads it: the Dagster settings its ENV gives every process."""

import re
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"


def dagster_settings() -> dict[str, str]:
    """The image's DAGSTER_* settings (``DAGSTER_EVENT_BATCH_SIZE``), but DAGSTER_HOME, which every
    test and benchmark makes its own.
    """
    settings = dict(re.findall(r"\b(DAGSTER_[A-Z0-9_]+)=(\S+)", DOCKERFILE.read_text()))
    settings.pop("DAGSTER_HOME")
    return settings


# How every process the project starts hands memory back (the Dockerfile says why).
MEMORY_SETTINGS = (
    "ARROW_DEFAULT_MEMORY_POOL",
    "JE_ARROW_MALLOC_CONF",
    "MALLOC_ARENA_MAX",
    "MALLOC_MMAP_THRESHOLD_",
)


def memory_settings() -> dict[str, str]:
    """The image's memory settings, as its ENV gives them to every process."""
    found = dict(re.findall(r"\b([A-Z_]+_?)=(\S+)", DOCKERFILE.read_text()))
    return {name: found[name] for name in MEMORY_SETTINGS}
