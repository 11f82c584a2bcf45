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
