"""Benchmark: placing points in taxi zones (yellow 2009-2010), on a stand-in for the TLC's zones.

    .venv/bin/python benchmarks/placement.py [--points 1000000]

The TLC's taxi_zones.zip cannot be downloaded here; its 263 zones are stood in for by a grid of 263
zones over New York City's extent, each ring with 240 vertices (about the real file's average),
projected to State Plane feet as the real shapes are. Points fall uniformly over that extent and
are placed a batch (262,144 points, the reader's batch) at a time by ``ZonePlacer.zones``, as the
raw asset places each end of each trip. Prints points per second, the best of three passes.
"""

import argparse
import time

import numpy as np
import pyarrow as pa
import shapely
from pyproj import Transformer

from taxi_assets.batches import BATCH_ROWS
from taxi_assets.placement import ZonePlacer

# New York City's extent in degrees: west, south, east, north.
_EXTENT = (-74.26, 40.49, -73.70, 40.92)
_ZONES, _COLUMNS, _ROWS, _VERTICES_PER_SIDE = 263, 17, 16, 60


def stand_in_zones() -> pa.Table:
    """263 zones over the city, each a grid cell whose ring has 240 vertices, in State Plane feet."""
    west, south, east, north = _EXTENT
    to_feet = Transformer.from_crs(4326, 2263, always_xy=True)
    step = np.linspace(0, 1, _VERTICES_PER_SIDE + 1)[:-1]
    polygons = []
    for i in range(_COLUMNS):
        for j in range(_ROWS):
            x0, x1 = west + (east - west) * i / _COLUMNS, west + (east - west) * (i + 1) / _COLUMNS
            y0, y1 = south + (north - south) * j / _ROWS, south + (north - south) * (j + 1) / _ROWS
            ring = np.concatenate(
                [
                    np.c_[np.full_like(step, x0), y0 + (y1 - y0) * step],
                    np.c_[x0 + (x1 - x0) * step, np.full_like(step, y1)],
                    np.c_[np.full_like(step, x1), y1 - (y1 - y0) * step],
                    np.c_[x1 - (x1 - x0) * step, np.full_like(step, y0)],
                ]
            )
            x, y = to_feet.transform(ring[:, 0], ring[:, 1])
            polygons.append(shapely.Polygon(np.c_[x, y]))
    polygons = polygons[:_ZONES]
    return pa.table(
        {
            "location_id": pa.array(range(1, len(polygons) + 1), pa.int64()),
            "geometry": pa.array(shapely.to_wkb(polygons), pa.binary()),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    placer = ZonePlacer(stand_in_zones())
    rng = np.random.default_rng(0)
    west, south, east, north = _EXTENT
    longitude = rng.uniform(west, east, args.points)
    latitude = rng.uniform(south, north, args.points)
    passes = []
    for _ in range(3):
        start = time.perf_counter()
        for first in range(0, args.points, BATCH_ROWS):
            placer.zones(longitude[first : first + BATCH_ROWS], latitude[first : first + BATCH_ROWS])
        passes.append(time.perf_counter() - start)
    best = min(passes)
    print(
        f"{_ZONES} zones of {4 * _VERTICES_PER_SIDE} vertices, batches of {BATCH_ROWS:,}: "
        f"{args.points / best / 1e6:.2f}M points/s ({best:.2f} s for {args.points:,} points, best of 3)"
    )


if __name__ == "__main__":
    main()
