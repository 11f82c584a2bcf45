"""The trip files of each service, written once: every parse type and name derives from here, and
every description from ``data_dictionary.yaml`` beside it, by the column's section and name.

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
  2022 one; timestamps INT64 from 2011, a unit no printout found gives as nanoseconds; 2009 and
  2010 with positions instead of zones, times, vendors and payments as text (BYTE_ARRAY), 2009's
  ``Rate_Code`` and ``store_and_forward`` DOUBLE, 2010's ``rate_code`` text (INT64 in 2010-02 and
  2010-03, which also carry pandas' ``__index_level_0__``);
- for the 2009-2010 words: gdq12/pipeline-performance-analysis's dbt model of those files (vendor
  and payment spellings and their codes), toddwschneider/nyc-taxi-data (positions at 0 are none;
  ``__index_level_0__`` dropped).
Era boundaries are as reported, not checked file by file: the reader does not depend on them
(any month may use any known layout of its service, and any integer, float, timestamp unit or
``null`` where the canonical type allows it); the synthetic source does.

Integer columns are nullable: the real files end each month with rows whose VendorID,
passenger_count, RatecodeID and payment_type are empty.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib.resources import files

import pandas as pd
import pyarrow as pa
import yaml

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
    # Codes published as words (2009-2010 vendors and payments): the word, trimmed and upper-case,
    # to the code. A word not here fails the month, naming it: a new fact to learn, not to hide.
    words: Mapping[str, int] | None = field(default=None, compare=False)
    # Text published as numbers (2009's store_and_forward, a double): each number's text.
    numbers_as_text: Mapping[int, str] | None = field(default=None, compare=False)
    # A time or number some layout publishes as text (2009-2010's times, 2010's rate code): parsed.
    from_text: bool = field(default=False, compare=False)

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

    def takes(self, published: pa.DataType) -> bool:
        """Whether a column published as ``published`` converts to this one: as :func:`accepts`
        says, and from text where a layout publishes this column as text (times and numbers parsed,
        words looked up), and from numbers where it publishes text as numbers (each value checked
        when read). Text anywhere else fails the month, as a type no layout uses.
        """
        text = pa.types.is_string(published) or pa.types.is_large_string(published)
        if text and (self.from_text or self.words is not None):
            return True
        numeric = pa.types.is_integer(published) or pa.types.is_floating(published)
        if numeric and self.numbers_as_text is not None:
            return True
        return accepts(self.type, published)

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

# The vendors of the 2009 and 2010 files, published as words: CMT and VTS (VeriFone Transportation
# Systems) are the TLC's 1 and 2; Digital Dispatch Systems (DDS) stopped before the TLC numbered its
# vendors, so it has no TLC code: 9 here (as gdq12/pipeline-performance-analysis chose), outside the
# TLC's numbers (1, 2, 6, 7 so far).
LEGACY_VENDORS: dict[int, str] = {9: "Digital Dispatch Systems (2009-2010 files only; not a TLC code)"}
VENDOR_WORDS: dict[str, int] = {"CMT": 1, "VTS": 2, "DDS": 9}
# The payment words of the 2009 and 2010 files (every spelling seen, compared trimmed and in upper
# case) and the TLC's codes for them: 2009 spells them out (CASH, Cash, Credit, CREDIT, No Charge,
# Dispute), 2010 abbreviates (CAS, CSH, CRE, CRD, NOC, DIS, UNK, NA).
PAYMENT_WORDS: dict[str, int] = {
    **dict.fromkeys(("CREDIT", "CRE", "CRD"), 1),
    **dict.fromkeys(("CASH", "CAS", "CSH"), 2),
    **dict.fromkeys(("NO CHARGE", "NOC", "NO"), 3),
    **dict.fromkeys(("DISPUTE", "DIS"), 4),
    **dict.fromkeys(("UNK", "UNKNOWN", "NA"), 5),
}
# 2009's store_and_forward is a double: 0 not held, 1 held in the meter's memory.
STORE_AND_FORWARD_NUMBERS: dict[int, str] = {0: "N", 1: "Y"}
# Columns a file may carry that are no trip data: pandas' index, written by the tool that made
# yellow 2010-02 and 2010-03 (the footer printout below; toddwschneider/nyc-taxi-data drops it too).
IGNORED_COLUMNS = frozenset({"__index_level_0__"})

# What each column means is prose, kept as the data dictionaries keep it: by service, in a file.
DATA_DICTIONARY: dict[str, dict[str, str]] = yaml.safe_load(
    files("taxi_assets").joinpath("data_dictionary.yaml").read_text(encoding="utf-8")
)


def _described(section: str) -> Callable[..., Column]:
    """Columns described by ``section`` of the data dictionary: ``(name, type, aliases=, snake=)``."""
    descriptions = DATA_DICTIONARY[section]

    def column(
        name: str, type_: pa.DataType, *, aliases: tuple[str, ...] = (), snake: str | None = None
    ) -> Column:
        return Column(name, type_, descriptions[name], aliases=aliases, snake=snake)

    return column


_taxi = _described("taxi")
_VENDOR = Column(
    "VendorID", _INT, "TPEP/LPEP provider: " + ", ".join(f"{n} = {name}" for n, name in VENDORS.items()) + "."
)
_PASSENGERS = _taxi("passenger_count", _INT)
_DISTANCE = _taxi("trip_distance", _FLOAT)
_RATECODE = _taxi("RatecodeID", _INT)
_STORE_FWD = _taxi("store_and_fwd_flag", _STRING)
_PU_LOCATION = _taxi("PULocationID", _INT)
_DO_LOCATION = _taxi("DOLocationID", _INT)
_PAYMENT = _taxi("payment_type", _INT)
_FARE = _taxi("fare_amount", _FLOAT)
_EXTRA = _taxi("extra", _FLOAT)
_MTA_TAX = _taxi("mta_tax", _FLOAT)
_TIP = _taxi("tip_amount", _FLOAT)
_TOLLS = _taxi("tolls_amount", _FLOAT)
_IMPROVEMENT = _taxi("improvement_surcharge", _FLOAT)
_TOTAL = _taxi("total_amount", _FLOAT)
_CONGESTION = _taxi("congestion_surcharge", _FLOAT)
_CBD_FEE = _taxi("cbd_congestion_fee", _FLOAT)


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
_yellow = _described("yellow")
# The TLC's files spell it both ways: airport_fee up to 2022, Airport_fee from 2023.
_AIRPORT_FEE = _yellow("airport_fee", _FLOAT, aliases=("Airport_fee",))
# Yellow's columns as the 2009 and 2010 files also spell them (2009 first).
_YELLOW_PICKUP = replace(
    _yellow("tpep_pickup_datetime", _TIMESTAMP, aliases=("Trip_Pickup_DateTime", "pickup_datetime")),
    from_text=True,
)
_YELLOW_DROPOFF = replace(
    _yellow("tpep_dropoff_datetime", _TIMESTAMP, aliases=("Trip_Dropoff_DateTime", "dropoff_datetime")),
    from_text=True,
)
_YELLOW_VENDOR = replace(
    _VENDOR,
    description=_VENDOR.description[:-1]
    + "; "
    + ", ".join(f"{n} = {v}" for n, v in LEGACY_VENDORS.items())
    + ".",
    aliases=("vendor_name", "vendor_id"),
    words=VENDOR_WORDS,
)
_YELLOW_PASSENGERS = replace(_PASSENGERS, aliases=("Passenger_Count",))
_YELLOW_DISTANCE = replace(_DISTANCE, aliases=("Trip_Distance",))
_YELLOW_RATECODE = replace(_RATECODE, aliases=("Rate_Code", "rate_code"), from_text=True)
_YELLOW_STORE_FWD = replace(
    _STORE_FWD, aliases=("store_and_forward",), numbers_as_text=STORE_AND_FORWARD_NUMBERS
)
_YELLOW_PAYMENT = replace(_PAYMENT, aliases=("Payment_Type",), words=PAYMENT_WORDS)
_YELLOW_FARE = replace(_FARE, aliases=("Fare_Amt",))
_YELLOW_EXTRA = replace(_EXTRA, aliases=("surcharge",))  # the surcharge of 2009-2010 is extra's
_YELLOW_TIP = replace(_TIP, aliases=("Tip_Amt",))
_YELLOW_TOLLS = replace(_TOLLS, aliases=("Tolls_Amt",))
_YELLOW_TOTAL = replace(_TOTAL, aliases=("Total_Amt",))
_PICKUP_LONGITUDE = _yellow("pickup_longitude", _FLOAT, aliases=("Start_Lon",))
_PICKUP_LATITUDE = _yellow("pickup_latitude", _FLOAT, aliases=("Start_Lat",))
_DROPOFF_LONGITUDE = _yellow("dropoff_longitude", _FLOAT, aliases=("End_Lon",))
_DROPOFF_LATITUDE = _yellow("dropoff_latitude", _FLOAT, aliases=("End_Lat",))
_YELLOW_COLUMNS = (
    _YELLOW_VENDOR,
    _YELLOW_PICKUP,
    _YELLOW_DROPOFF,
    _YELLOW_PASSENGERS,
    _YELLOW_DISTANCE,
    _YELLOW_RATECODE,
    _YELLOW_STORE_FWD,
    _PU_LOCATION,
    _DO_LOCATION,
    _YELLOW_PAYMENT,
    _YELLOW_FARE,
    _YELLOW_EXTRA,
    _MTA_TAX,
    _YELLOW_TIP,
    _YELLOW_TOLLS,
    _IMPROVEMENT,
    _YELLOW_TOTAL,
    _CONGESTION,
    _AIRPORT_FEE,
    _CBD_FEE,
    # Last, so every stage of the months before keeps its column order: null from 2011.
    _PICKUP_LONGITUDE,
    _PICKUP_LATITUDE,
    _DROPOFF_LONGITUDE,
    _DROPOFF_LATITUDE,
)
_YELLOW_2019 = _YELLOW_COLUMNS[:18]  # the mirror's CSV: no airport_fee, no cbd_congestion_fee
_YELLOW_TLC = _YELLOW_COLUMNS[:19]  # the TLC's parquet up to 2024: no cbd_congestion_fee
_YELLOW_TLC_2025 = _YELLOW_COLUMNS[:20]  # with cbd_congestion_fee; zones, not coordinates
# The 2009 and 2010 files, in their order: coordinates instead of zones, no extra fees yet.
_YELLOW_TLC_2009 = (
    *_YELLOW_COLUMNS[:5],  # vendor, times, passengers, distance
    _PICKUP_LONGITUDE,
    _PICKUP_LATITUDE,
    *_YELLOW_COLUMNS[5:7],  # rate code, store and forward
    _DROPOFF_LONGITUDE,
    _DROPOFF_LATITUDE,
    *_YELLOW_COLUMNS[9:15],  # payment, fare, extra, MTA tax, tip, tolls
    _YELLOW_TOTAL,
)
_WORDS_AND_TIMES = _all(
    ("VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "payment_type"), _STRING
)
_YELLOW_2009_TYPES = {**_WORDS_AND_TIMES, "RatecodeID": _FLOAT, "store_and_fwd_flag": _FLOAT}
_YELLOW_2009_SPELLING = {
    "VendorID": "vendor_name",
    "tpep_pickup_datetime": "Trip_Pickup_DateTime",
    "tpep_dropoff_datetime": "Trip_Dropoff_DateTime",
    "passenger_count": "Passenger_Count",
    "trip_distance": "Trip_Distance",
    "pickup_longitude": "Start_Lon",
    "pickup_latitude": "Start_Lat",
    "RatecodeID": "Rate_Code",
    "store_and_fwd_flag": "store_and_forward",
    "dropoff_longitude": "End_Lon",
    "dropoff_latitude": "End_Lat",
    "payment_type": "Payment_Type",
    "fare_amount": "Fare_Amt",
    "extra": "surcharge",
    "tip_amount": "Tip_Amt",
    "tolls_amount": "Tolls_Amt",
    "total_amount": "Total_Amt",
}
# 2010: snake names, the rate code as text (int64 in 2010-02 and 2010-03, which the reader takes).
_YELLOW_2010_TYPES = {**_WORDS_AND_TIMES, "RatecodeID": _STRING, "store_and_fwd_flag": _STRING}
_YELLOW_2010_SPELLING = {
    "VendorID": "vendor_id",
    "tpep_pickup_datetime": "pickup_datetime",
    "tpep_dropoff_datetime": "dropoff_datetime",
    "RatecodeID": "rate_code",
    "extra": "surcharge",
}
_YELLOW_TLC_OLD = _all(("passenger_count", "RatecodeID"), _FLOAT)  # VendorID, zones, payment int64
_EMPTY_FEES = _all(("congestion_surcharge", "airport_fee"), pa.null())
_YELLOW_TLC_2019 = {**_YELLOW_TLC_OLD, "airport_fee": pa.null()}
_AIRPORT_FEE_2023 = {"airport_fee": "Airport_fee"}

_YELLOW_TIMES = ("tpep_pickup_datetime", "tpep_dropoff_datetime")  # pickup, dropoff
_YELLOW_LAYOUTS = (
    *_mirror_layouts(_YELLOW_2019, ("VendorID", "passenger_count", "RatecodeID", "payment_type")),
    _layout(
        "tlc-2009",
        TLC,
        "2009-01",
        "2009-12",
        _YELLOW_TLC_2009,
        types=_YELLOW_2009_TYPES,
        spelled=_YELLOW_2009_SPELLING,
    ),
    _layout(
        "tlc-2010",
        TLC,
        "2010-01",
        "2010-12",
        _YELLOW_TLC_2009,
        types=_YELLOW_2010_TYPES,
        spelled=_YELLOW_2010_SPELLING,
    ),
    _layout("tlc-2011", TLC, "2011-01", "2018-06", _YELLOW_TLC, types=_EMPTY_FEES),
    _layout("tlc-2018-07", TLC, "2018-07", "2018-12", _YELLOW_TLC, types=_YELLOW_TLC_OLD | _EMPTY_FEES),
    _layout("tlc-2019", TLC, "2019-01", "2020-07", _YELLOW_TLC, types=_YELLOW_TLC_2019),
    _layout("tlc-2020-08", TLC, "2020-08", "2023-01", _YELLOW_TLC, types=_YELLOW_TLC_OLD),
    _layout(
        "tlc-2023", TLC, "2023-02", "2024-12", _YELLOW_TLC, types=_TAXI_TLC_2023, spelled=_AIRPORT_FEE_2023
    ),
    _layout(
        "tlc-2025", TLC, "2025-01", None, _YELLOW_TLC_2025, types=_TAXI_TLC_2023, spelled=_AIRPORT_FEE_2023
    ),
)
YELLOW = TripSchema("yellow", "Yellow-cab trips", _YELLOW_COLUMNS, *_YELLOW_TIMES, _YELLOW_LAYOUTS)

# --- green -------------------------------------------------------------------------------------
_green = _described("green")
_GREEN_COLUMNS = (
    _VENDOR,
    _green("lpep_pickup_datetime", _TIMESTAMP),
    _green("lpep_dropoff_datetime", _TIMESTAMP),
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
    _green("ehail_fee", _FLOAT),
    _IMPROVEMENT,
    _TOTAL,
    _PAYMENT,
    _green("trip_type", _INT),
    _CONGESTION,
    _CBD_FEE,
)
_GREEN_2019 = _GREEN_COLUMNS[:20]
_GREEN_TLC_OLD = {
    **_all(("RatecodeID", "passenger_count", "payment_type", "trip_type"), _FLOAT),
    "ehail_fee": pa.null(),
}
_GREEN_TLC_2013 = {**_GREEN_TLC_OLD, "congestion_surcharge": pa.null()}

_GREEN_TIMES = ("lpep_pickup_datetime", "lpep_dropoff_datetime")  # pickup, dropoff
_GREEN_LAYOUTS = (
    *_mirror_layouts(_GREEN_2019, ("VendorID", "RatecodeID", "passenger_count", "payment_type", "trip_type")),
    _layout("tlc-2013", TLC, "2013-08", "2018-12", _GREEN_2019, types=_GREEN_TLC_2013),
    _layout("tlc-2019", TLC, "2019-01", "2022-12", _GREEN_2019, types=_GREEN_TLC_OLD),
    _layout("tlc-2023", TLC, "2023-01", "2024-12", _GREEN_2019, types=_TAXI_TLC_2023),
    _layout("tlc-2025", TLC, "2025-01", None, _GREEN_COLUMNS, types=_TAXI_TLC_2023),
)
GREEN = TripSchema("green", "Green-cab trips", _GREEN_COLUMNS, *_GREEN_TIMES, _GREEN_LAYOUTS)

# --- FHV ---------------------------------------------------------------------------------------
# Both for-hire services publish these two alike.
_for_hire = _described("for_hire")
_DISPATCHING_BASE = _for_hire("dispatching_base_num", _STRING)
_FHV_PICKUP = _for_hire("pickup_datetime", _TIMESTAMP)
_fhv = _described("fhv")
_FHV_COLUMNS = (
    _DISPATCHING_BASE,
    _FHV_PICKUP,
    # The TLC's parquet files and the mirror's 2019 CSVs spell these three one way, the mirror's
    # 2020-2021 CSVs the other (as yellow and green do): the only case differences FHV has.
    _fhv("dropOff_datetime", _TIMESTAMP, aliases=("dropoff_datetime",), snake="dropoff_datetime"),
    _fhv("PUlocationID", _INT, aliases=("PULocationID",), snake="pu_location_id"),
    _fhv("DOlocationID", _INT, aliases=("DOLocationID",), snake="do_location_id"),
    _fhv("SR_Flag", _INT, snake="sr_flag"),
    _fhv("Affiliated_base_number", _STRING, snake="affiliated_base_number"),
)
_FHV_2020_SPELLING = {
    "dropOff_datetime": "dropoff_datetime",
    "PUlocationID": "PULocationID",
    "DOlocationID": "DOLocationID",
}
_FHV_FLOAT_ZONES = _all(("PUlocationID", "DOlocationID"), _FLOAT)
_FHV_TLC_2015 = {**_FHV_FLOAT_ZONES, "SR_Flag": pa.null()}
_FHV_TLC_2019 = _all(("PUlocationID", "DOlocationID", "SR_Flag"), _FLOAT)
# Zones and SR_Flag int64 from 2023, as issue 25's footer timeline has them (no dated printout
# found here; PySpark loaders read them as LongType).
_FHV_TLC_2023 = _all(("dispatching_base_num", "Affiliated_base_number"), pa.large_string())

_FHV_TIMES = ("pickup_datetime", "dropOff_datetime")  # pickup, dropoff
_FHV_LAYOUTS = (
    _layout("mirror-2019", MIRROR, "2019-01", "2019-12", _FHV_COLUMNS),
    _layout(
        "mirror-2020",
        MIRROR,
        "2020-01",
        "2021-07",
        _FHV_COLUMNS,
        types=_FHV_FLOAT_ZONES,
        spelled=_FHV_2020_SPELLING,
    ),
    _layout("tlc-2015", TLC, "2015-01", "2018-12", _FHV_COLUMNS, types=_FHV_TLC_2015),
    _layout("tlc-2019", TLC, "2019-01", "2022-12", _FHV_COLUMNS, types=_FHV_TLC_2019),
    _layout("tlc-2023", TLC, "2023-01", None, _FHV_COLUMNS, types=_FHV_TLC_2023),
)
FHV = TripSchema("fhv", "For-hire-vehicle trips", _FHV_COLUMNS, *_FHV_TIMES, _FHV_LAYOUTS)

# --- high-volume FHV ---------------------------------------------------------------------------
# Columns (their meanings in the data dictionary's fhvhv section): the TLC's "Data Dictionary –
# High Volume FHV Trip Records" (https://www.nyc.gov/assets/tlc/downloads/pdf/
# data_dictionary_trip_records_hvfhs.pdf), order and
# Arrow types: printouts of the files' footers: 2020-2022 read by Spark (michelhilg/
# data-engineering-tlc-data: string bases and flags, long zones and trip_time, double miles and
# amounts); 2024-01 in Hugging Face's viewer (AnnsKhan/jan_2024_nyc: large_string, timestamp[us],
# int32 zones, int64 trip_time, float64); toddwschneider/nyc-taxi-data's loader (the same 24
# columns in this order, and clickhouse/setup_files/fix_fhvhv_parquet_schemas.R: some files type
# airport_fee and wav_match_flag null, the months not named, which the reader accepts in any
# month); cbd_congestion_fee from 2025 as for yellow and green (the TLC's March 2025 revisions).
# The change to int32 zones and large strings is dated 2023-01 as the other services' rewrite is.


_fhvhv = _described("fhvhv")
_FHVHV_COLUMNS = (
    _fhvhv("hvfhs_license_num", _STRING),
    _DISPATCHING_BASE,
    _fhvhv("originating_base_num", _STRING),
    _fhvhv("request_datetime", _TIMESTAMP),
    _fhvhv("on_scene_datetime", _TIMESTAMP),
    _FHV_PICKUP,
    _fhvhv("dropoff_datetime", _TIMESTAMP),
    _fhvhv("PULocationID", _INT),
    _fhvhv("DOLocationID", _INT),
    _fhvhv("trip_miles", _FLOAT),
    _fhvhv("trip_time", _INT),
    _fhvhv("base_passenger_fare", _FLOAT),
    _fhvhv("tolls", _FLOAT),
    _fhvhv("bcf", _FLOAT),
    _fhvhv("sales_tax", _FLOAT),
    _fhvhv("congestion_surcharge", _FLOAT),
    _fhvhv("airport_fee", _FLOAT),
    _fhvhv("tips", _FLOAT),
    _fhvhv("driver_pay", _FLOAT),
    _fhvhv("shared_request_flag", _STRING),
    _fhvhv("shared_match_flag", _STRING),
    _fhvhv("access_a_ride_flag", _STRING),
    _fhvhv("wav_request_flag", _STRING),
    _fhvhv("wav_match_flag", _STRING),
    _CBD_FEE,
)
_FHVHV_2023 = {
    **_all(("PULocationID", "DOLocationID"), pa.int32()),
    **_all((c.name for c in _FHVHV_COLUMNS if c.type == _STRING), pa.large_string()),
}

_FHVHV_TIMES = ("pickup_datetime", "dropoff_datetime")  # pickup, dropoff
_FHVHV_LAYOUTS = (
    _layout("tlc-2019", TLC, "2019-02", "2022-12", _FHVHV_COLUMNS[:24]),
    _layout("tlc-2023", TLC, "2023-01", "2024-12", _FHVHV_COLUMNS[:24], types=_FHVHV_2023),
    _layout("tlc-2025", TLC, "2025-01", None, _FHVHV_COLUMNS, types=_FHVHV_2023),
)
FHVHV = TripSchema("fhvhv", "High-volume FHV trips", _FHVHV_COLUMNS, *_FHVHV_TIMES, _FHVHV_LAYOUTS)

SCHEMAS: dict[str, TripSchema] = {s.service: s for s in (YELLOW, GREEN, FHV, FHVHV)}

# The columns cleaning and its checks read, by their names in the file and after cleaning.
TRIP_MILES = "trip_miles"
TRIP_TIME = "trip_time"
PASSENGER_COUNT = _PASSENGERS.name
TRIP_DISTANCE = _DISTANCE.name
VENDOR_ID = _VENDOR.snake_name


def known_vendors(month_start: dt.datetime) -> dict[int, str]:
    """The vendor codes a month's cleaned rows may hold: the TLC's, and DDS's 9 in the 2009 and 2010
    files, the only ones that name it (a 9 in a later file is a vendor the dictionary does not know).
    """
    return {**VENDORS, **LEGACY_VENDORS} if month_start.year <= 2010 else VENDORS


# Where the 2009 and 2010 trips were picked up and dropped off: (longitude, latitude) per end.
PICKUP_POINT = (_PICKUP_LONGITUDE.name, _PICKUP_LATITUDE.name)
DROPOFF_POINT = (_DROPOFF_LONGITUDE.name, _DROPOFF_LATITUDE.name)
PICKUP_ZONE, DROPOFF_ZONE = _PU_LOCATION.name, _DO_LOCATION.name
# Columns whose values are nearly all distinct (positions to the millionth of a degree), stored
# without a parquet dictionary: one per column per open file gains nothing, and the daily step's
# 31 open day files paid about 95 MB of peak memory for them on a 2009 month.
WITHOUT_DICTIONARY = frozenset((*PICKUP_POINT, *DROPOFF_POINT))


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
