"""Synthetic taxi zone shapes, and trip positions among them, for yellow's 2009-2010 months.

A few zones drawn in longitude and latitude around lower Manhattan and Brooklyn, written as the TLC
publishes its shapes: a zipped ESRI shapefile in New York State Plane feet (EPSG:2263, with its
``.prj``), attributes ``LocationID``, ``zone``, ``borough``. Among them: zone 1 on its own (as Newark
airport is), zone 2 with a hole no zone fills, zone 3 in two parts, zone 4 sharing borders with 2
and 3. Every edge has a vertex each 0.01°, and a border between zones has the same vertices on both
sides, so a trip placed on a vertex lies exactly on the border in State Plane feet too (projected by
the same pyproj transformation the placement uses).

Trip positions: most fall at random in a zone's box (so in it, or in its hole), some at random
over the zones' surroundings (in a zone or in none); some exactly on borders and vertices, some in
the hole, some far outside (New Jersey, Long Island), some at 0/0 (no GPS fix), some missing.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapefile
from pyproj import CRS, Transformer
from pyproj.enums import WktVersion

_STEP = 0.01  # degrees between the vertices of every edge
_STATE_PLANE = CRS.from_epsg(2263)
_TO_FEET = Transformer.from_crs(CRS.from_epsg(4326), _STATE_PLANE, always_xy=True)


@dataclass(frozen=True)
class Box:
    """A rectangle in degrees: west, south, east, north."""

    west: float
    south: float
    east: float
    north: float

    def ring(self, clockwise: bool) -> list[tuple[float, float]]:
        """Its boundary, a vertex each 0.01°, closed; clockwise for an outer ring (the shapefile's rule)."""

        def steps(a: float, b: float) -> list[float]:
            n = round(abs(b - a) / _STEP)
            return [round(a + (b - a) * i / n, 6) for i in range(n)]

        west, south, east, north = self.west, self.south, self.east, self.north
        # West edge up, north edge east, east edge down, south edge west: clockwise.
        ring = [(west, y) for y in steps(south, north)]
        ring += [(x, north) for x in steps(west, east)]
        ring += [(east, y) for y in steps(north, south)]
        ring += [(x, south) for x in steps(east, west)]
        ring.append(ring[0])
        return ring if clockwise else ring[::-1]


@dataclass(frozen=True)
class SyntheticZone:
    location_id: int
    zone: str
    borough: str
    parts: tuple[Box, ...]
    holes: tuple[Box, ...] = ()


ZONES = (
    SyntheticZone(1, "Synthetic airport", "EWR", (Box(-74.20, 40.68, -74.15, 40.71),)),
    SyntheticZone(
        2,
        "Synthetic zone with a hole",
        "Manhattan",
        (Box(-74.00, 40.70, -73.96, 40.74),),
        (Box(-73.99, 40.71, -73.97, 40.73),),
    ),
    SyntheticZone(
        3,
        "Synthetic zone in two parts",
        "Brooklyn",
        (Box(-73.96, 40.70, -73.92, 40.74), Box(-73.90, 40.76, -73.88, 40.78)),
    ),
    SyntheticZone(4, "Synthetic zone beside both", "Manhattan", (Box(-74.00, 40.74, -73.92, 40.78),)),
)
HOLE = ZONES[1].holes[0]
# Where random positions fall: the zones and what lies between and around them.
_AROUND = Box(-74.22, 40.66, -73.86, 40.80)
# Vertices on borders between zones (2|3 at -73.96, 2|4 and 3|4 at 40.74) and a corner of three.
_BORDERS = [(-73.96, 40.71), (-73.96, 40.72), (-73.98, 40.74), (-73.94, 40.74), (-73.96, 40.74)]
_FAR = [(-74.45, 40.90), (-73.40, 40.80), (-74.05, 40.55)]  # New Jersey, Long Island, the bay


def write_zone_shapes(path: Path, zones: tuple[SyntheticZone, ...] = ZONES) -> Path:
    """``zones`` as the TLC publishes its shapes: ``taxi_zones.zip`` holding a shapefile."""
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON) as writer:
        writer.field("LocationID", "N", 9, 0)
        writer.field("zone", "C", 80)
        writer.field("borough", "C", 40)
        for zone in zones:
            rings = [box.ring(clockwise=True) for box in zone.parts]
            rings += [box.ring(clockwise=False) for box in zone.holes]
            writer.poly([_in_feet(ring) for ring in rings])
            writer.record(zone.location_id, zone.zone, zone.borough)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for ext, data in (("shp", shp), ("shx", shx), ("dbf", dbf)):
            archive.writestr(f"taxi_zones/taxi_zones.{ext}", data.getvalue())
        archive.writestr("taxi_zones/taxi_zones.prj", _STATE_PLANE.to_wkt(WktVersion.WKT1_ESRI))
    tmp.replace(path)
    return path


def _in_feet(ring: list[tuple[float, float]]) -> list[list[float]]:
    x, y = _TO_FEET.transform([p[0] for p in ring], [p[1] for p in ring])
    return [[float(a), float(b)] for a, b in zip(x, y, strict=True)]


def trip_positions(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rows`` positions (longitude, latitude, and where they are missing) among the zones."""
    kind = rng.choice(7, rows, p=[0.14, 0.04, 0.03, 0.03, 0.04, 0.02, 0.70])
    longitude = rng.uniform(_AROUND.west, _AROUND.east, rows)
    latitude = rng.uniform(_AROUND.south, _AROUND.north, rows)
    in_zones = np.flatnonzero(kind == 6)
    boxes = np.array([(b.west, b.south, b.east, b.north) for zone in ZONES for b in zone.parts])
    box = boxes[rng.integers(0, len(boxes), len(in_zones))]
    longitude[in_zones] = rng.uniform(box[:, 0], box[:, 2])
    latitude[in_zones] = rng.uniform(box[:, 1], box[:, 3])
    for code, points in ((1, _BORDERS), (3, _FAR)):
        chosen = np.flatnonzero(kind == code)
        picked = np.asarray(points)[rng.integers(0, len(points), len(chosen))]
        longitude[chosen], latitude[chosen] = picked[:, 0], picked[:, 1]
    in_hole = np.flatnonzero(kind == 2)
    longitude[in_hole] = rng.uniform(HOLE.west + 0.001, HOLE.east - 0.001, len(in_hole))
    latitude[in_hole] = rng.uniform(HOLE.south + 0.001, HOLE.north - 0.001, len(in_hole))
    at_zero = kind == 4
    longitude[at_zero], latitude[at_zero] = 0.0, 0.0
    return longitude, latitude, kind == 5
