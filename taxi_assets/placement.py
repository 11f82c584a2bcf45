"""Placing the coordinates of yellow 2009-2010 trips in the TLC's taxi zones, a batch at a time.

Each point (longitude and latitude, WGS 84) is projected to the zones' New York State Plane feet
(pyproj); the batch's points are sorted by x once, so each zone's candidates (the points in its
bounding box) are a slice found by binary search, and shapely 2's vectorised ``intersects_xy``
tests them against the zone's prepared polygon without making a geometry per point (making point
geometries for an STRtree query cost five times the rest). A batch is a Python loop over the
zones (263), never over trips. A point covered by
a zone (inside it or on its border) gets its id; on a border between zones, the lowest id (the
same answer every time). Points no zone can hold get the TLC's own ids for them, as its files
from 2011 on carry them:
- 264 (the lookup's "Unknown"/"NV"): no position, i.e. a missing or NaN coordinate, or a 0 (the
  meter's GPS had no fix: 0/0 is the Gulf of Guinea);
- 265 (the lookup's "Outside of NYC"): a position outside every zone (New Jersey beyond Newark
  airport's zone 1, Long Island, the sea, a hole in a zone that no other zone fills).
Both are counted per end (pickup, drop-off) for the month's metadata.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS, Transformer

from taxi_assets.schema import DROPOFF_POINT, DROPOFF_ZONE, PICKUP_POINT, PICKUP_ZONE
from taxi_assets.zone_shapes import GEOMETRY, LOCATION_ID, STATE_PLANE

NO_POSITION = 264  # the TLC's unknown zone
OUTSIDE_ZONES = 265  # the TLC's "Outside of NYC"
_WGS84 = CRS.from_epsg(4326)
_NONE = np.iinfo(np.int64).max
# Each end of a trip: the zone column filled, from the (longitude, latitude) columns.
ENDS = ((PICKUP_ZONE, PICKUP_POINT), (DROPOFF_ZONE, DROPOFF_POINT))


def needs_placing(published: dict[str, str]) -> bool:
    """Whether a file's columns (canonical name → the file's) give positions and no zones."""
    return PICKUP_POINT[0] in published and PICKUP_ZONE not in published


class ZonePlacer:
    """The zones' shapes, ready to place points; counts what it could not place, per end."""

    def __init__(self, shapes: pa.Table) -> None:
        self._shapes = shapely.from_wkb(np.asarray(shapes.column(GEOMETRY).to_pylist(), dtype=object))
        shapely.prepare(self._shapes)
        self._bounds = shapely.bounds(self._shapes)
        self._ids = shapes.column(LOCATION_ID).to_numpy()
        self._to_feet = Transformer.from_crs(_WGS84, STATE_PLANE, always_xy=True)
        self.unplaced: dict[str, dict[int, int]] = {}

    def zones(self, longitude: np.ndarray, latitude: np.ndarray) -> np.ndarray:
        """The zone id of each point (float arrays, NaN for a missing value)."""
        no_position = np.isnan(longitude) | np.isnan(latitude) | (longitude == 0) | (latitude == 0)
        found = np.full(len(longitude), NO_POSITION, dtype=np.int64)
        where = np.flatnonzero(~no_position)
        if not len(where):
            return found
        x, y = self._to_feet.transform(longitude[where], latitude[where])
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        lowest = np.full(len(x), _NONE, dtype=np.int64)
        for shape, location, (west, south, east, north) in zip(
            self._shapes, self._ids, self._bounds, strict=True
        ):
            first, end = np.searchsorted(x, west, "left"), np.searchsorted(x, east, "right")
            inside_box = np.flatnonzero((y[first:end] >= south) & (y[first:end] <= north)) + first
            hit = inside_box[shapely.intersects_xy(shape, x[inside_box], y[inside_box])]
            lowest[hit] = np.minimum(lowest[hit], location)
        placed = np.empty(len(x), dtype=np.int64)
        placed[order] = np.where(lowest == _NONE, OUTSIDE_ZONES, lowest)
        found[where] = placed
        return found

    def place(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """``batch`` with each end's zone filled from its position, counting what it could not place."""
        arrays = dict(zip(batch.schema.names, batch.columns, strict=True))
        for zone_column, (longitude, latitude) in ENDS:
            ids = self.zones(_floats(arrays[longitude]), _floats(arrays[latitude]))
            arrays[zone_column] = pa.array(ids, batch.schema.field(zone_column).type)
            counts = self.unplaced.setdefault(zone_column, dict.fromkeys((NO_POSITION, OUTSIDE_ZONES), 0))
            for code in counts:
                counts[code] += int(np.count_nonzero(ids == code))
        return pa.RecordBatch.from_arrays(list(arrays.values()), schema=batch.schema)

    def metadata(self) -> dict[str, int]:
        """What the month's materialisation says of the points no zone held, per end."""
        return {
            f"{end}_{name}": self.unplaced.get(column, {}).get(code, 0)
            for end, column in (("pickups", PICKUP_ZONE), ("dropoffs", DROPOFF_ZONE))
            for name, code in (("without_position_264", NO_POSITION), ("outside_zones_265", OUTSIDE_ZONES))
        }


def _floats(values: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.cast(values, pa.float64()), float("nan")).to_numpy(zero_copy_only=False)
