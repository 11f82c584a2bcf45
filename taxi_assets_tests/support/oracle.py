"""The course's approach as an independent oracle: pandas over the published file."""

from pathlib import Path

import pandas as pd

from taxi_assets.schema import SCHEMAS


def course_cleaning(published: Path, service: str, month: str) -> pd.DataFrame:
    """The course's approach, used as an independent oracle: pandas read_csv (or read_parquet), then
    its filters (FHV: the pickup month alone; high-volume FHV: also its dictionary's impossibilities).
    """
    schema = SCHEMAS[service]
    if published.suffix == ".parquet":
        frame = pd.read_parquet(published)
    else:
        frame = pd.read_csv(published, parse_dates=[schema.pickup_column])
    start = pd.Timestamp(f"{month}-01")
    end = start + pd.offsets.MonthBegin(1)
    pickup = frame[schema.pickup_column]
    keep = (pickup >= start) & (pickup < end)
    if "passenger_count" in frame:
        keep &= (frame["passenger_count"] > 0) & (frame["trip_distance"] > 0)
    if service == "fhvhv":  # what its data dictionary makes impossible; a missing value is no proof
        keep &= (
            ~(frame[schema.dropoff_column] < pickup) & ~(frame["trip_miles"] < 0) & ~(frame["trip_time"] < 0)
        )
    return frame[keep]


def rows_per_pickup_day(trips: pd.DataFrame, service: str) -> dict[str, int]:
    """Rows per pickup day (``2021-01-15``) of trips with the published column names."""
    pickup = trips[SCHEMAS[service].pickup_column]
    return trips.groupby(pickup.dt.date.astype(str)).size().to_dict()


def oracle_per_day(published: Path, service: str, month: str) -> dict[str, int]:
    """Rows per pickup day the course's cleaning keeps of a published month."""
    return rows_per_pickup_day(course_cleaning(published, service, month), service)
