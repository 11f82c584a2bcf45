"""Names and defaults shared across the project: services, source, storage locations."""

from __future__ import annotations

from pathlib import Path

SERVICES: tuple[str, ...] = ("yellow", "green")

# The DataTalksClub mirror of the TLC trip files the course downloads.
DEFAULT_SOURCE_URL_TEMPLATE = (
    "https://github.com/DataTalksClub/nyc-tlc-data/releases/download/"
    "{service}/{service}_tripdata_{month}.csv.gz"
)
SOURCE_FILE_NAME = "{service}_tripdata_{month}.csv.gz"

FIRST_MONTH = "2019-01"

# Embedded defaults: everything lives under ./data of the working directory unless set otherwise.
DEFAULT_DATA_DIR = Path("data")
DEFAULT_LAKE_DIR = DEFAULT_DATA_DIR / "lake"
DEFAULT_DUCKDB_PATH = DEFAULT_DATA_DIR / "warehouse.duckdb"
DEFAULT_WAREHOUSE_SCHEMA = "ny_taxi"
DEFAULT_POSTGRES_SCHEMA = "ny_taxi"


def postgres_table(service: str) -> str:
    """The course's table name in Postgres (``yellow_cab_data``), kept so its SQL runs unchanged."""
    return f"{service}_cab_data"


def warehouse_table(service: str) -> str:
    """The warehouse table of a service's trips (``yellow_trips``), as the course's BigQuery has it."""
    return f"{service}_trips"
