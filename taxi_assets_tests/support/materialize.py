"""What a user does in-process: materialise a month, some days or the zones, and read why a run failed."""

import functools
from typing import Any

import dagster as dg
import pytest

from taxi_assets.definitions import defs
from taxi_assets.keys import (
    ANALYTICS_GROUP,
    CLEANED,
    DAILY,
    POSTGRES,
    RAW,
    REJECTED,
    SHAPES_KEY,
    WAREHOUSE,
    ZONES_KEY,
    asset_keys,
)


@functools.cache
def location() -> dg.Definitions:
    """The code location's definitions, built once per test process (each build parses the dbt
    project and loads every asset) in the process that runs tests, not in pytest-xdist's
    controller, which only hands them out.
    """
    return defs()


@pytest.fixture(scope="session", autouse=True)
def location_built_first() -> None:
    """The location built before any test sets a variable that it reads (the publisher, the
    warehouse), as a code server builds it once from its environment.
    """
    location()


def location_definitions() -> list[Any]:
    """Every asset and check of the code location, for dg.materialize to select from."""
    return [*location().assets, *location().asset_checks]


@functools.cache
def process_instance() -> dg.DagsterInstance:
    """The in-memory Dagster instance of this test process, which every materialisation here runs
    on unless a test brings its own. A new one for each run (``dg.materialize``'s default) costs
    about 0.3 s, a quarter of a small month's run: its run and event storages are stamped with
    Alembic. Sharing it changes no run: the assets read nothing from the instance (only the
    automation sensor does, and its tests make their own), and each run's result holds its own
    events. Its artifact folder is in the session's temporary folder, removed with it.
    """
    return dg.DagsterInstance.ephemeral()


def load_zones(resources: dict[str, Any]) -> dg.ExecuteInProcessResult:
    """The taxi zone lookup (served by the test's source server) into the lake and every store."""
    result = dg.materialize(
        location_definitions(),
        selection=dg.AssetSelection.assets(ZONES_KEY),
        resources=resources,
        instance=process_instance(),
    )
    assert result.success, failure_message(result)
    return result


def load_zone_shapes(resources: dict[str, Any]) -> dg.ExecuteInProcessResult:
    """The taxi zone shapes (served by the test's source server) into the lake."""
    result = dg.materialize(
        location_definitions(),
        selection=dg.AssetSelection.assets(SHAPES_KEY),
        resources=resources,
        instance=process_instance(),
    )
    assert result.success, failure_message(result)
    return result


def materialize_month(
    resources: dict[str, Any], service: str, month: str | None, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """raw → cleaned + rejected → Postgres for one month, with the cleaned checks."""
    selection = dg.AssetSelection.assets(*asset_keys(service, (RAW, CLEANED, REJECTED, POSTGRES)))
    kwargs.setdefault("instance", process_instance())
    return dg.materialize(
        location_definitions(), selection=selection, resources=resources, partition_key=month, **kwargs
    )


def materialize_days(
    resources: dict[str, Any], service: str, first: str, last: str, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """daily lake → warehouse for a range of days in one run, as a backfill would."""
    selection = dg.AssetSelection.assets(*asset_keys(service, (DAILY, WAREHOUSE)))
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    kwargs.setdefault("instance", process_instance())
    return dg.materialize(
        location_definitions(), selection=selection, resources=resources, tags=tags, **kwargs
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """What the UI shows for a failed run: each failed step's error and its causes."""
    messages = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            messages.append(error.message)
            error = error.cause
    return "\n".join(messages)


def build_analytics(
    resources: dict[str, Any], month: str, models: tuple[str, ...] = (), **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """The dbt models of one month (and the zones' dimension) with their tests, as automation would:
    every model, or ``models`` and what they read.
    """
    selection = (
        dg.AssetSelection.assets(*models).upstream().required_multi_asset_neighbors()
        & dg.AssetSelection.groups(ANALYTICS_GROUP)
        if models
        else dg.AssetSelection.groups(ANALYTICS_GROUP)
    )
    kwargs.setdefault("instance", process_instance())
    return dg.materialize(
        location_definitions(),
        selection=selection,
        resources=resources,
        partition_key=month,
        **kwargs,
    )
