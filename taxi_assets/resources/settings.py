"""Reading settings from the environment: every setting the project reads is named here."""

from __future__ import annotations

import os

import dagster as dg


def setting(name: str, default: str | None) -> str | dg.EnvVar | None:
    """``EnvVar(name)`` when the variable is set, so the UI shows its name and not its value;
    else the embedded default, so a first run needs no configuration.
    """
    return dg.EnvVar(name) if os.environ.get(name) else default


def int_setting(name: str, default: int) -> int | dg.EnvVar:
    """As :func:`setting`, for a whole number (Dagster converts the variable when it runs)."""
    return dg.EnvVar.int(name) if os.environ.get(name) else default
