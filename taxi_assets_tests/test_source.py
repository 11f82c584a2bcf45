"""Downloading and parsing published files over real HTTP from the local source server."""

import gzip
from collections.abc import Callable

import pyarrow as pa
import pytest

from taxi_assets.publishers import MIRROR, PUBLISHERS
from taxi_assets.schema import SCHEMAS, YELLOW
from taxi_assets.source import MonthNotPublished, SourceError, TaxiSource, download
from taxi_assets_tests.support.source_files import fetch_table, refusal, rewrite, unknown_column
from taxi_assets_tests.support.source_server import MONTH_ROWS, SourceServer
from taxi_dev.month_tables import read_trips


@pytest.mark.parametrize(
    "schema", [SCHEMAS[s] for s in PUBLISHERS[MIRROR].services], ids=PUBLISHERS[MIRROR].services
)
def test_download_over_http_parses_every_row_with_the_schema_types(
    source_server: SourceServer, schema
) -> None:
    published = source_server.publish(schema.service, "2021-01")
    table = fetch_table(source_server, schema.service, "2021-01")
    assert table.num_rows == MONTH_ROWS
    assert table.schema == schema.raw_arrow_schema
    nullable = "VendorID" if schema.service != "fhv" else "PUlocationID"
    assert table.column(nullable).null_count > 0, "empty integers stay NULL"
    with download(source_server.url(schema.service, "2021-01")) as fetched:
        assert fetched.size_bytes == published.stat().st_size
        assert fetched.path.read_bytes() == published.read_bytes()
        temporary = fetched.path
    assert not temporary.exists(), "the downloaded copy is removed afterwards"


def test_file_urls_work_too(source_server: SourceServer) -> None:
    published = source_server.publish("yellow", "2021-01")
    source = TaxiSource(url_template=source_server.root.as_uri() + "/{service}_tripdata_{month}.csv.gz")
    with source.fetch("yellow", "2021-01") as fetched:
        assert fetched.path == published
        assert read_trips(fetched, YELLOW).num_rows == MONTH_ROWS


def test_missing_month_is_month_not_published_naming_the_url(source_server: SourceServer) -> None:
    with pytest.raises(
        MonthNotPublished, match=r"month not published: .*yellow_tripdata_2031-07\.csv\.gz.*404"
    ):
        fetch_table(source_server, "yellow", "2031-07")


def test_server_errors_are_retried_until_the_file_comes(source_server: SourceServer) -> None:
    source_server.publish("yellow", "2021-01")
    source_server.fail("yellow", "2021-01", 503, 500, "truncate")
    assert fetch_table(source_server, "yellow", "2021-01").num_rows == MONTH_ROWS
    assert source_server.faults.requests.count("/yellow_tripdata_2021-01.csv.gz") == 4


def test_persistent_server_errors_fail_naming_the_url(source_server: SourceServer) -> None:
    source_server.publish("yellow", "2021-01")
    source_server.fail("yellow", "2021-01", *[500] * 10)
    with pytest.raises(SourceError, match=r"yellow_tripdata_2021-01\.csv\.gz.*500"):
        fetch_table(source_server, "yellow", "2021-01")


def test_corrupt_gzip_names_the_url(source_server: SourceServer) -> None:
    path = source_server.publish("yellow", "2021-01")
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\x00" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=r"yellow_tripdata_2021-01\.csv\.gz.*(corrupt|gzip)"):
        fetch_table(source_server, "yellow", "2021-01")


def test_not_gzip_at_all_names_the_url(source_server: SourceServer) -> None:
    (source_server.root / "yellow_tripdata_2021-01.csv.gz").write_text("VendorID,oops\n1,2\n")
    with pytest.raises(
        SourceError, match=r"yellow_tripdata_2021-01\.csv\.gz \(yellow 2021-01\): not a readable csv\.gz file"
    ):
        fetch_table(source_server, "yellow", "2021-01")


def test_missing_column_names_the_column(source_server: SourceServer) -> None:
    path = source_server.publish("yellow", "2021-01")
    rewrite(path, lambda lines: [",".join(line.split(",")[:4] + line.split(",")[5:]) for line in lines])
    assert refusal(source_server, "yellow", "2021-01").startswith(
        "missing column(s) 'trip_distance', which every yellow layout has; fix or re-publish"
    )


def test_renamed_column_is_an_unknown_column_naming_the_month_and_what_to_do(
    source_server: SourceServer,
) -> None:
    path = source_server.publish("green", "2021-01")
    rewrite(path, lambda lines: [lines[0].replace("trip_type", "trip_kind"), *lines[1:]])
    assert refusal(source_server, "green", "2021-01") == unknown_column("trip_kind", "green")


def test_non_numeric_value_names_the_column_row_and_value(source_server: SourceServer) -> None:
    path = source_server.publish("yellow", "2021-01")
    rewrite(
        path,
        lambda lines: [*lines[:50], lines[50].replace(lines[50].split(",")[4], "two miles", 1), *lines[51:]],
    )
    assert refusal(source_server, "yellow", "2021-01") == (
        "column 'trip_distance', data row 50: cannot read 'two miles' as a number; fix or re-publish "
        "the file, or point TAXI_SOURCE_URL_TEMPLATE at a good copy; nothing was written"
    )


def test_malformed_timestamp_names_the_column_and_row(source_server: SourceServer) -> None:
    path = source_server.publish("green", "2021-01")
    rewrite(
        path,
        lambda lines: [
            *lines[:3001],
            "2021-13-45 25:00:00".join(lines[3001].split(lines[3001].split(",")[1], 1)),
            *lines[3002:],
        ],
    )
    assert refusal(source_server, "green", "2021-01").startswith(
        "column 'lpep_pickup_datetime', data row 3001: cannot read '2021-13-45 25:00:00' as a timestamp "
        "(YYYY-MM-DD HH:MM:SS); fix or "
    )


@pytest.mark.parametrize("content", [b"", b"\n"], ids=["no-bytes", "blank-line"])
def test_an_empty_file_says_it_is_empty(source_server: SourceServer, content: bytes) -> None:
    path = source_server.publish("yellow", "2021-01")
    with gzip.open(path, "wb") as f:
        f.write(content)
    assert refusal(source_server, "yellow", "2021-01").startswith("the file is empty (no header, no rows)")


def test_integers_written_as_floats_are_read_but_fractions_are_not(source_server: SourceServer) -> None:
    path = source_server.publish("yellow", "2019-01")  # the mirror wrote integers as 1 then
    rewrite(
        path,
        lambda lines: [lines[0], *[_passengers(line, lambda v: f"{v}.0" if v else v) for line in lines[1:]]],
    )
    table = fetch_table(source_server, "yellow", "2019-01")
    assert table.column("passenger_count").type == pa.int64()
    assert table.num_rows == MONTH_ROWS
    rewrite(path, lambda lines: [lines[0], *lines[1:7], _passengers(lines[7], lambda v: "1.5"), *lines[8:]])
    assert refusal(source_server, "yellow", "2019-01").startswith(
        "column 'passenger_count', data row 7: non-integer value 1.5"
    )


def _passengers(line: str, change: Callable[[str], str]) -> str:
    fields = line.split(",")
    fields[3] = change(fields[3])
    return ",".join(fields)
