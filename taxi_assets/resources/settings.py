"""Settings from the environment, as the defaults of resource fields.

A field whose default is ``env(name, fallback)`` takes ``dg.EnvVar(name)`` where the variable
is set (the UI shows the name, never the value) and the embedded fallback where it is not, so a
first run needs nothing but Python. They are field defaults, not values passed to the resource:
Dagster fills the fields a run configuration leaves out from their defaults, so a run that sets
only ``schema_name`` keeps the environment's host and password. Values given to the constructor
would be replaced as a whole: Dagster 1.13 makes them the default of the resource's whole
``config`` field (``_apply_defaults_to_schema_field`` in
``dagster/_config/pythonic_config/conversion_utils.py``), which a run configuration that sets any
field replaces (checked: ``R(a=10, b=20)`` run with ``{b: 30}`` gets ``a=1``, the class default).
So the defaults are read when this module is imported, as each code server, run worker and CLI
process does on starting; ``test_defs.py`` pins both. Code outside a run gets the values with
``dg.build_resources``.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from pydantic import Field

from taxi_assets.errors import TaxiError


class SettingError(TaxiError, ValueError):
    """A setting with a value the project cannot use; the message names it."""


def is_set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def env(name: str, fallback: Any) -> Any:
    """``dg.EnvVar(name)`` where the variable is set, else ``fallback``."""
    return dg.EnvVar(name) if is_set(name) else fallback


def env_int(name: str, fallback: int) -> Any:
    """A whole-number setting; a value that is not one fails on loading, naming the variable."""
    if not is_set(name):
        return fallback
    raw = os.environ[name]
    try:
        int(raw)
    except ValueError:
        raise SettingError(f"{name} {raw!r} is not a whole number") from None
    return dg.EnvVar(name)  # Dagster converts it to the field's type


def setting(name: str, fallback: Any, what: str, *, whole_number: bool = False) -> Any:
    """A resource field read from ``name`` (``fallback`` where it is unset), described as ``what``
    and by the variable's name, as the UI shows it.
    """
    default = env_int(name, fallback) if whole_number else env(name, fallback)
    return Field(default=default, description=f"{what} Env: {name}.")
