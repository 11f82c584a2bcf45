"""The one trip schema per service: canonical names, snake_case names, types, descriptions, eras."""

import pyarrow as pa
import pytest

from taxi_assets.publishers import MIRROR, PUBLISHERS, TLC
from taxi_assets.schema import (
    DATA_DICTIONARY,
    FHV,
    FHVHV,
    GREEN,
    PICKUP_DATE,
    SCHEMAS,
    YELLOW,
    snake_case,
)
from taxi_dev.month_tables import months_of


@pytest.mark.parametrize(
    ("published", "snake"),
    [
        ("VendorID", "vendor_id"),
        ("PULocationID", "pu_location_id"),
        ("DOLocationID", "do_location_id"),
        ("RatecodeID", "ratecode_id"),
        ("tpep_pickup_datetime", "tpep_pickup_datetime"),
        ("store_and_fwd_flag", "store_and_fwd_flag"),
        ("passenger_count", "passenger_count"),
        ("SR_Flag", "sr_flag"),
    ],
)
def test_snake_case(published: str, snake: str) -> None:
    assert snake_case(published) == snake


def test_yellow_is_the_union_of_its_eras_in_the_tlc_s_order() -> None:
    assert YELLOW.names == [
        "VendorID",
        "tpep_pickup_datetime",
        "tpep_dropoff_datetime",
        "passenger_count",
        "trip_distance",
        "RatecodeID",
        "store_and_fwd_flag",
        "PULocationID",
        "DOLocationID",
        "payment_type",
        "fare_amount",
        "extra",
        "mta_tax",
        "tip_amount",
        "tolls_amount",
        "improvement_surcharge",
        "total_amount",
        "congestion_surcharge",
        "airport_fee",
        "cbd_congestion_fee",
        # 2009-2010 only: where the trip began and ended, placed in zones.
        "pickup_longitude",
        "pickup_latitude",
        "dropoff_longitude",
        "dropoff_latitude",
    ]
    # What every era has, 2009 on: no zones (2009-2010 give positions), none of the later fees.
    assert list(YELLOW.required) == [
        n
        for n in YELLOW.names[:18]
        if n not in ("PULocationID", "DOLocationID", "improvement_surcharge", "congestion_surcharge")
    ]


def test_green_columns_are_the_published_ones_in_order() -> None:
    assert GREEN.names == [
        "VendorID",
        "lpep_pickup_datetime",
        "lpep_dropoff_datetime",
        "store_and_fwd_flag",
        "RatecodeID",
        "PULocationID",
        "DOLocationID",
        "passenger_count",
        "trip_distance",
        "fare_amount",
        "extra",
        "mta_tax",
        "tip_amount",
        "tolls_amount",
        "ehail_fee",
        "improvement_surcharge",
        "total_amount",
        "payment_type",
        "trip_type",
        "congestion_surcharge",
        "cbd_congestion_fee",
    ]


def test_fhv_columns_and_their_two_spellings() -> None:
    assert FHV.names == [
        "dispatching_base_num",
        "pickup_datetime",
        "dropOff_datetime",
        "PUlocationID",
        "DOlocationID",
        "SR_Flag",
        "Affiliated_base_number",
    ]
    assert [f.name for f in FHV.cleaned_arrow_schema][:7] == [
        "dispatching_base_num",
        "pickup_datetime",
        "dropoff_datetime",
        "pu_location_id",
        "do_location_id",
        "sr_flag",
        "affiliated_base_number",
    ]
    # The mirror's 2020-2021 CSVs spell three columns as yellow and green do: the same columns.
    for name in ("dropoff_datetime", "PULocationID", "DOLocationID"):
        assert FHV.published_as(name) is not None
    # Only the known variants match: case is not ignored in general.
    assert FHV.published_as("PICKUP_DATETIME") is None
    assert YELLOW.published_as("Airport_fee") is YELLOW.published_as("airport_fee")
    assert YELLOW.published_as("AIRPORT_FEE") is None


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
def test_every_derived_layout_agrees_with_the_columns(schema) -> None:
    cleaned = schema.cleaned_arrow_schema
    assert cleaned.names == [c.snake_name for c in schema.columns] + [PICKUP_DATE]
    assert cleaned.field(PICKUP_DATE).type == pa.date32()
    assert pa.types.is_timestamp(cleaned.field(schema.pickup_snake).type)
    for name in ("vendor_id", "passenger_count", "ratecode_id", "payment_type", "pu_location_id"):
        if name in cleaned.names:
            assert cleaned.field(name).type == pa.int64()
    descriptions = schema.descriptions(snake=True)
    assert set(descriptions) == set(cleaned.names)
    assert all(len(text) > 10 for text in descriptions.values())


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
def test_every_era_is_readable_into_the_canonical_layout(schema) -> None:
    """Each published layout's names are known spellings and its types convert to the canonical."""
    for layout in schema.layouts:
        for field in layout.fields:
            column = schema.published_as(field.name)
            assert column is not None, (layout.name, field.name)
            assert column.takes(field.type), (layout.name, field.name, field.type)


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
def test_each_publisher_s_months_have_one_layout(schema) -> None:
    for name, publisher in PUBLISHERS.items():
        if schema.service not in publisher.services:
            continue  # the mirror has no high-volume FHV
        months = months_of(publisher, schema.service)
        assert months[0] == publisher.first_month(schema.service)
        for month in months:
            assert schema.layout(name, month).publisher == name


def test_the_eras_the_loaders_report() -> None:
    assert YELLOW.layout(TLC, "2022-06").arrow_schema.field("airport_fee").type == pa.float64()
    assert YELLOW.layout(TLC, "2023-06").arrow_schema.field("Airport_fee").type == pa.float64()
    # The footers' timeline (schema.py): counts int64 until 2018-06, airport_fee empty until 2020-07,
    # the 2023 layout from 2023-02; no file is known to use nanoseconds.
    assert YELLOW.layout(TLC, "2018-06").arrow_schema.field("passenger_count").type == pa.int64()
    assert YELLOW.layout(TLC, "2018-07").arrow_schema.field("RatecodeID").type == pa.float64()
    assert YELLOW.layout(TLC, "2020-07").arrow_schema.field("airport_fee").type == pa.null()
    assert YELLOW.layout(TLC, "2020-08").arrow_schema.field("airport_fee").type == pa.float64()
    assert "airport_fee" in YELLOW.layout(TLC, "2023-01").arrow_schema.names
    assert "Airport_fee" in YELLOW.layout(TLC, "2023-02").arrow_schema.names
    assert YELLOW.layout(TLC, "2024-03").arrow_schema.field("tpep_pickup_datetime").type == pa.timestamp("us")
    assert FHV.layout(TLC, "2023-03").arrow_schema.field("SR_Flag").type == pa.int64()
    assert FHV.layout(TLC, "2023-03").arrow_schema.field("PUlocationID").type == pa.int64()
    assert FHVHV.layout(TLC, "2024-01").arrow_schema.field("PULocationID").type == pa.int32()
    assert FHVHV.layout(TLC, "2021-01").arrow_schema.field("hvfhs_license_num").type == pa.string()
    assert YELLOW.layout(TLC, "2025-02").arrow_schema.field("cbd_congestion_fee").type == pa.float64()
    assert YELLOW.layout(TLC, "2015-02").arrow_schema.field("congestion_surcharge").type == pa.null()
    assert YELLOW.layout(TLC, "2024-03").arrow_schema.field("VendorID").type == pa.int32()
    assert YELLOW.layout(TLC, "2020-03").arrow_schema.field("passenger_count").type == pa.float64()
    assert YELLOW.layout(MIRROR, "2020-03").arrow_schema.field("passenger_count").type == pa.float64()
    assert YELLOW.layout(MIRROR, "2019-03").arrow_schema.field("passenger_count").type == pa.int64()
    assert FHV.layout(MIRROR, "2019-03").arrow_schema.names[2:5] == [
        "dropOff_datetime",
        "PUlocationID",
        "DOlocationID",
    ]
    assert FHV.layout(MIRROR, "2020-03").arrow_schema.names[2:5] == [
        "dropoff_datetime",
        "PULocationID",
        "DOLocationID",
    ]


def test_every_description_in_the_data_dictionary_describes_a_column() -> None:
    """A description left behind when a column is renamed or dropped would describe nothing."""
    described = {(c.name, c.description) for schema in SCHEMAS.values() for c in schema.columns}
    unused = [
        f"{section}.{name}"
        for section, descriptions in DATA_DICTIONARY.items()
        for name, text in descriptions.items()
        if (name, text) not in described
    ]
    assert unused == []
