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


def _zone_names(trips: pd.DataFrame, zones: pd.DataFrame) -> pd.DataFrame:
    """``trips`` with their pickup zone's name and borough (none where the lookup lacks the id)."""
    named = zones.set_index("location_id")[["zone", "borough"]]
    return trips.join(named, on="pu_location_id")


def monthly_zone_revenue(cleaned: dict[str, pd.DataFrame], zones: pd.DataFrame) -> pd.DataFrame:
    """The course's fct_monthly_zone_revenue computed in pandas from the cleaned yellow and green
    months (snake_case, as the lake holds them) and the zone lookup: trips with a vendor, one per
    vendor, pickup second, pickup zone and service (the first to end), summed per pickup zone,
    month and service.
    """
    frames = []
    for service, trips in cleaned.items():
        trips = trips[trips["vendor_id"].notna()].copy()
        trips["pickup_datetime"] = trips[SCHEMAS[service].pickup_snake]
        trips["dropoff_datetime"] = trips[SCHEMAS[service].column(SCHEMAS[service].dropoff_column).snake_name]
        trips["service_type"] = service.capitalize()
        if "ehail_fee" not in trips:
            trips["ehail_fee"] = 0.0
        frames.append(trips)
    trips = pd.concat(frames, ignore_index=True)
    trips = trips.sort_values("dropoff_datetime", kind="stable").drop_duplicates(
        ["vendor_id", "pickup_datetime", "pu_location_id", "service_type"]
    )
    trips = _zone_names(trips, zones)
    trips["pickup_zone"] = trips["zone"].fillna("Unknown Zone")
    trips["revenue_month"] = trips["pickup_datetime"].dt.to_period("M").dt.start_time
    sums = {
        f"revenue_monthly_{name}": (column, lambda s: s.sum(min_count=1))
        for name, column in [
            ("fare", "fare_amount"),
            ("extra", "extra"),
            ("mta_tax", "mta_tax"),
            ("tip_amount", "tip_amount"),
            ("tolls_amount", "tolls_amount"),
            ("ehail_fee", "ehail_fee"),
            ("improvement_surcharge", "improvement_surcharge"),
            ("total_amount", "total_amount"),
        ]
    }
    return (
        trips.groupby(["pickup_zone", "revenue_month", "service_type"])
        .agg(
            **sums,
            total_monthly_trips=("vendor_id", "size"),
            avg_monthly_passenger_count=("passenger_count", "mean"),
            avg_monthly_trip_distance=("trip_distance", "mean"),
        )
        .reset_index()
    )


def fhvhv_monthly_zone_trips(cleaned: pd.DataFrame, zones: pd.DataFrame) -> pd.DataFrame:
    """The high-volume FHV mart in pandas: trips, miles, base fares and driver pay per pickup zone
    and month.
    """
    trips = _zone_names(cleaned, zones)
    trips["pickup_zone"] = trips["zone"].fillna("Unknown Zone")
    trips["pickup_borough"] = trips["borough"].fillna("Unknown")
    trips["trip_month"] = trips["pickup_datetime"].dt.to_period("M").dt.start_time
    return (
        trips.groupby(["pickup_zone", "pickup_borough", "trip_month"])
        .agg(
            total_monthly_trips=("pickup_datetime", "size"),
            total_monthly_trip_miles=("trip_miles", lambda s: s.sum(min_count=1)),
            revenue_monthly_base_passenger_fare=("base_passenger_fare", lambda s: s.sum(min_count=1)),
            monthly_driver_pay=("driver_pay", lambda s: s.sum(min_count=1)),
        )
        .reset_index()
    )
