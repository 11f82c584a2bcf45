"""The schema contract: what a load does with a column no layout of its service knows.

``TAXI_SCHEMA_CONTRACT`` sets it for every service (default ``evolve``), and
``TAXI_SCHEMA_CONTRACT_<SERVICE>`` (``_YELLOW``, ``_GREEN``, ``_FHV``, ``_FHVHV``) for one:
- ``evolve``: the column is added to the load's layout, typed from the file, carried to the lake
  and every table (which gain it, nullable, described as not in the data dictionary), and the run
  warns about it;
- ``freeze``: the month fails naming the column, and nothing is written;
- ``discard``: the month loads without the column, and the run says which were left out.
A known column whose type changes fails in every mode.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from pydantic import Field

from taxi_assets.errors import TaxiError
from taxi_assets.resources.settings import env, is_set
from taxi_assets.schema import CONTRACTS, EVOLVE

SETTING = "TAXI_SCHEMA_CONTRACT"


def service_setting(service: str) -> str:
    """The setting that overrides the contract for one service: ``TAXI_SCHEMA_CONTRACT_FHVHV``."""
    return f"{SETTING}_{service.upper()}"


class ContractError(TaxiError, ValueError):
    """A schema contract setting with a value that is not a contract."""


def checked(value: str, setting: str) -> str:
    """``value`` as a contract, or an error naming ``setting``."""
    contract = value.strip().lower()
    if contract not in CONTRACTS:
        raise ContractError(f"{setting} {value!r} is not one of {', '.join(CONTRACTS)}")
    return contract


def _setting(name: str, fallback: str | None) -> str | None:
    """The field's default from ``name``; a value that is not a contract fails on loading, naming it."""
    if is_set(name):
        checked(os.environ[name], name)
    return env(name, fallback)


def _override(service: str, shown: str) -> Any:
    """The field of one service's contract, which wins over the default where it is set."""
    name = service_setting(service)
    return Field(
        default=_setting(name, None),
        description=f"Overrides {SETTING} for {shown} trips (evolve, freeze or discard). Env: {name}.",
    )


class SchemaContract(dg.ConfigurableResource):
    """Per service, what a load does with a column no layout knows: evolve, freeze or discard."""

    default: str = Field(
        default=_setting(SETTING, EVOLVE),
        description="evolve (add the column), freeze (fail the month) or discard (load without it). "
        f"Env: {SETTING}.",
    )
    yellow: str | None = _override("yellow", "yellow")
    green: str | None = _override("green", "green")
    fhv: str | None = _override("fhv", "FHV")
    fhvhv: str | None = _override("fhvhv", "high-volume FHV")

    def for_service(self, service: str) -> str:
        """The contract of ``service``'s loads: its own setting, else the default."""
        override = getattr(self, service, None)
        if override:
            return checked(override, service_setting(service))
        return checked(self.default, SETTING)
