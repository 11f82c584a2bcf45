"""Yellow's 2009 and 2010 months, as published (positions, words, text times), through every sink
with the same rows as an independent pandas + shapely computation; and their bad input."""

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from taxi_assets.keys import CLEANED, RAW
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests.support.materialize import (
    failure_message,
    load_zone_shapes,
    load_zones,
    materialize_days,
    materialize_month,
)
from taxi_assets_tests.support.oracle import placed_2009_2010
from taxi_assets_tests.support.sinks import Sinks, read_lake_days, read_lake_month, snapshot
from taxi_assets_tests.support.source_server import MONTH_ROWS, SourceServer

_TRIP = ["pickup", "dropoff", "total_amount", "vendor_id", "payment_type", "pu_location_id", "do_location_id"]


def _per_zone_and_day(frame: pd.DataFrame) -> dict[tuple[str, int, int], int]:
    """Trips per pickup day, pickup zone and drop-off zone."""
    counts = frame.groupby(["pickup_date", "pu_location_id", "do_location_id"]).size()
    return {(str(d), int(pu), int(do)): int(n) for (d, pu, do), n in counts.items()}


def _postgres(postgres: PostgresResource) -> pd.DataFrame:
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT pickup_date::text, pu_location_id, do_location_id, total_amount "
            f"FROM {postgres.table('yellow_cab_data')}"
        )
        return pd.DataFrame(
            cur.fetchall(), columns=["pickup_date", "pu_location_id", "do_location_id", "total"]
        )


def _warehouse(path: Path) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select pickup_date::varchar as pickup_date, pu_location_id, do_location_id, "
            "total_amount as total from ny_taxi.yellow_trips"
        ).df()


@pytest.mark.parametrize("month", ["2009-01", "2010-03"])
def test_a_2009_or_2010_month_is_placed_in_zones_in_every_sink(
    tlc_server: SourceServer, sinks: Sinks, month: str
) -> None:
    resources = {**sinks.resources, "taxi_source": tlc_server.source()}
    published = tlc_server.publish("yellow", month)
    shapes = tlc_server.publish_zone_shapes()
    tlc_server.publish_zones()
    load_zones(resources)
    load_zone_shapes(resources)

    run = materialize_month(resources, "yellow", month)
    assert run.success, failure_message(run)
    days = f"{month}-01", str((pd.Period(month, "M").end_time).date())
    assert materialize_days(resources, "yellow", *days).success

    every = placed_2009_2010(published, shapes, month)
    expected = every[every["kept"]]
    # Every case of the placement happened: each zone (one with a hole, one in two parts), no
    # position (0/0, missing) and outside every zone (far off, and in the hole).
    assert set(expected["pu_location_id"]) == {1, 2, 3, 4, 264, 265}

    raw = read_lake_month(sinks.lake_dir, RAW, "yellow", month)
    assert len(raw) == MONTH_ROWS
    assert raw["pickup_longitude"].notna().any() and raw["dropoff_latitude"].notna().any()
    cleaned = read_lake_month(sinks.lake_dir, CLEANED, "yellow", month)
    got = cleaned.rename(columns={"tpep_pickup_datetime": "pickup", "tpep_dropoff_datetime": "dropoff"})
    # Zone ids per trip (and the words' codes and the parsed times), trip for trip.
    assert sorted(got[_TRIP].astype(str).itertuples(index=False)) == sorted(
        expected[_TRIP].astype(str).itertuples(index=False)
    )

    per_zone_and_day = _per_zone_and_day(expected)
    total = expected["total_amount"].sum()
    lake_days = read_lake_days(sinks.lake_dir, "yellow")
    lake_days["pickup_date"] = lake_days["pickup_date"].astype(str)
    for sink, rows, amounts in (
        ("lake, cleaned", cleaned.assign(pickup_date=cleaned["pickup_date"].astype(str)), "total_amount"),
        ("lake, daily", lake_days, "total_amount"),
        ("PostgreSQL", _postgres(sinks.postgres), "total"),
        ("warehouse", _warehouse(sinks.duckdb_path), "total"),
    ):
        assert _per_zone_and_day(rows) == per_zone_and_day, sink
        assert float(rows[amounts].sum()) == pytest.approx(total), sink

    # What could not be placed is counted in the raw month's metadata and in the zone check.
    [raw_metadata] = [
        m.metadata for m in run.asset_materializations_for_node("yellow__raw_trips") if m.partition == month
    ]
    for end, column in (("pickups", "pu_location_id"), ("dropoffs", "do_location_id")):
        assert raw_metadata[f"{end}_without_position_264"].value == (every[column] == 264).sum()
        assert raw_metadata[f"{end}_outside_zones_265"].value == (every[column] == 265).sum()
    [zone_check] = [e for e in run.get_asset_check_evaluations() if e.check_name == "zone_ids_known"]
    assert zone_check.passed
    assert zone_check.metadata["pickups_264"].value == (expected["pu_location_id"] == 264).sum()
    assert zone_check.metadata["dropoffs_265"].value == (expected["do_location_id"] == 265).sum()


def _spoiled(path: Path, column: str, row: int, value: str) -> None:
    """The published file with one value of ``column`` (text) changed at data row ``row`` (1-based)."""
    table = pq.read_table(path)
    values = table.column(column).to_pylist()
    values[row - 1] = value
    table = table.set_column(table.schema.get_field_index(column), column, [values])
    pq.write_table(table, path)


@pytest.mark.parametrize(
    ("month", "column", "value", "says"),
    [
        ("2009-01", "Trip_Pickup_DateTime", "2009-01-32 25:00:00", "as a time (YYYY-MM-DD HH:MM:SS)"),
        ("2010-03", "payment_type", "Bitcoin", "as one of the known words"),
    ],
)
def test_a_bad_time_or_an_unknown_word_fails_naming_where_and_writes_nothing(
    tlc_server: SourceServer, sinks: Sinks, month: str, column: str, value: str, says: str
) -> None:
    resources = {**sinks.resources, "taxi_source": tlc_server.source()}
    published = tlc_server.publish("yellow", month)
    tlc_server.publish_zone_shapes()
    load_zone_shapes(resources)
    before = snapshot(sinks)
    _spoiled(published, column, 1234, value)

    run = materialize_month(resources, "yellow", month, raise_on_error=False)

    assert not run.success
    first_line = failure_message(run).splitlines()[0]
    assert tlc_server.url("yellow", month) in first_line
    assert f"yellow {month}" in first_line
    assert f"column {column!r}, data row 1234: cannot read {value!r} {says}" in first_line
    assert "nothing was written" in first_line
    assert snapshot(sinks) == before
