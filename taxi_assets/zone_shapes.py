"""The TLC's taxi zone shapes: where each zone id is, to place the coordinates of 2009-2010 trips.

``taxi_zones.zip`` (https://d37ci6vzurychx.cloudfront.net/misc/taxi_zones.zip, linked from the
TLC's trip record page) is an ESRI shapefile: polygons in New York State Plane, Long Island zone,
US feet (EPSG:2263, its ``.prj``), and attributes ``LocationID``, ``zone`` and ``borough``. Some
ids have more than one record (islands of one zone): each record is kept, so a zone is the union
of its records. The shapefile is read with pyshp (pure Python, no GDAL); a ``.prj`` in another
system is projected to EPSG:2263 with pyproj, so the stored shapes are always in State Plane feet.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pyarrow as pa
import shapefile
import shapely
from pyproj import CRS, Transformer

from taxi_assets.source import SourceError, SourceFile

# New York State Plane, Long Island zone, US feet: the TLC's shapes, and what they are stored in.
STATE_PLANE = CRS.from_epsg(2263)
SHAPES_FILE = "taxi_zones.zip"  # the name TAXI_ZONE_SHAPES_URL ends in

LOCATION_ID, ZONE, BOROUGH, GEOMETRY = "location_id", "zone", "borough", "geometry"
SHAPE_DESCRIPTIONS = {
    LOCATION_ID: "TLC taxi zone id (LocationID); a zone of several records is their union.",
    ZONE: "Name of the zone.",
    BOROUGH: "Borough of the zone.",
    GEOMETRY: "The record's polygon (well-known binary) in New York State Plane feet (EPSG:2263).",
}
# The shapefile's attribute names, and the stored column each becomes.
_ATTRIBUTES = {"LocationID": LOCATION_ID, "zone": ZONE, "borough": BOROUGH}
# The published file as the UI shows it: its attributes and each record's polygon.
PUBLISHED_DESCRIPTIONS = {
    "LocationID": SHAPE_DESCRIPTIONS[LOCATION_ID],
    "zone": SHAPE_DESCRIPTIONS[ZONE],
    "borough": SHAPE_DESCRIPTIONS[BOROUGH],
    "shape": "The record's polygon, in New York State Plane feet (the .prj: EPSG:2263).",
}


def published_shapes_schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field("LocationID", pa.int64()),
            pa.field("zone", pa.string()),
            pa.field("borough", pa.string()),
            pa.field("shape", pa.binary()),
        ]
    )


def shapes_arrow_schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field(LOCATION_ID, pa.int64()),
            pa.field(ZONE, pa.string()),
            pa.field(BOROUGH, pa.string()),
            pa.field(GEOMETRY, pa.binary()),
        ]
    )


def read_zone_shapes(source: SourceFile) -> pa.Table:
    """The zipped shapefile as a table of :func:`shapes_arrow_schema`, or an error naming the file
    and what in it is at fault.
    """
    where = f"TAXI_ZONE_SHAPES_URL {source.shown_url}"
    try:
        archive = zipfile.ZipFile(source.path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{where}: not a readable zip file ({exc}); nothing was written") from None
    with archive:
        parts = _shapefile_parts(archive, where)
        reader = shapefile.Reader(**{ext: io.BytesIO(data) for ext, data in parts.items() if ext != "prj"})
        fields = [f[0] for f in reader.fields[1:]]
        missing = [name for name in _ATTRIBUTES if name not in fields]
        if missing:
            raise SourceError(
                f"{where}: the shapefile lacks the attribute(s) {', '.join(missing)} (it has "
                f"{', '.join(fields)}); nothing was written"
            )
        ids, zones, boroughs, geometries = [], [], [], []
        for number, record in enumerate(reader.iterShapeRecords(), 1):
            attributes = record.record.as_dict()
            location = attributes["LocationID"]
            if not isinstance(location, int) and not (isinstance(location, float) and location.is_integer()):
                raise SourceError(
                    f"{where}: record {number}: LocationID {location!r} is not a zone id; nothing was written"
                )
            geometry = shapely.geometry.shape(record.shape.__geo_interface__)
            if geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
                raise SourceError(
                    f"{where}: record {number} (LocationID {int(location)}): a {geometry.geom_type}, not a "
                    "polygon; nothing was written"
                )
            ids.append(int(location))
            zones.append(attributes["zone"])
            boroughs.append(attributes["borough"])
            geometries.append(geometry)
    projected = _in_state_plane(geometries, parts.get("prj"), where)
    return pa.Table.from_arrays(
        [
            pa.array(ids, pa.int64()),
            pa.array(zones, pa.string()),
            pa.array(boroughs, pa.string()),
            pa.array(shapely.to_wkb(projected), pa.binary()),
        ],
        schema=shapes_arrow_schema(),
    )


def _shapefile_parts(archive: zipfile.ZipFile, where: str) -> dict[str, bytes]:
    """The shapefile's .shp, .shx, .dbf (and .prj, if any) in the archive, wherever they are in it."""
    shp = [name for name in archive.namelist() if name.lower().endswith(".shp")]
    if len(shp) != 1:
        raise SourceError(
            f"{where}: {'no' if not shp else len(shp)} .shp file(s) in the archive where one belongs "
            f"({', '.join(archive.namelist()) or 'it is empty'}); nothing was written"
        )
    stem = shp[0][:-4]
    names = {name.lower(): name for name in archive.namelist()}
    parts = {}
    for ext in ("shp", "shx", "dbf", "prj"):
        name = names.get(f"{stem}.{ext}".lower())
        if name is None and ext != "prj":
            raise SourceError(f"{where}: {stem}.{ext} is missing from the archive; nothing was written")
        if name is not None:
            parts[ext] = archive.read(name)
    return parts


def _in_state_plane(geometries: list, prj: bytes | None, where: str) -> list:
    """The shapes in State Plane feet: as they are where the .prj says so (or there is none, as the
    TLC's own file has one), else projected from the system the .prj names.
    """
    if prj is None:
        return geometries
    try:
        crs = CRS.from_wkt(prj.decode("utf-8", "replace"))
    except Exception as exc:  # pyproj raises CRSError, and others on malformed text
        raise SourceError(
            f"{where}: the .prj is no coordinate system pyproj reads ({exc}); nothing was written"
        ) from None
    if crs.equals(STATE_PLANE, ignore_axis_order=True) or crs.to_epsg(min_confidence=70) == 2263:
        return geometries
    to_state_plane = Transformer.from_crs(crs, STATE_PLANE, always_xy=True)
    return [shapely.transform(g, lambda xy: _projected(to_state_plane, xy)) for g in geometries]


def _projected(transformer: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])
