"""Placing the coordinates of yellow 2009-2010 trips in the TLC's taxi zones, a batch at a time.

Each point (longitude and latitude, WGS 84) is projected to the zones' New York State Plane feet
(pyproj); the batch's points are sorted once by a column of a fine grid over the zones (4,096
columns: a radix sort of 16-bit keys, linear in the points), so each zone's candidates (the
points in its bounding box) are a slice found by binary search, and shapely 2's ``intersects_xy``
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
_GRID_COLUMNS = 4096  # columns of the grid the points are sorted by: keys fit 16 bits
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
        west, east = self._bounds[:, 0].min(), self._bounds[:, 2].max()
        self._west, self._columns_per_foot = west, _GRID_COLUMNS / max(east - west, 1.0)
        self._first_column = self._column(self._bounds[:, 0])
        self._last_column = self._column(self._bounds[:, 2])
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
        columns = self._column(x)
        order = np.argsort(columns, kind="stable")
        columns, x, y = columns[order], x[order], y[order]
        lowest = np.full(len(x), _NONE, dtype=np.int64)
        for shape, location, (west, south, east, north), first_column, last_column in zip(
            self._shapes, self._ids, self._bounds, self._first_column, self._last_column, strict=True
        ):
            first = np.searchsorted(columns, first_column, "left")
            end = np.searchsorted(columns, last_column, "right")
            xs, ys = x[first:end], y[first:end]
            in_box = np.flatnonzero((xs >= west) & (xs <= east) & (ys >= south) & (ys <= north)) + first
            hit = in_box[shapely.intersects_xy(shape, x[in_box], y[in_box])]
            lowest[hit] = np.minimum(lowest[hit], location)
        placed = np.empty(len(x), dtype=np.int64)
        placed[order] = np.where(lowest == _NONE, OUTSIDE_ZONES, lowest)
        found[where] = placed
        return found

    def _column(self, x: np.ndarray) -> np.ndarray:
        """The grid column of each x (one below and one beyond the zones for points outside them)."""
        column = np.floor((np.asarray(x) - self._west) * self._columns_per_foot)
        return (np.clip(column, -1, _GRID_COLUMNS) + 1).astype(np.int16)

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
