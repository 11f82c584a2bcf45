"""The one trip schema: published names, snake_case names, types and descriptions."""

import pyarrow as pa
import pytest

from taxi_assets.schema import GREEN, PICKUP_DATE, SCHEMAS, YELLOW, snake_case


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
    ],
)
def test_snake_case(published: str, snake: str) -> None:
    assert snake_case(published) == snake


def test_yellow_columns_are_the_published_ones_in_order() -> None:
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
    ]


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
def test_every_derived_layout_agrees_with_the_columns(schema) -> None:
    cleaned = schema.cleaned_arrow_schema
    assert cleaned.names == [c.snake_name for c in schema.columns] + [PICKUP_DATE]
    assert cleaned.field(PICKUP_DATE).type == pa.date32()
    assert pa.types.is_timestamp(cleaned.field(schema.pickup_snake).type)
    for name in ("vendor_id", "passenger_count", "ratecode_id", "payment_type", "pu_location_id"):
        assert cleaned.field(name).type == pa.int64()
    descriptions = schema.descriptions(snake=True)
    assert set(descriptions) == set(cleaned.names)
    assert all(len(text) > 10 for text in descriptions.values())
