"""Downloading and parsing published files over real HTTP from the local source server."""

import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from taxi_assets.schema import GREEN, YELLOW
from taxi_assets.source import MonthNotPublished, SourceError, TaxiSource, download, read_trips
from taxi_assets_tests.conftest import MONTH_ROWS, SourceServer


def rewrite(path: Path, edit) -> None:
    """Rewrite a published gzip CSV through ``edit(lines) -> lines``."""
    with gzip.open(path, "rt") as f:
        lines = f.read().splitlines()
    with gzip.open(path, "wt") as f:
        f.write("\n".join(edit(lines)) + "\n")


def fetch_table(server: SourceServer, service: str, month: str) -> pa.Table:
    source = TaxiSource(url_template=server.url_template, backoff_seconds=0.01)
    with source.fetch(service, month) as fetched:
        return read_trips(fetched, {"yellow": YELLOW, "green": GREEN}[service])


@pytest.mark.parametrize("schema", [YELLOW, GREEN], ids=["yellow", "green"])
def test_download_over_http_parses_every_row_with_the_schema_types(
    source_server: SourceServer, schema
) -> None:
    published = source_server.publish(schema.service, "2021-01")
    table = fetch_table(source_server, schema.service, "2021-01")
    assert table.num_rows == MONTH_ROWS
    assert table.schema == schema.raw_arrow_schema
    assert table.column("VendorID").null_count > 0, "the unknown-vendor rows keep NULL integers"
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
    with pytest.raises(SourceError, match=r"yellow_tripdata_2021-01\.csv\.gz: not a readable gzip"):
        fetch_table(source_server, "yellow", "2021-01")


def test_missing_column_names_the_column(source_server: SourceServer) -> None:
    path = source_server.publish("yellow", "2021-01")
    rewrite(path, lambda lines: [",".join(line.split(",")[:4] + line.split(",")[5:]) for line in lines])
    with pytest.raises(
        SourceError, match=r"yellow_tripdata_2021-01\.csv\.gz.*missing column\(s\) 'trip_distance'"
    ):
        fetch_table(source_server, "yellow", "2021-01")


def test_renamed_column_names_both_sides(source_server: SourceServer) -> None:
    path = source_server.publish("green", "2021-01")
    rewrite(path, lambda lines: [lines[0].replace("trip_type", "trip_kind"), *lines[1:]])
    with pytest.raises(
        SourceError, match=r"missing column\(s\) 'trip_type'; unexpected column\(s\) 'trip_kind'"
    ):
        fetch_table(source_server, "green", "2021-01")


def test_non_numeric_value_names_the_column_and_value(source_server: SourceServer) -> None:
    path = source_server.publish("yellow", "2021-01")
    rewrite(
        path,
        lambda lines: [*lines[:50], lines[50].replace(lines[50].split(",")[4], "two miles", 1), *lines[51:]],
    )
    with pytest.raises(SourceError, match=r"column 'trip_distance'.*'two miles'"):
        fetch_table(source_server, "yellow", "2021-01")


def test_integers_written_as_floats_are_read_but_fractions_are_not(source_server: SourceServer) -> None:
    path = source_server.publish("yellow", "2021-01")
    rewrite(
        path,
        lambda lines: [lines[0], *[_passengers(line, lambda v: f"{v}.0" if v else v) for line in lines[1:]]],
    )
    table = fetch_table(source_server, "yellow", "2021-01")
    assert table.column("passenger_count").type == pa.int64()
    assert table.num_rows == MONTH_ROWS
    rewrite(path, lambda lines: [lines[0], _passengers(lines[1], lambda v: "1.5"), *lines[2:]])
    with pytest.raises(SourceError, match=r"column 'passenger_count': non-integer value 1\.5"):
        fetch_table(source_server, "yellow", "2021-01")


def _passengers(line: str, change) -> str:
    fields = line.split(",")
    fields[3] = change(fields[3])
    return ",".join(fields)
