"""The taxi zone shapes: the published zipped shapefile observed for changes, and the shapes in the
lake, where yellow's 2009-2010 months are placed in zones.

Refreshed as the zone lookup is (``zones.py``): the published file is an observable source asset
whose data version is the SHA-256 of its bytes, observed daily; the shapes asset is ``eager``, so
automation loads it when it is missing and each time an observation finds new content. Yellow's
raw months depend on it: a 2009-2010 month reads the shapes from the lake.
"""

import hashlib

import dagster as dg

from taxi_assets.defs.assets import chosen_beta_apis
from taxi_assets.errors import reported
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
@reported
def taxi_zone_shapes(
    context: dg.AssetExecutionContext, taxi_source: TaxiSource, lake: Lake
) -> dg.MaterializeResult:
    with taxi_source.fetch_zone_shapes() as source:
        context.log.info(f"downloaded {source.shown_url} ({source.size_bytes:,} bytes)")
        shapes = read_zone_shapes(source)
        digest = hashlib.sha256(source.path.read_bytes()).hexdigest()
    written = lake.write_file(SHAPES_KEY.path[:-1], SHAPES_KEY.path[-1], shapes)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": shapes.num_rows,
            "zones": len(set(shapes.column("location_id").to_pylist())),
            "source_sha256": digest,
            "lake_file": dg.MetadataValue.path(next(iter(written))),
        }
    )


def build_zone_shapes_file() -> dg.SourceAsset:
    """The published shapes file, observed (an observable source asset: beta in Dagster 1.13)."""

    @dg.observable_source_asset(
        key=SHAPES_FILE_KEY,
        group_name=ZONES_GROUP,
        description="The TLC's taxi_zones.zip as published (TAXI_ZONE_SHAPES_URL); its data version is the "
        "SHA-256 of its bytes.",
        metadata={"dagster/column_schema": column_schema(published_shapes_schema(), PUBLISHED_DESCRIPTIONS)},
    )
    @reported
    def taxi_zone_shapes_file(taxi_source: TaxiSource) -> dg.ObserveResult:
        with taxi_source.fetch_zone_shapes() as source:
            digest = hashlib.sha256(source.path.read_bytes()).hexdigest()
        return dg.ObserveResult(
            data_version=dg.DataVersion(digest),
            metadata={"url": dg.MetadataValue.url(source.shown_url), "bytes": source.size_bytes},
        )

    return taxi_zone_shapes_file


observe_zone_shapes_job = dg.define_asset_job(
    "observe_taxi_zone_shapes",
    selection=dg.AssetSelection.assets(SHAPES_FILE_KEY),
    description="Looks at the published taxi zone shapes: a new data version when its bytes changed.",
)

observe_zone_shapes_schedule = dg.ScheduleDefinition(
    name="observe_taxi_zone_shapes_daily",
    job=observe_zone_shapes_job,
    cron_schedule="10 6 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The zone shapes change a few times a decade: one download a day notices it.",
)


@dg.definitions
def zone_shapes() -> dg.Definitions:
    with chosen_beta_apis():
        shapes_file = build_zone_shapes_file()
    return dg.Definitions(
        assets=[shapes_file, taxi_zone_shapes],
        jobs=[observe_zone_shapes_job],
        schedules=[observe_zone_shapes_schedule],
    )
