"""Bad source files fail the run with a clear error and leave every sink as it was."""

import gzip
import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from taxi_assets.resources.contract import SchemaContract
from taxi_assets.schema import FREEZE
from taxi_assets_tests.support.materialize import failure_message, materialize_days, materialize_month
from taxi_assets_tests.support.sinks import Sinks, snapshot
from taxi_assets_tests.support.source_server import SourceServer


def corrupt_gzip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 256] = bytes(256)
    path.write_bytes(bytes(data))


def drop_column(name: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        with gzip.open(path, "rt") as f:
            rows = [line.rstrip("\n").split(",") for line in f]
        index = rows[0].index(name)
        with gzip.open(path, "wt") as f:
            f.writelines(",".join(r[:index] + r[index + 1 :]) + "\n" for r in rows)

    return edit


def non_numeric(name: str, value: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        with gzip.open(path, "rt") as f:
            rows = [line.rstrip("\n").split(",") for line in f]
        rows[len(rows) // 2][rows[0].index(name)] = value
        with gzip.open(path, "wt") as f:
            f.writelines(",".join(r) + "\n" for r in rows)

    return edit


@pytest.mark.parametrize(
    ("break_file", "expected"),
    [
        (corrupt_gzip, r"yellow_tripdata_2021-01\.csv\.gz \(yellow 2021-01\): (corrupt gzip|not a readable)"),
        (
            drop_column("trip_distance"),
            r"yellow_tripdata_2021-01\.csv\.gz.*missing column\(s\) 'trip_distance'",
        ),
        (
            # Yellow 2009-2010 have no zone ids (positions instead), so a zone id is not in every layout;
            # a file with neither still fails.
            drop_column("PULocationID"),
            r"yellow_tripdata_2021-01\.csv\.gz.*missing column\(s\) 'PULocationID'",
        ),
        (
            non_numeric("fare_amount", "N/A fare"),
            r"yellow_tripdata_2021-01\.csv\.gz \(yellow 2021-01\): column 'fare_amount', data row \d+: "
            r"cannot read 'N/A fare' as a number",
        ),
        (
            non_numeric("PULocationID", "Midtown"),
            r"column 'PULocationID', data row \d+: cannot read 'Midtown'",
        ),
    ],
    ids=["corrupt-gzip", "missing-column", "missing-zone", "non-numeric-amount", "non-numeric-location"],
)
def test_bad_file_fails_clearly_and_changes_no_sink(
    source_server: SourceServer, sinks: Sinks, january_done: dict[str, str], break_file, expected: str
) -> None:
    source_server.publish("yellow", "2021-01", seed=1)  # a re-published month…
    break_file(source_server.root / "yellow_tripdata_2021-01.csv.gz")  # …that is broken
    result = materialize_month(sinks.resources, "yellow", "2021-01", raise_on_error=False)
    assert not result.success
    assert re.search(expected, failure_message(result)), failure_message(result)
    assert snapshot(sinks) == january_done


def test_unpublished_month_fails_as_not_published_and_writes_nothing(
    source_server: SourceServer, sinks: Sinks, january_done: dict[str, str]
) -> None:
    result = materialize_month(sinks.resources, "yellow", "2021-08", raise_on_error=False)
    assert not result.success
    assert "month not published" in failure_message(result)
    assert "yellow_tripdata_2021-08.csv.gz" in failure_message(result)
    assert snapshot(sinks) == january_done


def test_days_of_a_month_never_cleaned_fail_naming_what_is_missing(
    source_server: SourceServer, sinks: Sinks, january_done: dict[str, str]
) -> None:
    result = materialize_days(sinks.resources, "yellow", "2021-03-01", "2021-03-02", raise_on_error=False)
    assert not result.success
    assert "yellow/cleaned_trips 2021-03 is not in the lake yet" in failure_message(result)
    assert snapshot(sinks) == january_done


def unknown_column(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(table.append_column("tip_percent", pa.array([15] * table.num_rows)), path)


def text_in_a_number_column(path: Path) -> None:
    table = pq.read_table(path)
    index = table.schema.get_field_index("trip_distance")
    pq.write_table(table.set_column(index, "trip_distance", pc.cast(table.column(index), pa.string())), path)


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    ("break_file", "expected"),
    [
        (
            unknown_column,
            r"SourceError: http://\S+/yellow_tripdata_2025-01\.parquet \(yellow 2025-01\): "
            r"unknown column\(s\) 'tip_percent'",
        ),
        (
            text_in_a_number_column,
            r"SourceError: http://\S+/yellow_tripdata_2025-01\.parquet \(yellow 2025-01\): "
            r"column 'trip_distance' is string in this file, where yellow needs double",
        ),
        (
            truncated,
            r"SourceError: http://\S+/yellow_tripdata_2025-01\.parquet \(yellow 2025-01\): "
            r"not a readable parquet file",
        ),
    ],
    ids=["unknown-column", "text-in-a-number-column", "truncated"],
)
def test_a_bad_parquet_month_fails_clearly_and_changes_no_sink(
    tlc_server: SourceServer, sinks: Sinks, break_file, expected: str
) -> None:
    # Under freeze, a column no layout knows is a bad file too (test_contract.py: the other contracts).
    resources = {
        **sinks.resources,
        "taxi_source": tlc_server.source(),
        "schema_contract": SchemaContract(default=FREEZE),
    }
    tlc_server.publish("yellow", "2025-01")
    assert materialize_month(resources, "yellow", "2025-01").success
    assert materialize_days(resources, "yellow", "2025-01-01", "2025-01-31").success
    before = snapshot(sinks)
    tlc_server.publish("yellow", "2025-01", seed=1)  # a re-published month…
    break_file(tlc_server.root / "yellow_tripdata_2025-01.parquet")  # …that is broken
    result = materialize_month(resources, "yellow", "2025-01", raise_on_error=False)
    assert not result.success
    assert re.search(expected, failure_message(result)), failure_message(result)
    assert snapshot(sinks) == before
