"""Every published layout of every service, served over HTTP, read into the one canonical layout;
and the parquet files the reader refuses, each with a first line that says what and where.
"""

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from taxi_assets.publishers import MIRROR, TLC
from taxi_assets.schema import (
    CONTRACTS,
    DISCARD,
    EVOLVE,
    FREEZE,
    SCHEMAS,
    YELLOW,
    Layout,
    TripSchema,
    added_descriptions,
)
from taxi_assets_tests.support.source_files import (
    ROWS,
    as_the_era_has_it,
    fetch_table,
    refusal,
    rewrite,
    unknown_column,
)
from taxi_assets_tests.support.source_server import SourceServer

LAYOUTS = [(schema, layout) for schema in SCHEMAS.values() for layout in schema.layouts]


@pytest.fixture
def servers(source_server: SourceServer, tlc_server: SourceServer) -> dict[str, SourceServer]:
    return {MIRROR: source_server, TLC: tlc_server}


@pytest.mark.parametrize(
    ("schema", "layout"), LAYOUTS, ids=[f"{s.service}-{layout.name}" for s, layout in LAYOUTS]
)
def test_each_published_layout_reads_into_the_canonical_layout(
    servers: dict[str, SourceServer], schema: TripSchema, layout: Layout
) -> None:
    server, month = servers[layout.publisher], layout.first
    published = server.publish(schema.service, month, ROWS, layout=layout.name, row_group_size=1_000)
    if published.suffix == ".parquet":
        assert pq.read_schema(published).remove_metadata() == layout.arrow_schema, "written as published"
    table = fetch_table(server, schema.service, month)
    assert table.schema == schema.raw_arrow_schema
    assert table.equals(as_the_era_has_it(schema, layout, month))


def rewrite_parquet(path: Path, edit: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(edit(pq.read_table(path)), path)


def test_an_unknown_column_names_month_file_and_column_and_what_to_do(tlc_server: SourceServer) -> None:
    path = tlc_server.publish("yellow", "2025-03", ROWS)
    rewrite_parquet(path, lambda t: t.append_column("tip_percent", pa.array([15] * t.num_rows)))
    assert refusal(tlc_server, "yellow", "2025-03") == unknown_column("tip_percent", "yellow")


def test_timestamps_in_nanoseconds_read_as_microseconds(tlc_server: SourceServer) -> None:
    """No era is known to use them (schema.py), but a file may: the reader takes any unit."""
    path = tlc_server.publish("yellow", "2024-03", ROWS)
    expected = fetch_table(tlc_server, "yellow", "2024-03", FREEZE)
    rewrite_parquet(
        path,
        lambda t: t.cast(
            pa.schema(
                pa.field(f.name, pa.timestamp("ns")) if pa.types.is_timestamp(f.type) else f for f in t.schema
            )
        ),
    )
    assert pq.read_schema(path).field("tpep_pickup_datetime").type == pa.timestamp("ns")
    assert fetch_table(tlc_server, "yellow", "2024-03", FREEZE).equals(expected)


def with_new_columns(table: pa.Table) -> pa.Table:
    """The month as if the publisher had added columns: an int32, a large string, an empty one."""
    n = table.num_rows
    table = table.append_column("request_source", pa.array(["app", "hail"] * (n // 2) + ["app"] * (n % 2)))
    table = table.append_column("tip_percent", pa.array(range(n), pa.int32()))
    return table.append_column("future_flag", pa.nulls(n))


def test_evolve_adds_a_new_column_typed_from_the_file_and_described(tlc_server: SourceServer) -> None:
    path = tlc_server.publish("yellow", "2025-03", ROWS)
    rewrite_parquet(path, with_new_columns)
    table = fetch_table(tlc_server, "yellow", "2025-03", EVOLVE)
    assert table.column_names == [*YELLOW.names, "request_source", "tip_percent"], (
        "the empty one: no type yet"
    )
    assert table.schema.field("tip_percent").type == pa.int64()
    assert table.schema.field("request_source").type == pa.string()
    assert table.column("tip_percent").to_pylist() == list(range(ROWS))
    assert added_descriptions(table.schema) == {
        "request_source": "Published from 2025-03, not in the data dictionary.",
        "tip_percent": "Published from 2025-03, not in the data dictionary.",
    }
    assert table.select(YELLOW.names).equals(fetch_table(tlc_server, "yellow", "2025-03", DISCARD))


def test_evolve_keeps_booleans_dates_and_timestamps_as_such(tlc_server: SourceServer) -> None:
    path = tlc_server.publish("fhvhv", "2025-03", ROWS)

    def with_typed_columns(table: pa.Table) -> pa.Table:
        pickups = table.column("pickup_datetime")
        table = table.append_column("is_airport", pc.is_valid(table.column("airport_fee")))
        table = table.append_column("service_day", pc.cast(pc.cast(pickups, pa.date32()), pa.date64()))
        return table.append_column("dispatched_at", pc.cast(pickups, pa.timestamp("ms")))

    rewrite_parquet(path, with_typed_columns)
    table = fetch_table(tlc_server, "fhvhv", "2025-03", EVOLVE)
    assert [table.schema.field(n).type for n in ("is_airport", "service_day", "dispatched_at")] == [
        pa.bool_(),
        pa.date32(),
        pa.timestamp("us"),
    ]
    assert table.column("dispatched_at").equals(table.column("pickup_datetime"))


def test_discard_reads_the_month_without_the_new_columns(tlc_server: SourceServer) -> None:
    path = tlc_server.publish("green", "2025-03", ROWS)
    expected = fetch_table(tlc_server, "green", "2025-03", FREEZE)
    rewrite_parquet(path, with_new_columns)
    assert fetch_table(tlc_server, "green", "2025-03", DISCARD).equals(expected)


def test_evolve_types_a_new_csv_column_from_its_values(source_server: SourceServer) -> None:
    path = source_server.publish("fhv", "2020-03", ROWS)
    rewrite(
        path,
        lambda lines: [lines[0] + ",wait_seconds"] + [f"{line},{n * 7}" for n, line in enumerate(lines[1:])],
    )
    table = fetch_table(source_server, "fhv", "2020-03", EVOLVE)
    assert table.schema.field("wait_seconds").type == pa.int64()
    assert table.column("wait_seconds").to_pylist() == [n * 7 for n in range(ROWS)]


def test_a_new_column_of_a_type_no_store_holds_fails_naming_it(tlc_server: SourceServer) -> None:
    path = tlc_server.publish("yellow", "2025-03", ROWS)
    rewrite_parquet(path, lambda t: t.append_column("route", pa.array([[1, 2]] * t.num_rows)))
    assert refusal(tlc_server, "yellow", "2025-03", EVOLVE).startswith(
        "new column 'route' is list<element: int64>, which the stores cannot hold"
    )


def with_a_fraction(column: str, row: int, value: float) -> Callable[[pa.Table], pa.Table]:
    """An edit of the month: ``column`` published as double, data row ``row`` (from 1) ``value``."""

    def edit(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index(column)
        values = table.column(index).to_pylist()
        values[row - 1] = value
        return table.set_column(index, column, pa.array(values, pa.float64()))

    return edit


@pytest.mark.parametrize("contract", CONTRACTS)
def test_a_known_column_changing_type_fails_under_every_contract(
    tlc_server: SourceServer, contract: str
) -> None:
    path = tlc_server.publish("yellow", "2025-03", ROWS)
    rewrite_parquet(path, with_a_fraction("passenger_count", 77, 1.5))
    assert refusal(tlc_server, "yellow", "2025-03", contract).startswith(
        "column 'passenger_count', data row 77: non-integer value 1.5 where a whole number belongs"
    )


def test_text_where_a_number_belongs_names_the_column_and_the_types(tlc_server: SourceServer) -> None:
    path = tlc_server.publish("green", "2024-02", ROWS)

    def as_text(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index("passenger_count")
        return table.set_column(index, "passenger_count", pc.cast(table.column(index), pa.string()))

    rewrite_parquet(path, as_text)
    assert refusal(tlc_server, "green", "2024-02") == (
        "column 'passenger_count' is string in this file, where green needs int64 (published as an "
        "integer or a double); fix or re-publish the file, or point TAXI_SOURCE_URL_TEMPLATE at a good "
        "copy; nothing was written"
    )


def test_fractions_in_a_double_integer_column_name_the_row(tlc_server: SourceServer) -> None:
    path = tlc_server.publish("fhv", "2019-05", ROWS)  # PUlocationID published as double
    rewrite_parquet(path, with_a_fraction("PUlocationID", 1234, 12.5))
    assert refusal(tlc_server, "fhv", "2019-05").startswith(
        "column 'PUlocationID', data row 1234: non-integer value 12.5 where a whole number belongs"
    )


def test_a_truncated_parquet_file_says_so(tlc_server: SourceServer) -> None:
    path = tlc_server.publish("yellow", "2023-07", ROWS)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    assert refusal(tlc_server, "yellow", "2023-07").startswith(
        f"not a readable parquet file ({path.stat().st_size:,} bytes): it is truncated or corrupt, so its "
        "footer (the list of columns) cannot be read and no column can be named"
    )


def test_a_corrupt_column_chunk_names_the_column_and_its_rows(tlc_server: SourceServer) -> None:
    path = tlc_server.publish("yellow", "2023-07", 4_000, row_group_size=1_000)
    chunk = pq.ParquetFile(path).metadata.row_group(1).column(4)  # trip_distance, rows 1001-2000
    start = (chunk.dictionary_page_offset or chunk.data_page_offset) + chunk.total_compressed_size // 2
    data = bytearray(path.read_bytes())
    data[start : start + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))
    assert refusal(tlc_server, "yellow", "2023-07").startswith(
        "column 'trip_distance', data rows 1001-2000 (row group 1): the stored data is corrupt or cut short"
    )
