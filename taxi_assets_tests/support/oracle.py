"""The course's approach as an independent oracle: pandas over the published file; for yellow's
2009-2010 months, each trip's zone by a loop over trips with shapely."""

import io
import math
import zipfile
from pathlib import Path

import pandas as pd
import shapefile
import shapely.geometry
from pyproj import Transformer

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


# --- yellow 2009-2010: positions placed in zones, by hand ------------------------------------------
# The payment words by what they begin with, as a reader of the TLC's files would read them.
_PAYMENT_BY_PREFIX = {"CR": 1, "CA": 2, "CS": 2, "NO": 3, "DI": 4, "UN": 5, "NA": 5}
_VENDOR_BY_WORD = {"CMT": 1, "VTS": 2, "DDS": 9}


def _zone_polygons(shapes_zip: Path) -> list[tuple[int, object]]:
    """(LocationID, shapely geometry) of each record of the zipped shapefile, read with pyshp."""

    with zipfile.ZipFile(shapes_zip) as archive:
        stem = next(n for n in archive.namelist() if n.endswith(".shp"))[:-4]
        parts = {ext: io.BytesIO(archive.read(f"{stem}.{ext}")) for ext in ("shp", "shx", "dbf")}
    reader = shapefile.Reader(**parts)
    return [
        (int(r.record["LocationID"]), shapely.geometry.shape(r.shape.__geo_interface__))
        for r in reader.iterShapeRecords()
    ]


def oracle_zone(polygons: list[tuple[int, object]], to_feet: object, lon: float, lat: float) -> int:
    """The zone of one position, as documented: 264 without one (missing or 0), the lowest id of the
    zones that cover it (a border is covered by both sides), else 265.
    """
    if lon is None or lat is None or math.isnan(lon) or math.isnan(lat) or lon == 0 or lat == 0:
        return 264
    point = shapely.geometry.Point(*to_feet.transform(lon, lat))
    covering = [location for location, polygon in polygons if polygon.covers(point)]
    return min(covering) if covering else 265


def placed_2009_2010(published: Path, shapes_zip: Path, month: str) -> pd.DataFrame:
    """A published 2009 or 2010 yellow month by pandas and a loop over trips with shapely: every
    trip with canonical names, codes for words, each end's zone, and ``kept`` where the course's
    cleaning keeps it (pickup in the month, passengers and distance positive).
    """

    frame = pd.read_parquet(published)
    spelled = {
        "vendor_name": "vendor", "vendor_id": "vendor",
        "Trip_Pickup_DateTime": "pickup", "pickup_datetime": "pickup",
        "Trip_Dropoff_DateTime": "dropoff", "dropoff_datetime": "dropoff",
        "Passenger_Count": "passenger_count", "Trip_Distance": "trip_distance",
        "Start_Lon": "pickup_longitude", "Start_Lat": "pickup_latitude",
        "End_Lon": "dropoff_longitude", "End_Lat": "dropoff_latitude",
        "Payment_Type": "payment", "payment_type": "payment",
        "Total_Amt": "total_amount", "Fare_Amt": "fare_amount",
    }  # fmt: skip
    frame = frame.rename(columns=spelled)
    frame["pickup"] = pd.to_datetime(frame["pickup"])
    frame["dropoff"] = pd.to_datetime(frame["dropoff"])
    frame["vendor_id"] = frame["vendor"].map(_VENDOR_BY_WORD).astype("Int64")
    frame["payment_type"] = (
        frame["payment"].str.strip().str.upper().str[:2].map(_PAYMENT_BY_PREFIX).astype("Int64")
    )
    polygons = _zone_polygons(shapes_zip)
    to_feet = Transformer.from_crs("EPSG:4326", "EPSG:2263", always_xy=True)
    for end, zone in (("pickup", "pu_location_id"), ("dropoff", "do_location_id")):
        frame[zone] = [
            oracle_zone(polygons, to_feet, lon, lat)
            for lon, lat in zip(frame[f"{end}_longitude"], frame[f"{end}_latitude"], strict=True)
        ]
    start = pd.Timestamp(f"{month}-01")
    end_ = start + pd.offsets.MonthBegin(1)
    keep = (frame["pickup"] >= start) & (frame["pickup"] < end_)
    keep &= (frame["passenger_count"] > 0) & (frame["trip_distance"] > 0)
    frame["kept"] = keep
    frame["pickup_date"] = frame["pickup"].dt.date.astype(str)
    return frame


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
