"""The trip files of each service, written once: every parse type, name and description derives from here.

Each service has one canonical layout, the union of every layout its publishers have used (a
month's file that lacks a column gets nulls there), so the cleaned month, the lake, PostgreSQL,
DuckDB and BigQuery look the same whatever year a month came from. Beside it, each published
layout ("era") is written out exactly (names, case, Arrow types, timestamp units): the reader
accepts what the eras use, and the synthetic source writes each era as published.

Where the layouts come from:
- the TLC's data dictionaries (yellow and green trip records, revised March 2025 for
  ``cbd_congestion_fee`` and the new vendors; FHV trip records);
- the DataTalksClub mirror's CSV headers (2019: ints written ``1``; 2020-2021: ``1.0``; FHV
  2019 spelling ``dropOff_datetime, PUlocationID, DOlocationID``, 2020-2021
  ``dropoff_datetime, PULocationID, DOLocationID``);
- loaders of the TLC's parquet files: toddwschneider/nyc-taxi-data (``Airport_fee`` renamed to
  lower case; all-null columns typed ``null`` in older files; ``SR_Flag``, ``PUlocationID`` read
  as doubles), users' schema dumps (2022-01: int64 VendorID, double passenger_count and
  RatecodeID, ``airport_fee``; 2023 onwards: int32 VendorID and zones, int64 passenger_count and
  RatecodeID, ``large_string`` flag, ``Airport_fee``; 2025: ``cbd_congestion_fee``);
- for yellow, a printout of every TLC file's footer, 2009-01 … 2024-08, month by month
  (snowch/vast-docker-compose-examples, jupyter-pyspark/examples/yellow_taxi_data_pt0_schema.ipynb
  at 431ee43): passenger_count and RatecodeID INT64 until 2018-06 and DOUBLE from 2018-07;
  airport_fee INT32, i.e. Arrow ``null`` (an empty column), until 2020-07 (but for 2011-01 and
  2018-01) and DOUBLE from 2020-08 (but for 2020-10); congestion_surcharge DOUBLE from 2019-01;
  the 2023 layout (``Airport_fee``, int32 ids, int64 counts) from 2023-02, 2023-01 still in the
  2022 one; timestamps INT64 throughout, a unit no printout found gives as nanoseconds.
Era boundaries are as reported, not checked file by file: the reader does not depend on them
(any month may use any known layout of its service, and any integer, float, timestamp unit or
``null`` where the canonical type allows it); the synthetic source does.

Integer columns are nullable: the real files end each month with rows whose VendorID,
passenger_count, RatecodeID and payment_type are empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import pandas as pd
import pyarrow as pa

from taxi_assets.publishers import MIRROR, TLC

PICKUP_DATE = "pickup_date"
PICKUP_DATE_DESCRIPTION = "Calendar date of the pickup (local time); the daily partition key."
REJECT_REASON = "reject_reason"

# What a load does with a column no layout of its service knows (TAXI_SCHEMA_CONTRACT):
# evolve adds it to that load's layout, freeze fails the month, discard loads without it.
EVOLVE, FREEZE, DISCARD = "evolve", "freeze", "discard"
CONTRACTS = (EVOLVE, FREEZE, DISCARD)
# Arrow field metadata that marks a column a load added under evolve, and describes it: it travels
# with the rows through the lake's files to every table, which describe the column when they add it.
ADDED_COLUMN = b"taxi_assets.added_column"
DESCRIPTION = b"description"

_INT = pa.int64()
_FLOAT = pa.float64()
_TIMESTAMP = pa.timestamp("us")
_STRING = pa.string()

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``VendorID`` → ``vendor_id``, ``PULocationID`` → ``pu_location_id``; snake names stay."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def accepts(canonical: pa.DataType, published: pa.DataType) -> bool:
    """Whether a column published as ``published`` converts to ``canonical`` without guessing:
    integers from any integer or float (whole values only, checked when read), floats from any
    number, timestamps of any unit, text from any string type, dates of either width, and anything
    from ``null`` (the TLC types a column that is empty all month as ``null``).
    """
    if pa.types.is_null(published):
        return True
    if pa.types.is_integer(canonical) or pa.types.is_floating(canonical):
        return pa.types.is_integer(published) or pa.types.is_floating(published)
    if pa.types.is_timestamp(canonical):
        return pa.types.is_timestamp(published) and published.tz is None
    if pa.types.is_string(canonical):
        return pa.types.is_string(published) or pa.types.is_large_string(published)
    if pa.types.is_date(canonical):
        return pa.types.is_date(published)
    return published == canonical


@dataclass(frozen=True)
class Column:
    """One canonical column: its published name, type and meaning, and other spellings in use."""

    name: str
    type: pa.DataType
    description: str
    # Other spellings publishers use for the same column. Matching is exact, never
    # case-insensitive in general: only these known variants are the same column.
    aliases: tuple[str, ...] = ()
    snake: str | None = None
    # Set on a column no layout has, which a load added under evolve: the month it was seen in.
    published_from: str | None = None

    @property
    def snake_name(self) -> str:
        return self.snake or snake_case(self.name)

    def field(self, name: str) -> pa.Field:
        """This column as an Arrow field named ``name``; an added column carries its description."""
        if self.published_from is None:
            return pa.field(name, self.type)
        return pa.field(
            name, self.type, metadata={ADDED_COLUMN: self.published_from, DESCRIPTION: self.description}
        )

    @property
    def is_integer(self) -> bool:
        return pa.types.is_integer(self.type)

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Layout:
    """One published layout of a service's file ("era"): exact names, types and order."""

    name: str
    publisher: str
    first: str
    last: str | None  # None: still in use
    fields: tuple[pa.Field, ...]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(self.fields)

    def covers(self, month: str) -> bool:
        return self.first <= month and (self.last is None or month <= self.last)


# The TLC data dictionary's providers of trip records (yellow and green, revised March 2025).
VENDORS: dict[int, str] = {
    1: "Creative Mobile Technologies",
    2: "Curb Mobility (formerly VeriFone)",
    6: "Myle Technologies",
    7: "Helix",
}

# Descriptions follow the TLC data dictionaries for yellow, green and FHV trip records.
_VENDOR = Column(
    "VendorID", _INT, "TPEP/LPEP provider: " + ", ".join(f"{n} = {name}" for n, name in VENDORS.items()) + "."
)
_PASSENGERS = Column("passenger_count", _INT, "Number of passengers, entered by the driver.")
_DISTANCE = Column("trip_distance", _FLOAT, "Elapsed trip distance in miles reported by the taximeter.")
_RATECODE = Column(
    "RatecodeID",
    _INT,
    "Final rate code: 1 standard, 2 JFK, 3 Newark, 4 Nassau/Westchester, 5 negotiated, 6 group ride, "
    "99 unknown.",
)
_STORE_FWD = Column(
    "store_and_fwd_flag",
    _STRING,
    "Y if the trip record was held in vehicle memory before sending to the vendor, N if not.",
)
_PU_LOCATION = Column("PULocationID", _INT, "TLC taxi zone in which the taximeter was engaged.")
_DO_LOCATION = Column("DOLocationID", _INT, "TLC taxi zone in which the taximeter was disengaged.")
_PAYMENT = Column(
    "payment_type",
    _INT,
    "How the passenger paid: 0 flex fare, 1 credit card, 2 cash, 3 no charge, 4 dispute, 5 unknown, "
    "6 voided.",
)
_FARE = Column("fare_amount", _FLOAT, "Time-and-distance fare calculated by the meter, in USD.")
_EXTRA = Column("extra", _FLOAT, "Miscellaneous extras and surcharges (rush hour, overnight), in USD.")
_MTA_TAX = Column("mta_tax", _FLOAT, "MTA tax triggered by the metered rate in use, in USD.")
_TIP = Column("tip_amount", _FLOAT, "Credit-card tips (cash tips are not included), in USD.")
_TOLLS = Column("tolls_amount", _FLOAT, "Total of all tolls paid in the trip, in USD.")
_IMPROVEMENT = Column(
    "improvement_surcharge", _FLOAT, "Improvement surcharge assessed at the flag drop, in USD."
)
_TOTAL = Column("total_amount", _FLOAT, "Total amount charged to passengers, excluding cash tips, in USD.")
_CONGESTION = Column(
    "congestion_surcharge", _FLOAT, "New York State congestion surcharge for the trip, in USD (from 2019)."
)
_CBD_FEE = Column(
    "cbd_congestion_fee",
    _FLOAT,
    "Per-trip charge for the MTA's Congestion Relief Zone, in USD (from 5 January 2025; null before).",
)


@dataclass(frozen=True)
class TripSchema:
    """One service's trips: the canonical layout, and every layout its publishers have used."""

    service: str
    title: str  # how descriptions name the trips: "Yellow-cab trips"
    columns: tuple[Column, ...]
    pickup_column: str
    dropoff_column: str
    layouts: tuple[Layout, ...] = field(default=())

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
        return self.column(self.pickup_column).snake_name

    def has(self, name: str) -> bool:
        return any(name in (c.name, c.snake_name) for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if name in (c.name, c.snake_name))

    @cached_property
    def _by_spelling(self) -> dict[str, Column]:
        return {spelling: c for c in self.columns for spelling in c.spellings}

    def published_as(self, name: str) -> Column | None:
        """The canonical column a published column name stands for; None if no layout has it."""
        return self._by_spelling.get(name)

    @cached_property
    def required(self) -> tuple[str, ...]:
        """Canonical columns every layout has: a file without one of them is broken, not old."""
        present = [{self._by_spelling[f.name].name for f in layout.fields} for layout in self.layouts]
        return tuple(c.name for c in self.columns if all(c.name in names for names in present))

    def layout(self, publisher: str, month: str) -> Layout:
        """The layout ``publisher`` used for ``month`` (as reported; see the module docstring)."""
        for layout in self.layouts:
            if layout.publisher == publisher and layout.covers(month):
                return layout
        raise KeyError(f"no known {publisher} layout of {self.service} for {month}")

    @cached_property
    def raw_arrow_schema(self) -> pa.Schema:
        """The canonical layout with the published names: the raw stage of every month."""
        return pa.schema([c.field(c.name) for c in self.columns])

    @cached_property
    def cleaned_arrow_schema(self) -> pa.Schema:
        """snake_case names plus ``pickup_date``: the layout of every stage after cleaning."""
        fields = [c.field(c.snake_name) for c in self.columns]
        return pa.schema([*fields, pa.field(PICKUP_DATE, pa.date32())])

    @property
    def added(self) -> tuple[Column, ...]:
        """The columns a load added under evolve (none in the service's own schema)."""
        return tuple(c for c in self.columns if c.published_from is not None)

    def with_added(self, columns: Iterable[Column]) -> TripSchema:
        """This layout with ``columns`` (which no layout has) after its own: one load's layout."""
        columns = tuple(columns)
        return replace(self, columns=self.columns + columns) if columns else self

    def as_stored(self, stored: pa.Schema, *, snake: bool) -> TripSchema:
        """This layout plus the added columns a stored month carries (its raw or cleaned file's
        schema, ``snake`` for the cleaned names), as the load that added them described them.
        """
        return self.with_added(
            Column(
                f.name,
                f.type,
                f.metadata[DESCRIPTION].decode(),
                snake=f.name if snake else None,
                published_from=f.metadata[ADDED_COLUMN].decode(),
            )
            for f in stored
            if is_added(f) and not self.has(f.name)
        )

    @cached_property
    def rejected_arrow_schema(self) -> pa.Schema:
        return self.cleaned_arrow_schema.append(pa.field(REJECT_REASON, pa.string()))

    def descriptions(self, *, snake: bool) -> dict[str, str]:
        """Column name → description, for the raw (published) or the cleaned names."""
        out = {(c.snake_name if snake else c.name): c.description for c in self.columns}
        if snake:
            out[PICKUP_DATE] = PICKUP_DATE_DESCRIPTION
        return out


def _layout(
    name: str,
    publisher: str,
    first: str,
    last: str | None,
    columns: Iterable[Column],
    *,
    types: Mapping[str, pa.DataType] | None = None,
    spelled: Mapping[str, str] | None = None,
) -> Layout:
    """A published layout: ``columns`` in file order, with the era's types (``null`` for a
    column typed null because it is empty) and spellings where they differ from the canonical.
    """
    types, spelled = types or {}, spelled or {}
    fields = tuple(pa.field(spelled.get(c.name, c.name), types.get(c.name, c.type)) for c in columns)
    return Layout(name, publisher, first, last, fields)


def _all(names: Iterable[str], type_: pa.DataType) -> dict[str, pa.DataType]:
    return dict.fromkeys(names, type_)


def _mirror_layouts(columns: Sequence[Column], floats_from_2020: Iterable[str]) -> tuple[Layout, Layout]:
    """The course mirror's two CSV eras of a taxi service: 2019 wrote integers as ``1``, 2020-2021
    as ``1.0`` (``floats_from_2020``).
    """
    return (
        _layout("mirror-2019", MIRROR, "2019-01", "2019-12", columns),
        _layout("mirror-2020", MIRROR, "2020-01", "2021-07", columns, types=_all(floats_from_2020, _FLOAT)),
    )


# The TLC's yellow and green files from 2023: 32-bit vendor and zone ids, large_string flags.
_TAXI_TLC_2023 = {
    **_all(("VendorID", "PULocationID", "DOLocationID"), pa.int32()),
    "store_and_fwd_flag": pa.large_string(),
}


# --- yellow ------------------------------------------------------------------------------------
_AIRPORT_FEE = Column(
    "airport_fee",
    _FLOAT,
    "Fee for pickups at LaGuardia and JFK airports, in USD (empty in older files).",
    # The TLC's files spell it both ways: airport_fee up to 2022, Airport_fee from 2023.
    aliases=("Airport_fee",),
)
_YELLOW_PICKUP = Column("tpep_pickup_datetime", _TIMESTAMP, "Date and time when the meter was engaged.")
_YELLOW_DROPOFF = Column("tpep_dropoff_datetime", _TIMESTAMP, "Date and time when the meter was disengaged.")
_YELLOW_COLUMNS = (
    _VENDOR,
    _YELLOW_PICKUP,
    _YELLOW_DROPOFF,
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
    _AIRPORT_FEE,
    _CBD_FEE,
)
_YELLOW_2019 = _YELLOW_COLUMNS[:18]  # the mirror's CSV: no airport_fee, no cbd_congestion_fee
_YELLOW_TLC_OLD = _all(("passenger_count", "RatecodeID"), _FLOAT)  # VendorID, zones, payment int64
_EMPTY_FEES = _all(("congestion_surcharge", "airport_fee"), pa.null())

YELLOW = TripSchema(
    service="yellow",
    title="Yellow-cab trips",
    columns=_YELLOW_COLUMNS,
    pickup_column="tpep_pickup_datetime",
    dropoff_column="tpep_dropoff_datetime",
    layouts=(
        *_mirror_layouts(_YELLOW_2019, ("VendorID", "passenger_count", "RatecodeID", "payment_type")),
        _layout("tlc-2011", TLC, "2011-01", "2018-06", _YELLOW_COLUMNS[:19], types=_EMPTY_FEES),
        _layout(
            "tlc-2018-07",
            TLC,
            "2018-07",
            "2018-12",
            _YELLOW_COLUMNS[:19],
            types={**_YELLOW_TLC_OLD, **_EMPTY_FEES},
        ),
        _layout(
            "tlc-2019",
            TLC,
            "2019-01",
            "2020-07",
            _YELLOW_COLUMNS[:19],
            types={**_YELLOW_TLC_OLD, "airport_fee": pa.null()},
        ),
        _layout("tlc-2020-08", TLC, "2020-08", "2023-01", _YELLOW_COLUMNS[:19], types=_YELLOW_TLC_OLD),
        _layout(
            "tlc-2023",
            TLC,
            "2023-02",
            "2024-12",
            _YELLOW_COLUMNS[:19],
            types=_TAXI_TLC_2023,
            spelled={"airport_fee": "Airport_fee"},
        ),
        _layout(
            "tlc-2025",
            TLC,
            "2025-01",
            None,
            _YELLOW_COLUMNS,
            types=_TAXI_TLC_2023,
            spelled={"airport_fee": "Airport_fee"},
        ),
    ),
)

# --- green -------------------------------------------------------------------------------------
_GREEN_COLUMNS = (
    _VENDOR,
    Column("lpep_pickup_datetime", _TIMESTAMP, "Date and time when the meter was engaged."),
    Column("lpep_dropoff_datetime", _TIMESTAMP, "Date and time when the meter was disengaged."),
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
    Column("ehail_fee", _FLOAT, "E-hail fee, in USD; empty in nearly every published green file."),
    _IMPROVEMENT,
    _TOTAL,
    _PAYMENT,
    Column("trip_type", _INT, "1 street-hail, 2 dispatch; assigned by the meter, editable by the driver."),
    _CONGESTION,
    _CBD_FEE,
)
_GREEN_2019 = _GREEN_COLUMNS[:20]
_GREEN_TLC_OLD = {
    **_all(("RatecodeID", "passenger_count", "payment_type", "trip_type"), _FLOAT),
    "ehail_fee": pa.null(),
}

GREEN = TripSchema(
    service="green",
    title="Green-cab trips",
    columns=_GREEN_COLUMNS,
    pickup_column="lpep_pickup_datetime",
    dropoff_column="lpep_dropoff_datetime",
    layouts=(
        *_mirror_layouts(
            _GREEN_2019, ("VendorID", "RatecodeID", "passenger_count", "payment_type", "trip_type")
        ),
        _layout(
            "tlc-2013",
            TLC,
            "2013-08",
            "2018-12",
            _GREEN_2019,
            types={**_GREEN_TLC_OLD, "congestion_surcharge": pa.null()},
        ),
        _layout("tlc-2019", TLC, "2019-01", "2022-12", _GREEN_2019, types=_GREEN_TLC_OLD),
        _layout("tlc-2023", TLC, "2023-01", "2024-12", _GREEN_2019, types=_TAXI_TLC_2023),
        _layout("tlc-2025", TLC, "2025-01", None, _GREEN_COLUMNS, types=_TAXI_TLC_2023),
    ),
)

# --- FHV ---------------------------------------------------------------------------------------
# Both for-hire services publish these two alike.
_DISPATCHING_BASE = Column(
    "dispatching_base_num", _STRING, "TLC base license number of the base that dispatched the trip."
)
_FHV_PICKUP = Column("pickup_datetime", _TIMESTAMP, "Date and time of the trip pickup.")
_FHV_COLUMNS = (
    _DISPATCHING_BASE,
    _FHV_PICKUP,
    # The TLC's parquet files and the mirror's 2019 CSVs spell these three one way, the mirror's
    # 2020-2021 CSVs the other (as yellow and green do): the only case differences FHV has.
    Column(
        "dropOff_datetime",
        _TIMESTAMP,
        "Date and time of the trip drop-off.",
        aliases=("dropoff_datetime",),
        snake="dropoff_datetime",
    ),
    Column(
        "PUlocationID",
        _INT,
        "TLC taxi zone in which the trip began.",
        aliases=("PULocationID",),
        snake="pu_location_id",
    ),
    Column(
        "DOlocationID",
        _INT,
        "TLC taxi zone in which the trip ended.",
        aliases=("DOLocationID",),
        snake="do_location_id",
    ),
    Column(
        "SR_Flag",
        _INT,
        "1 if the trip was part of a shared-ride chain offered by a high-volume base (Uber Pool, "
        "Lyft Line); null otherwise.",
        snake="sr_flag",
    ),
    Column(
        "Affiliated_base_number",
        _STRING,
        "Base license number of the base the dispatching base is affiliated with.",
        snake="affiliated_base_number",
    ),
)
_FHV_2020_SPELLING = {
    "dropOff_datetime": "dropoff_datetime",
    "PUlocationID": "PULocationID",
    "DOlocationID": "DOLocationID",
}

FHV = TripSchema(
    service="fhv",
    title="For-hire-vehicle trips",
    columns=_FHV_COLUMNS,
    pickup_column="pickup_datetime",
    dropoff_column="dropOff_datetime",
    layouts=(
        _layout("mirror-2019", MIRROR, "2019-01", "2019-12", _FHV_COLUMNS),
        _layout(
            "mirror-2020",
            MIRROR,
            "2020-01",
            "2021-07",
            _FHV_COLUMNS,
            types=_all(("PUlocationID", "DOlocationID"), _FLOAT),
            spelled=_FHV_2020_SPELLING,
        ),
        _layout(
            "tlc-2015",
            TLC,
            "2015-01",
            "2018-12",
            _FHV_COLUMNS,
            types={**_all(("PUlocationID", "DOlocationID"), _FLOAT), "SR_Flag": pa.null()},
        ),
        _layout(
            "tlc-2019",
            TLC,
            "2019-01",
            "2022-12",
            _FHV_COLUMNS,
            types=_all(("PUlocationID", "DOlocationID", "SR_Flag"), _FLOAT),
        ),
        _layout(
            "tlc-2023",
            TLC,
            "2023-01",
            None,
            _FHV_COLUMNS,
            # Zones and SR_Flag int64 from 2023, as issue 25's footer timeline has them (no dated
            # printout found here; PySpark loaders read them as LongType).
            types=_all(("dispatching_base_num", "Affiliated_base_number"), pa.large_string()),
        ),
    ),
)

# --- high-volume FHV ---------------------------------------------------------------------------
# Columns and meanings: the TLC's "Data Dictionary – High Volume FHV Trip Records"
# (https://www.nyc.gov/assets/tlc/downloads/pdf/data_dictionary_trip_records_hvfhs.pdf), order and
# Arrow types: printouts of the files' footers: 2020-2022 read by Spark (michelhilg/
# data-engineering-tlc-data: string bases and flags, long zones and trip_time, double miles and
# amounts); 2024-01 in Hugging Face's viewer (AnnsKhan/jan_2024_nyc: large_string, timestamp[us],
# int32 zones, int64 trip_time, float64); toddwschneider/nyc-taxi-data's loader (the same 24
# columns in this order, and clickhouse/setup_files/fix_fhvhv_parquet_schemas.R: some files type
# airport_fee and wav_match_flag null, the months not named, which the reader accepts in any
# month); cbd_congestion_fee from 2025 as for yellow and green (the TLC's March 2025 revisions).
# The change to int32 zones and large strings is dated 2023-01 as the other services' rewrite is.


def _flag(name: str, what: str) -> Column:
    """One of high-volume FHV's Y/N flags."""
    return Column(name, _STRING, f"{what}; Y or N.")


_FHVHV_COLUMNS = (
    Column(
        "hvfhs_license_num",
        _STRING,
        "TLC license number of the high-volume for-hire service: HV0002 Juno, HV0003 Uber, HV0004 Via, "
        "HV0005 Lyft.",
    ),
    _DISPATCHING_BASE,
    Column(
        "originating_base_num", _STRING, "Base number of the base that received the original trip request."
    ),
    Column("request_datetime", _TIMESTAMP, "Date and time when the passenger requested to be picked up."),
    Column(
        "on_scene_datetime",
        _TIMESTAMP,
        "Date and time when the driver arrived at the pickup location (accessible vehicles only).",
    ),
    _FHV_PICKUP,
    Column("dropoff_datetime", _TIMESTAMP, "Date and time of the trip drop-off."),
    Column("PULocationID", _INT, "TLC taxi zone in which the trip began."),
    Column("DOLocationID", _INT, "TLC taxi zone in which the trip ended."),
    Column("trip_miles", _FLOAT, "Total miles for the passenger trip."),
    Column("trip_time", _INT, "Total time in seconds for the passenger trip."),
    Column("base_passenger_fare", _FLOAT, "Base passenger fare before tolls, tips, taxes and fees, in USD."),
    Column("tolls", _FLOAT, "Total amount of all tolls paid in the trip, in USD."),
    Column("bcf", _FLOAT, "Total amount collected in the trip for the Black Car Fund, in USD."),
    Column("sales_tax", _FLOAT, "Total amount collected in the trip for NYS sales tax, in USD."),
    Column(
        "congestion_surcharge",
        _FLOAT,
        "Total amount collected in the trip for the NYS congestion surcharge, in USD.",
    ),
    Column(
        "airport_fee",
        _FLOAT,
        "USD 2.50 for both drop-off and pickup at LaGuardia, Newark and John F. Kennedy airports.",
    ),
    Column("tips", _FLOAT, "Total amount of tips received from the passenger, in USD."),
    Column(
        "driver_pay",
        _FLOAT,
        "Total driver pay (not including tolls or tips, net of commission, surcharges or taxes), in USD.",
    ),
    _flag("shared_request_flag", "Whether the passenger agreed to a shared/pooled ride, matched or not"),
    _flag("shared_match_flag", "Whether the passenger shared the vehicle with another who booked separately"),
    _flag("access_a_ride_flag", "Whether the trip was administered on behalf of the MTA (Access-A-Ride)"),
    _flag("wav_request_flag", "Whether the passenger requested a wheelchair-accessible vehicle"),
    _flag("wav_match_flag", "Whether the trip was in a wheelchair-accessible vehicle"),
    _CBD_FEE,
)
_FHVHV_2023 = {
    **_all(("PULocationID", "DOLocationID"), pa.int32()),
    **_all((c.name for c in _FHVHV_COLUMNS if c.type == _STRING), pa.large_string()),
}

FHVHV = TripSchema(
    service="fhvhv",
    title="High-volume FHV trips",
    columns=_FHVHV_COLUMNS,
    pickup_column="pickup_datetime",
    dropoff_column="dropoff_datetime",
    layouts=(
        _layout("tlc-2019", TLC, "2019-02", "2022-12", _FHVHV_COLUMNS[:24]),
        _layout("tlc-2023", TLC, "2023-01", "2024-12", _FHVHV_COLUMNS[:24], types=_FHVHV_2023),
        _layout("tlc-2025", TLC, "2025-01", None, _FHVHV_COLUMNS, types=_FHVHV_2023),
    ),
)

SCHEMAS: dict[str, TripSchema] = {s.service: s for s in (YELLOW, GREEN, FHV, FHVHV)}

# The columns cleaning and its checks read, by their names in the file and after cleaning.
TRIP_MILES = "trip_miles"
TRIP_TIME = "trip_time"
PASSENGER_COUNT = _PASSENGERS.name
TRIP_DISTANCE = _DISTANCE.name
VENDOR_ID = _VENDOR.snake_name


def is_added(field: pa.Field) -> bool:
    """Whether ``field`` is a column a load added under evolve (see :data:`ADDED_COLUMN`)."""
    return bool(field.metadata) and ADDED_COLUMN in field.metadata


def added_descriptions(schema: pa.Schema) -> dict[str, str]:
    """The descriptions the added columns of ``schema`` carry, by column name."""
    return {f.name: f.metadata[DESCRIPTION].decode() for f in schema if is_added(f)}


def added_column_description(month: str) -> str:
    """How a column no layout knows is described wherever it is stored."""
    return f"Published from {month or 'an unknown month'}, not in the data dictionary."


def stored_type(published: pa.DataType) -> pa.DataType | None:
    """The type every store holds a column of a new, unknown column's published type as: integers
    as int64, floats as float64, text, timestamps (without zone) in microseconds, booleans, dates;
    ``None`` for a column typed ``null`` (empty, so of no known type yet). Any other type raises
    ``TypeError``.
    """
    if pa.types.is_null(published):
        return None
    if pa.types.is_integer(published):
        return _INT
    if pa.types.is_floating(published):
        return _FLOAT
    if pa.types.is_string(published) or pa.types.is_large_string(published):
        return _STRING
    if pa.types.is_timestamp(published) and published.tz is None:
        return _TIMESTAMP
    if pa.types.is_boolean(published):
        return pa.bool_()
    if pa.types.is_date(published):
        return pa.date32()
    raise TypeError(f"{published} is none of integer, float, text, timestamp without zone, boolean, date")


def pandas_types_mapper(arrow_type: pa.DataType) -> object | None:
    """Arrow → pandas dtypes that keep integer NULLs as ``<NA>`` instead of turning them to float."""
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype()
    if pa.types.is_date32(arrow_type):
        return pd.ArrowDtype(pa.date32())
    return None
