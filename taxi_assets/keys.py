"""Asset keys, made in one place: ``{service}/{stage}``, so the graph titles each box by its stage.

The UI's lineage shows the last part of a key; the Catalog folds keys by their first part. So a
group (one service) reads ``raw_trips → cleaned_trips → postgres_trips …``, and the Catalog
lists ``yellow/…``, ``green/…``.
"""

from __future__ import annotations

import dagster as dg

RAW = "raw_trips"
CLEANED = "cleaned_trips"
REJECTED = "rejected_trips"
POSTGRES = "postgres_trips"
DAILY = "daily_trips"
WAREHOUSE = "warehouse_trips"

MONTHLY_STAGES = (RAW, CLEANED, REJECTED, POSTGRES)
DAILY_STAGES = (DAILY, WAREHOUSE)

# The taxi zones, one lookup for every service: a group of their own.
ZONES_GROUP = "zones"
LOOKUP_FILE_KEY = dg.AssetKey([ZONES_GROUP, "taxi_zone_lookup_file"])
ZONES_KEY = dg.AssetKey([ZONES_GROUP, "taxi_zones"])
SHAPES_FILE_KEY = dg.AssetKey([ZONES_GROUP, "taxi_zone_shapes_file"])
SHAPES_KEY = dg.AssetKey([ZONES_GROUP, "taxi_zone_shapes"])

# The dbt models and what is drawn from them: a group of their own.
ANALYTICS_GROUP = "analytics"


def asset_key(service: str, stage: str) -> dg.AssetKey:
    return dg.AssetKey([service, stage])


def shown(key: dg.AssetKey) -> str:
    """A key as the UI and the command line write it: ``yellow/raw_trips``."""
    return "/".join(key.path)


def op_name(key: dg.AssetKey) -> str:
    """The name of the op that materialises ``key``, under which run config and the logs name it:
    ``yellow__raw_trips``.
    """
    return "__".join(key.path)


def service_of(key: dg.AssetKey) -> str:
    """The service whose trips an asset holds: its key's first part."""
    return key.path[0]


def asset_keys(service: str, stages: tuple[str, ...]) -> list[dg.AssetKey]:
    return [asset_key(service, stage) for stage in stages]
