"""What a user does in-process: materialise a month, some days or the zones, and read why a run failed."""

from typing import Any

import dagster as dg

from taxi_assets.definitions import defs
from taxi_assets.defs.assets.analytics import ANALYTICS_GROUP
from taxi_assets.keys import (
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

_LOCATION = defs()

# Every asset and check of the code location, for dg.materialize to select from.
DEFINITIONS = [*_LOCATION.assets, *_LOCATION.asset_checks]


def load_zones(resources: dict[str, Any]) -> dg.ExecuteInProcessResult:
    """The taxi zone lookup (served by the test's source server) into the lake and every store."""
    result = dg.materialize(DEFINITIONS, selection=dg.AssetSelection.assets(ZONES_KEY), resources=resources)
    assert result.success, failure_message(result)
    return result


def load_zone_shapes(resources: dict[str, Any]) -> dg.ExecuteInProcessResult:
    """The taxi zone shapes (served by the test's source server) into the lake."""
    result = dg.materialize(DEFINITIONS, selection=dg.AssetSelection.assets(SHAPES_KEY), resources=resources)
    assert result.success, failure_message(result)
    return result


def materialize_month(
    resources: dict[str, Any], service: str, month: str | None, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """raw → cleaned + rejected → Postgres for one month, with the cleaned checks."""
    selection = dg.AssetSelection.assets(*asset_keys(service, (RAW, CLEANED, REJECTED, POSTGRES)))
    return dg.materialize(
        DEFINITIONS, selection=selection, resources=resources, partition_key=month, **kwargs
    )


def materialize_days(
    resources: dict[str, Any], service: str, first: str, last: str, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """daily lake → warehouse for a range of days in one run, as a backfill would."""
    selection = dg.AssetSelection.assets(*asset_keys(service, (DAILY, WAREHOUSE)))
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    return dg.materialize(DEFINITIONS, selection=selection, resources=resources, tags=tags, **kwargs)


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
    return dg.materialize(
        DEFINITIONS,
        selection=selection,
        resources=resources,
        partition_key=month,
        **kwargs,
    )
