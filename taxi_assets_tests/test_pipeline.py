"""A month of yellow, green and high-volume FHV trips through raw → cleaned → daily lake → DuckDB, as a
user runs it."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from taxi_assets.keys import CLEANED, RAW, REJECTED
from taxi_assets.schema import SCHEMAS
from taxi_assets_tests.support.materialize import load_zones, materialize_days, materialize_month
from taxi_assets_tests.support.oracle import course_cleaning, rows_per_pickup_day
from taxi_assets_tests.support.sinks import (
    Sinks,
    lake_days,
    postgres_months,
    read_lake_days,
    read_lake_month,
    snapshot,
    warehouse_rows_per_day,
)
from taxi_assets_tests.support.source_server import MONTH_ROWS, SourceServer

JANUARY = [f"pickup_date=2021-01-{d:02d}" for d in range(1, 32)]


@pytest.mark.parametrize("service", ["yellow", "green"])
def test_a_month_flows_through_every_stage(source_server: SourceServer, sinks: Sinks, service: str) -> None:
    published = source_server.publish(service, "2021-01")
    source_server.publish_zones()
    load_zones(sinks.resources)
    month = materialize_month(sinks.resources, service, "2021-01")
    assert month.success
    assert {e.check_name: e.passed for e in month.get_asset_check_evaluations()} == {
        "passengers_and_distance_positive": True,
        "pickups_inside_partition": True,
        "reconciles_with_raw": True,
        "known_vendor_ids": True,
        "zone_ids_known": True,  # every pickup and drop-off zone is in the lookup
        "matches_lake": True,  # PostgreSQL holds, each day, what the lake does
    }

    raw = read_lake_month(sinks.lake_dir, RAW, service, "2021-01")
    cleaned = read_lake_month(sinks.lake_dir, CLEANED, service, "2021-01")
    rejected = read_lake_month(sinks.lake_dir, REJECTED, service, "2021-01")
    expected = course_cleaning(published, service, "2021-01")
    assert len(raw) == MONTH_ROWS
    assert len(cleaned) == len(expected) > 0
    assert len(cleaned) + len(rejected) == len(raw)
    assert list(cleaned.columns) == SCHEMAS[service].cleaned_arrow_schema.names
    assert cleaned["total_amount"].sum() == pytest.approx(expected["total_amount"].sum())
    assert set(rejected["reject_reason"]) == {
        "pickup_outside_month",
        "passenger_count_missing",
        "passenger_count_not_positive",
        "trip_distance_not_positive",
    }
    metadata = month.asset_materializations_for_node(f"{service}__cleaned_trips")
    by_key = {m.asset_key.path[-1]: m.metadata for m in metadata}
    [reconciled] = [e for e in month.get_asset_check_evaluations() if e.check_name == "reconciles_with_raw"]
    assert (
        reconciled.metadata["rejected_by_reason"].value == rejected["reject_reason"].value_counts().to_dict()
    )
    assert by_key[CLEANED]["dagster/partition_row_count"].value == len(cleaned)
    assert "preview" in by_key[CLEANED] and "dagster/column_schema" in by_key[CLEANED]

    days = materialize_days(sinks.resources, service, "2021-01-01", "2021-01-31")
    assert days.success
    assert [e.passed for e in days.get_asset_check_evaluations()] == [True]
    assert list(lake_days(sinks.lake_dir, service)) == JANUARY
    assert all(files == ["part-0.parquet"] for files in lake_days(sinks.lake_dir, service).values())
    lake = read_lake_days(sinks.lake_dir, service)
    assert len(lake) == len(cleaned)
    lake_per_day = lake.groupby(lake["pickup_date"].astype(str)).size().to_dict()
    expected_per_day = rows_per_pickup_day(expected, service)
    assert lake_per_day == expected_per_day
    assert warehouse_rows_per_day(sinks.duckdb_path, service) == expected_per_day


def test_a_month_run_of_a_backfill_flows_through(source_server: SourceServer, sinks: Sinks) -> None:
    """A backfill (UI, GraphQL) runs each month as a range of one partition, not a partition key."""
    published = source_server.publish("yellow", "2021-01")
    tags = {"dagster/asset_partition_range_start": "2021-01", "dagster/asset_partition_range_end": "2021-01"}
    source_server.publish_zones()
    load_zones(sinks.resources)
    month = materialize_month(sinks.resources, "yellow", None, tags=tags)
    assert month.success
    assert all(e.passed for e in month.get_asset_check_evaluations())
    cleaned = read_lake_month(sinks.lake_dir, CLEANED, "yellow", "2021-01")
    assert len(cleaned) == len(course_cleaning(published, "yellow", "2021-01")) > 0


def test_materialising_again_leaves_identical_data(source_server: SourceServer, sinks: Sinks) -> None:
    source_server.publish("yellow", "2021-01")
    materialize_month(sinks.resources, "yellow", "2021-01")
    materialize_days(sinks.resources, "yellow", "2021-01-01", "2021-01-31")
    first = snapshot(sinks)

    materialize_month(sinks.resources, "yellow", "2021-01")
    materialize_days(sinks.resources, "yellow", "2021-01-01", "2021-01-31")
    materialize_days(sinks.resources, "yellow", "2021-01-10", "2021-01-12")
    assert snapshot(sinks) == first


def test_a_day_rewritten_leaves_no_stale_files(source_server: SourceServer, sinks: Sinks) -> None:
    source_server.publish("yellow", "2021-01")
    materialize_month(sinks.resources, "yellow", "2021-01")
    materialize_days(sinks.resources, "yellow", "2021-01-01", "2021-01-31")
    day = sinks.lake_dir / "yellow" / "daily_trips" / "pickup_date=2021-01-05"
    # What the course's write_to_dataset leaves behind when re-run: another file beside ours.
    (day / "3f2c9b1e0a-0.parquet").write_bytes((day / "part-0.parquet").read_bytes())

    materialize_days(sinks.resources, "yellow", "2021-01-05", "2021-01-05")
    assert sorted(p.name for p in day.iterdir()) == ["part-0.parquet"]
    assert len(read_lake_days(sinks.lake_dir, "yellow")) == len(
        read_lake_month(sinks.lake_dir, CLEANED, "yellow", "2021-01")
    )


def test_a_new_month_leaves_the_previous_one_untouched(source_server: SourceServer, sinks: Sinks) -> None:
    for month in ("2021-01", "2021-02"):
        source_server.publish("green", month)
    materialize_month(sinks.resources, "green", "2021-01")
    materialize_days(sinks.resources, "green", "2021-01-01", "2021-01-31")
    january_files = snapshot(sinks)
    january_days = warehouse_rows_per_day(sinks.duckdb_path, "green")

    materialize_month(sinks.resources, "green", "2021-02")
    materialize_days(sinks.resources, "green", "2021-02-01", "2021-02-28")
    after = snapshot(sinks)
    lake_files = {k for k in january_files if ":" not in k}
    assert {k: after[k] for k in lake_files} == {k: january_files[k] for k in lake_files}
    assert after["postgres:green"]["2021-01"] == january_files["postgres:green"]["2021-01"]
    assert list(after["postgres:green"]) == ["2021-01", "2021-02"]
    per_day = warehouse_rows_per_day(sinks.duckdb_path, "green")
    assert {d: n for d, n in per_day.items() if d < "2021-02"} == january_days
    assert len([d for d in per_day if d.startswith("2021-02")]) == 28


def test_a_day_range_spanning_two_months_reads_both(source_server: SourceServer, sinks: Sinks) -> None:
    for month in ("2021-01", "2021-02"):
        source_server.publish("yellow", month)
        materialize_month(sinks.resources, "yellow", month)
    result = materialize_days(sinks.resources, "yellow", "2021-01-30", "2021-02-02")
    assert result.success
    assert list(warehouse_rows_per_day(sinks.duckdb_path, "yellow")) == [
        "2021-01-30",
        "2021-01-31",
        "2021-02-01",
        "2021-02-02",
    ]
    assert dt.date(2021, 2, 2) in set(read_lake_days(sinks.lake_dir, "yellow")["pickup_date"].dt.date)


def test_lake_written_by_us_is_readable_by_pyarrow_dataset(source_server: SourceServer, sinks: Sinks) -> None:
    import pyarrow.dataset as ds

    source_server.publish("yellow", "2021-01")
    materialize_month(sinks.resources, "yellow", "2021-01")
    materialize_days(sinks.resources, "yellow", "2021-01-01", "2021-01-31")
    dataset = ds.dataset(Path(sinks.lake_dir, "yellow", "daily_trips"), format="parquet", partitioning="hive")
    one_day = dataset.to_table(filter=ds.field("pickup_date") == "2021-01-15").to_pandas()
    assert len(one_day) == warehouse_rows_per_day(sinks.duckdb_path, "yellow")["2021-01-15"]
    assert (pd.to_datetime(one_day["tpep_pickup_datetime"]).dt.date == dt.date(2021, 1, 15)).all()


def test_a_range_run_never_passes_its_total_off_as_each_days_count(
    source_server: SourceServer, sinks: Sinks
) -> None:
    """Every day of a range run gets the same materialisation metadata (an IO manager has none per
    partition): the run's total is named as the run's, a one-day run gives the day's own count, and
    a long range lists a month's files, not all of them, in each of its events.
    """
    for month in ("2021-01", "2021-02"):
        source_server.publish("yellow", month)
        assert materialize_month(sinks.resources, "yellow", month).success
    days = materialize_days(sinks.resources, "yellow", "2021-01-01", "2021-02-28")
    assert days.success
    lake = read_lake_days(sinks.lake_dir, "yellow")
    day_folders = len(lake_days(sinks.lake_dir, "yellow"))
    for node in ("yellow__daily_trips", "yellow__warehouse_trips"):
        events = days.asset_materializations_for_node(node)
        assert sorted(e.partition for e in events) == [
            str(dt.date(2021, 1, 1) + dt.timedelta(d)) for d in range(59)
        ]
        for event in events:
            assert "dagster/partition_row_count" not in event.metadata
            assert event.metadata["rows_written_by_run"].value == len(lake)
            assert event.metadata["partitions_in_run"].value == 59
    for event in days.asset_materializations_for_node("yellow__daily_trips"):
        assert event.metadata["files_written"].value == day_folders == 59
        files = event.metadata["files"].value.splitlines()
        assert len(files) == 32 and files[-1].startswith("- … and 28 more under ")

    one_day = materialize_days(sinks.resources, "yellow", "2021-01-15", "2021-01-15")
    per_day = lake.groupby(lake["pickup_date"].astype(str)).size()
    for node in ("yellow__daily_trips", "yellow__warehouse_trips"):
        [event] = one_day.asset_materializations_for_node(node)
        assert event.metadata["dagster/partition_row_count"].value == per_day["2021-01-15"] > 0


def test_a_high_volume_fhv_month_flows_through_every_stage_as_pandas_cleans_it(
    tlc_server: SourceServer, sinks: Sinks
) -> None:
    """fhvhv from the TLC (the mirror has none), against the course's approach in pandas with the
    rules its data dictionary supports.
    """
    published = tlc_server.publish("fhvhv", "2022-03")
    resources = {**sinks.resources, "taxi_source": tlc_server.source()}
    month = materialize_month(resources, "fhvhv", "2022-03")
    assert month.success
    expected = course_cleaning(published, "fhvhv", "2022-03")
    cleaned = read_lake_month(sinks.lake_dir, CLEANED, "fhvhv", "2022-03")
    rejected = read_lake_month(sinks.lake_dir, REJECTED, "fhvhv", "2022-03")
    assert len(cleaned) == len(expected) > 0
    assert cleaned["driver_pay"].sum() == pytest.approx(expected["driver_pay"].sum())
    assert set(rejected["reject_reason"]) == {
        "pickup_outside_month",
        "dropoff_before_pickup",
        "trip_miles_negative",
        "trip_time_negative",
    }
    days = materialize_days(resources, "fhvhv", "2022-03-01", "2022-03-31")
    assert days.success
    expected_per_day = rows_per_pickup_day(expected, "fhvhv")
    lake = read_lake_days(sinks.lake_dir, "fhvhv")
    assert lake.groupby(lake["pickup_date"].astype(str)).size().to_dict() == expected_per_day
    assert warehouse_rows_per_day(sinks.duckdb_path, "fhvhv") == expected_per_day
    in_postgres = postgres_months(sinks.postgres, "fhvhv")
    assert in_postgres["2022-03"][0] == len(expected)
