"""The trip files of each service, written once: every parse type, name and description derives from here.

Columns are listed exactly as the DataTalksClub ``nyc-tlc-data`` releases publish them for
2019-01 … 2021-07. Integer columns are nullable because the real files end each month with
rows whose VendorID, passenger_count, RatecodeID and payment_type are all empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import pyarrow as pa

PICKUP_DATE = "pickup_date"
PICKUP_DATE_DESCRIPTION = "Calendar date of the pickup (local time); the daily partition key."
REJECT_REASON = "reject_reason"

_INT = pa.int64()
_FLOAT = pa.float64()
_TIMESTAMP = pa.timestamp("us")
_STRING = pa.string()

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``VendorID`` → ``vendor_id``, ``PULocationID`` → ``pu_location_id``; snake names stay."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


@dataclass(frozen=True)
class Column:
    """One published column: its name in the file, its type and what it means."""

    name: str
    type: pa.DataType
    description: str

    @property
    def snake_name(self) -> str:
        return snake_case(self.name)

    @property
    def is_integer(self) -> bool:
        return pa.types.is_integer(self.type)


def _col(name: str, type_: pa.DataType, description: str) -> Column:
    return Column(name, type_, description)


# The TLC data dictionary's providers of trip records.
VENDORS: dict[int, str] = {1: "Creative Mobile Technologies", 2: "VeriFone Inc"}

# Descriptions follow the TLC data dictionaries for yellow and green trip records.
_VENDOR = _col(
    "VendorID", _INT, "TPEP/LPEP provider: " + ", ".join(f"{n} = {name}" for n, name in VENDORS.items()) + "."
)
_PASSENGERS = _col("passenger_count", _INT, "Number of passengers, entered by the driver.")
_DISTANCE = _col("trip_distance", _FLOAT, "Elapsed trip distance in miles reported by the taximeter.")
_RATECODE = _col(
    "RatecodeID",
    _INT,
    "Final rate code: 1 standard, 2 JFK, 3 Newark, 4 Nassau/Westchester, 5 negotiated, 6 group ride.",
)
_STORE_FWD = _col(
    "store_and_fwd_flag",
    _STRING,
    "Y if the trip record was held in vehicle memory before sending to the vendor, N if not.",
)
_PU_LOCATION = _col("PULocationID", _INT, "TLC taxi zone in which the taximeter was engaged.")
_DO_LOCATION = _col("DOLocationID", _INT, "TLC taxi zone in which the taximeter was disengaged.")
_PAYMENT = _col(
    "payment_type",
    _INT,
    "How the passenger paid: 1 credit card, 2 cash, 3 no charge, 4 dispute, 5 unknown, 6 voided.",
)
_FARE = _col("fare_amount", _FLOAT, "Time-and-distance fare calculated by the meter, in USD.")
_EXTRA = _col("extra", _FLOAT, "Miscellaneous extras and surcharges (rush hour, overnight), in USD.")
_MTA_TAX = _col("mta_tax", _FLOAT, "MTA tax triggered by the metered rate in use, in USD.")
_TIP = _col("tip_amount", _FLOAT, "Credit-card tips (cash tips are not included), in USD.")
_TOLLS = _col("tolls_amount", _FLOAT, "Total of all tolls paid in the trip, in USD.")
_IMPROVEMENT = _col(
    "improvement_surcharge", _FLOAT, "Improvement surcharge assessed at the flag drop, in USD."
)
_TOTAL = _col("total_amount", _FLOAT, "Total amount charged to passengers, excluding cash tips, in USD.")
_CONGESTION = _col(
    "congestion_surcharge", _FLOAT, "New York State congestion surcharge for the trip, in USD."
)


# The columns cleaning and its checks read, by their names in the file and after cleaning.
PASSENGER_COUNT = _PASSENGERS.name
TRIP_DISTANCE = _DISTANCE.name
VENDOR_ID = _VENDOR.snake_name


@dataclass(frozen=True)
class TripSchema:
    """The published layout of one service's monthly trip file."""

    service: str
    columns: tuple[Column, ...]
    pickup_column: str
    dropoff_column: str

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def integer_names(self) -> list[str]:
        return [c.name for c in self.columns if c.is_integer]

    @cached_property
    def renames(self) -> dict[str, str]:
        return {c.name: c.snake_name for c in self.columns}

    @property
    def pickup_snake(self) -> str:
        return snake_case(self.pickup_column)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name or c.snake_name == name)

    @cached_property
    def raw_arrow_schema(self) -> pa.Schema:
        """Types as published, with the file's own column names."""
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])

    @cached_property
    def cleaned_arrow_schema(self) -> pa.Schema:
        """snake_case names plus ``pickup_date``: the layout of every stage after cleaning."""
        fields = [pa.field(c.snake_name, c.type) for c in self.columns]
        return pa.schema([*fields, pa.field(PICKUP_DATE, pa.date32())])

    @cached_property
    def rejected_arrow_schema(self) -> pa.Schema:
        return self.cleaned_arrow_schema.append(pa.field(REJECT_REASON, pa.string()))

    def descriptions(self, *, snake: bool) -> dict[str, str]:
        """Column name → description, for the raw (published) or the cleaned names."""
        out = {(c.snake_name if snake else c.name): c.description for c in self.columns}
        if snake:
            out[PICKUP_DATE] = PICKUP_DATE_DESCRIPTION
        return out


YELLOW = TripSchema(
    service="yellow",
    columns=(
        _VENDOR,
        _col("tpep_pickup_datetime", _TIMESTAMP, "Date and time when the meter was engaged."),
        _col("tpep_dropoff_datetime", _TIMESTAMP, "Date and time when the meter was disengaged."),
        _PASSENGERS,
        _DISTANCE,
        _RATECODE,
        _STORE_FWD,
        _PU_LOCATION,
        _DO_LOCATION,
        _PAYMENT,
        _FARE,
        _EXTRA,
        _MTA_TAX,
        _TIP,
        _TOLLS,
        _IMPROVEMENT,
        _TOTAL,
        _CONGESTION,
    ),
    pickup_column="tpep_pickup_datetime",
    dropoff_column="tpep_dropoff_datetime",
)

GREEN = TripSchema(
    service="green",
    columns=(
        _VENDOR,
        _col("lpep_pickup_datetime", _TIMESTAMP, "Date and time when the meter was engaged."),
        _col("lpep_dropoff_datetime", _TIMESTAMP, "Date and time when the meter was disengaged."),
        _STORE_FWD,
        _RATECODE,
        _PU_LOCATION,
        _DO_LOCATION,
        _PASSENGERS,
        _DISTANCE,
        _FARE,
        _EXTRA,
        _MTA_TAX,
        _TIP,
        _TOLLS,
        _col("ehail_fee", _FLOAT, "E-hail fee; empty in every published green file of this period."),
        _IMPROVEMENT,
        _TOTAL,
        _PAYMENT,
        _col("trip_type", _INT, "1 street-hail, 2 dispatch; assigned by the meter, editable by the driver."),
        _CONGESTION,
    ),
    pickup_column="lpep_pickup_datetime",
    dropoff_column="lpep_dropoff_datetime",
)

SCHEMAS: dict[str, TripSchema] = {s.service: s for s in (YELLOW, GREEN)}


def pandas_types_mapper(arrow_type: pa.DataType) -> object | None:
    """Arrow → pandas dtypes that keep integer NULLs as ``<NA>`` instead of turning them to float."""
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype()
    if pa.types.is_date32(arrow_type):
        return pd.ArrowDtype(pa.date32())
    return None
