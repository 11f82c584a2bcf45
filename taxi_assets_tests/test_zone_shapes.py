"""The taxi zone shapes as a user meets them: served by the local source server (a zipped shapefile
generated here), loaded into the lake, loaded again when the published file changes, and the
points of a 2009 trip placed in them as documented."""

import zipfile
from typing import Any

import dagster as dg
import numpy as np
import pyarrow.parquet as pq
import shapely
from pyproj import Transformer

from taxi_assets.defs.assets.zone_shapes import SHAPES_FILE, taxi_zone_shapes
from taxi_assets.keys import SHAPES_KEY
from taxi_assets.placement import ZonePlacer
from taxi_assets_tests.support.automation import loaded_again_when_changed_and_only_then
from taxi_assets_tests.support.materialize import (
    failure_message,
    load_zone_shapes,
    location_definitions,
    materialize_month,
)
from taxi_assets_tests.support.sinks import Sinks, snapshot
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.synthetic_zones import ZONES

SHAPES = ("zones", "taxi_zone_shapes.parquet")


def from_server(sinks: Sinks, server: SourceServer) -> dict[str, Any]:
    return {**sinks.resources, "taxi_source": server.source()}


def test_the_shapes_land_in_the_lake_in_state_plane_feet(tlc_server: SourceServer, sinks: Sinks) -> None:
    tlc_server.publish_zone_shapes()
    result = load_zone_shapes(from_server(sinks, tlc_server))
    [materialized] = result.asset_materializations_for_node("zones__taxi_zone_shapes")
    assert materialized.metadata["zones"].value == 4
    stored = pq.read_table(sinks.lake_dir.joinpath(*SHAPES)).to_pylist()
    assert [row["location_id"] for row in stored] == [1, 2, 3, 4]
    shapes = {row["location_id"]: shapely.from_wkb(row["geometry"]) for row in stored}
    assert shapes[2].geom_type == "Polygon" and len(shapes[2].interiors) == 1, "zone 2 has its hole"
    assert shapes[3].geom_type == "MultiPolygon" and len(shapes[3].geoms) == 2, "zone 3 is in two parts"
    # Zone 1's south-west corner, (-74.20, 40.68) in WGS 84, is a vertex in State Plane feet.
    to_feet = Transformer.from_crs("EPSG:4326", "EPSG:2263", always_xy=True)
    corner = shapely.Point(to_feet.transform(-74.20, 40.68))
    assert shapes[1].exterior.distance(corner) < 1e-6


def test_a_zip_without_a_shapefile_fails_naming_the_setting_and_writes_nothing(
    tlc_server: SourceServer, sinks: Sinks
) -> None:
    with zipfile.ZipFile(tlc_server.publish_zone_shapes(), "w") as archive:
        archive.writestr("readme.txt", "no shapes here")
    before = snapshot(sinks)
    result = dg.materialize(
        location_definitions(),
        selection=dg.AssetSelection.assets(SHAPES_KEY),
        resources=from_server(sinks, tlc_server),
        raise_on_error=False,
    )
    assert not result.success
    first_line = failure_message(result).splitlines()[0]
    assert "TAXI_ZONE_SHAPES_URL http://" in first_line
    assert "no .shp file(s) in the archive where one belongs (readme.txt); nothing was written" in first_line
    assert snapshot(sinks) == before


def test_a_2009_month_before_the_shapes_are_loaded_fails_saying_so(
    tlc_server: SourceServer, sinks: Sinks
) -> None:
    tlc_server.publish("yellow", "2009-01")
    result = materialize_month(from_server(sinks, tlc_server), "yellow", "2009-01", raise_on_error=False)
    assert not result.success
    first_line = failure_message(result).splitlines()[0]
    assert (
        "(yellow 2009-01): the file gives positions, not zones, and the taxi zone shapes are not loaded"
        in (first_line)
    )
    assert "materialise zones/taxi_zone_shapes (TAXI_ZONE_SHAPES_URL)" in first_line
    assert not (sinks.lake_dir / "yellow").exists()


def test_the_shapes_load_again_when_the_published_file_changes_and_only_then(
    tlc_server: SourceServer, sinks: Sinks
) -> None:
    loaded_again_when_changed_and_only_then(
        SHAPES_FILE,
        taxi_zone_shapes,
        from_server(sinks, tlc_server),
        publish=tlc_server.publish_zone_shapes,
        change=lambda: tlc_server.publish_zone_shapes(ZONES[:3]),
    )


def test_points_are_placed_as_documented(tlc_server: SourceServer, sinks: Sinks) -> None:
    tlc_server.publish_zone_shapes()
    load_zone_shapes(from_server(sinks, tlc_server))
    placer = ZonePlacer(pq.read_table(sinks.lake_dir.joinpath(*SHAPES)))
    where = {
        (-74.17, 40.69): 1,  # inside zone 1, alone
        (-73.995, 40.705): 2,  # inside zone 2, around its hole
        (-73.98, 40.72): 265,  # in zone 2's hole, which no zone fills
        (-73.89, 40.77): 3,  # in zone 3's second part
        (-73.96, 40.72): 2,  # on the border of zones 2 and 3: the lower id
        (-73.96, 40.74): 2,  # the corner of zones 2, 3 and 4
        (-73.94, 40.74): 3,  # on the border of zones 3 and 4
        (-74.45, 40.90): 265,  # New Jersey, beyond every zone
        (0.0, 0.0): 264,  # no GPS fix
        (-73.97, 0.0): 264,  # half a position is none
        (float("nan"), 40.72): 264,  # missing
    }
    longitude, latitude = (np.array(values) for values in zip(*where, strict=True))
    assert placer.zones(longitude, latitude).tolist() == list(where.values())
