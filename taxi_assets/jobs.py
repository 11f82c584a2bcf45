"""The two partitioned jobs schedules and sensors launch: a source month, and a range of days."""

from typing import TYPE_CHECKING

import dagster as dg

from taxi_assets.constants import CLEANED, DAILY, POSTGRES, RAW, REJECTED, WAREHOUSE

if TYPE_CHECKING:
    from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

# Run tags the run queue limits in dagster.yaml (tag_concurrency_limits on taxi/writes).
WRITES_TAG = "taxi/writes"

MONTHLY_ASSETS = dg.AssetSelection.key_prefixes(RAW, CLEANED, REJECTED, POSTGRES)
DAILY_ASSETS = dg.AssetSelection.key_prefixes(DAILY, WAREHOUSE)

monthly_job = dg.define_asset_job(
    "monthly_trips",
    selection=MONTHLY_ASSETS,
    description="One source month of every service: download, clean, load into Postgres.",
    tags={WRITES_TAG: "postgres"},
)

daily_job = dg.define_asset_job(
    "daily_trips",
    selection=DAILY_ASSETS,
    description="Days of cleaned trips into the daily lake dataset and the warehouse.",
    tags={WRITES_TAG: "warehouse"},
)


def service_keys(selection: dg.AssetSelection, service: str, graph: "BaseAssetGraph") -> list[dg.AssetKey]:
    """The assets of ``selection`` that belong to one service (its group)."""
    return sorted((selection & dg.AssetSelection.groups(service)).resolve(graph))
