"""Names and defaults shared across the project: services, storage locations, table names.

Who publishes the source files, and which months, is ``publishers.py``.
"""

from __future__ import annotations

from pathlib import Path

# Yellow and green taxis (metered trips), for-hire vehicles (trips dispatched by bases), and
# high-volume for-hire services (Uber, Lyft, Via, Juno; from February 2019). Which of them a
# publisher has is publishers.py's: the mirror has no high-volume FHV.
SERVICES: tuple[str, ...] = ("yellow", "green", "fhv", "fhvhv")

# A month's file, as both publishers name it (the extension is the publisher's).
SOURCE_FILE_STEM = "{service}_tripdata_{month}"

# Embedded defaults: everything lives under ./data of the working directory unless set otherwise.
DEFAULT_DATA_DIR = Path("data")
DEFAULT_LAKE_DIR = DEFAULT_DATA_DIR / "lake"
DEFAULT_DUCKDB_PATH = DEFAULT_DATA_DIR / "warehouse.duckdb"
DEFAULT_WAREHOUSE_SCHEMA = "ny_taxi"
DEFAULT_POSTGRES_SCHEMA = "ny_taxi"


def postgres_table(service: str) -> str:
    """The course's table name in Postgres (``yellow_cab_data``), kept so its SQL runs unchanged.

    FHV follows the same rule (``fhv_cab_data``, high-volume FHV ``fhvhv_cab_data``) rather than the
    course's week-3 name (``fhv_tripdata``, a BigQuery external table): one rule for every service's
    table.
    """
    return f"{service}_cab_data"


def warehouse_table(service: str) -> str:
    """The warehouse table of a service's trips (``yellow_trips``), as the course's BigQuery has it."""
    return f"{service}_trips"


# The taxi zone lookup: the course's PostgreSQL table (week 1 loads it as ``zones``) and its
# warehouse table (the dbt models' seed ``taxi_zone_lookup``).
ZONES_POSTGRES_TABLE = "zones"
ZONES_WAREHOUSE_TABLE = "taxi_zone_lookup"
