"""Reading settings from the environment: every setting the project reads is named here."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg


def setting(name: str, default: str | None) -> str | dg.EnvVar | None:
    """``EnvVar(name)`` when the variable is set, so the UI shows its name and not its value;
    else the embedded default, so a first run needs no configuration.
    """
    return dg.EnvVar(name) if os.environ.get(name) else default


def int_setting(name: str, default: int) -> int | dg.EnvVar:
    """As :func:`setting`, for a whole number (Dagster converts the variable when it runs)."""
    return dg.EnvVar.int(name) if os.environ.get(name) else default


class SettingError(ValueError):
    """A setting with a value the project cannot use; the message names it."""


def resolved_config(resource: Any) -> dict[str, Any]:
    """A resource's config with each ``EnvVar`` replaced by its value, as Dagster does when a run
    starts, so that code outside a run (the connection check) sees what a run would.
    """
    from dagster._config.post_process import post_process_config

    config = resource._convert_to_config_dictionary()
    names = [value["env"] for value in config.values() if isinstance(value, dict) and "env" in value]
    unset = [name for name in names if not os.environ.get(name)]
    if unset:
        raise SettingError(f"{', '.join(unset)} not set")
    result = post_process_config(resource._config_schema.config_type, config)
    if not result.success:
        raise SettingError("; ".join(error.message for error in result.errors))
    return dict(result.value)
