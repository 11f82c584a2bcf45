"""The taxi zone shapes: the published zipped shapefile observed for changes, and the shapes in the
lake, where yellow's 2009-2010 months are placed in zones.

Refreshed as the zone lookup is (``observed_files.py``): the published file is observed daily by
the SHA-256 of its bytes; the shapes asset is ``eager``, so automation loads it when it is missing
and each time an observation finds new content. Yellow's
raw months depend on it: a 2009-2010 month reads the shapes from the lake.
"""

import dagster as dg

from taxi_assets.defs.assets.observed_files import loaded_into_lake, observed_file
from taxi_assets.errors import as_dagster_failure
from taxi_assets.keys import SHAPES_FILE_KEY, SHAPES_KEY, ZONES_GROUP
from taxi_assets.metadata import column_schema
from taxi_assets.resources.lake import Lake
from taxi_assets.source import TaxiSource
from taxi_assets.zone_shapes import (
    PUBLISHED_DESCRIPTIONS,
    SHAPE_DESCRIPTIONS,
    published_shapes_schema,
    read_zone_shapes,
    shapes_arrow_schema,
)


@dg.asset(
    key=SHAPES_KEY,
    deps=[SHAPES_FILE_KEY],
    group_name=ZONES_GROUP,
    description="The TLC's taxi zone shapes (id, name, borough, polygon in State Plane feet) in the lake "
    "(zones/taxi_zone_shapes.parquet): where yellow 2009-2010 trips are placed; loaded again when the "
    "published file changes.",
    kinds={"parquet"},
    automation_condition=dg.AutomationCondition.eager(),
    metadata={"dagster/column_schema": column_schema(shapes_arrow_schema(), SHAPE_DESCRIPTIONS)},
)
@as_dagster_failure
def taxi_zone_shapes(
    context: dg.AssetExecutionContext, taxi_source: TaxiSource, lake: Lake
) -> dg.MaterializeResult:
    shapes, loaded = loaded_into_lake(
        context, taxi_source.fetch_zone_shapes(), read_zone_shapes, lake, SHAPES_KEY
    )
    zones = len(set(shapes.column("location_id").to_pylist()))
    return dg.MaterializeResult(metadata={**loaded, "zones": zones})


SHAPES_FILE = observed_file(
    SHAPES_FILE_KEY,
    TaxiSource.fetch_zone_shapes,
    description="The TLC's taxi_zones.zip as published (TAXI_ZONE_SHAPES_URL); its data version is the "
    "SHA-256 of its bytes.",
    metadata={"dagster/column_schema": column_schema(published_shapes_schema(), PUBLISHED_DESCRIPTIONS)},
    what="taxi zone shapes",
    cron_schedule="10 6 * * *",
)


@dg.definitions
def zone_shapes() -> dg.Definitions:
    return dg.Definitions(
        assets=[SHAPES_FILE.asset, taxi_zone_shapes], jobs=[SHAPES_FILE.job], schedules=[SHAPES_FILE.schedule]
    )
