"""A month bigger than a batch: read, cleaned, checked and loaded a batch at a time, with the rows a
whole month in one batch gives, and a bad row late in the file leaving every sink as it was.

Batches are made small (500 rows, CSV blocks of 32 KB) so that a test month of 4,000 rows is read
in many; the same month in one batch is what the pipeline did before it streamed.
"""

import gzip
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from taxi_assets import batches
from taxi_assets.constants import postgres_table, warehouse_table
from taxi_assets.keys import CLEANED, DAILY, RAW, REJECTED
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests.support.materialize import (
    failure_message,
    load_zones,
    materialize_days,
    materialize_month,
)
from taxi_assets_tests.support.sinks import Sinks, snapshot
from taxi_assets_tests.support.source_server import MONTH_ROWS, SourceServer

SMALL = 500


def every_row(frame: pd.DataFrame) -> list[tuple]:
    """The rows, in an order of their own: stores keep no order, so rows are compared as a set."""
    frame = frame.astype(object).where(frame.notna(), None)
    return sorted(map(tuple, frame.itertuples(index=False)), key=repr)


def postgres_rows(postgres: PostgresResource, service: str) -> list[tuple]:
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {postgres.table(postgres_table(service))}")
        return every_row(cur.fetch_arrow_table().to_pandas())


def warehouse_rows(path: Path, service: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return every_row(con.execute(f"SELECT * FROM ny_taxi.{warehouse_table(service)}").df())


def what_a_user_sees(sinks: Sinks, service: str, month: str) -> dict[str, object]:
    """Every row of every sink, and the checks' verdicts."""
    lake = sinks.lake_dir / service
    day_files = sorted((lake / DAILY).glob("*/*.parquet"))
    return {
        **{
            stage: every_row(pd.read_parquet(lake / stage / f"{month}.parquet"))
            for stage in (RAW, CLEANED, REJECTED)
        },
        "daily": every_row(pd.concat([pd.read_parquet(p).assign(day=p.parent.name) for p in day_files])),
        "postgres": postgres_rows(sinks.postgres, service),
        "warehouse": warehouse_rows(sinks.duckdb_path, service),
    }


def run_month(sinks: Sinks, service: str, month: str) -> dict[str, dg.AssetCheckEvaluation]:
    result = materialize_month(sinks.resources, service, month, raise_on_error=False)
    assert result.success, failure_message(result)
    days = materialize_days(sinks.resources, service, f"{month}-01", f"{month}-31")
    assert days.success, failure_message(days)
    checks = [*result.get_asset_check_evaluations(), *days.get_asset_check_evaluations()]
    return {f"{e.asset_key.path[-1]}:{e.check_name}": e for e in checks}


def test_a_month_of_many_batches_gives_every_sink_the_rows_one_batch_gives(
    source_server: SourceServer, sinks: Sinks, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_server.publish("yellow", "2021-01")
    source_server.publish_zones()
    load_zones(sinks.resources)
    monkeypatch.setattr(batches, "BATCH_ROWS", 10 * MONTH_ROWS)
    whole = run_month(sinks, "yellow", "2021-01")
    in_one_batch = what_a_user_sees(sinks, "yellow", "2021-01")
    assert pq.ParquetFile(sinks.lake_dir / "yellow" / RAW / "2021-01.parquet").num_row_groups == 1

    monkeypatch.setattr(batches, "BATCH_ROWS", SMALL)
    streamed = run_month(sinks, "yellow", "2021-01")
    raw = pq.ParquetFile(sinks.lake_dir / "yellow" / RAW / "2021-01.parquet")
    assert raw.num_row_groups > MONTH_ROWS // (2 * SMALL), "the month was read and written in many batches"
    assert raw.metadata.num_rows == MONTH_ROWS
    assert what_a_user_sees(sinks, "yellow", "2021-01") == in_one_batch
    assert {name: e.passed for name, e in streamed.items()} == {name: e.passed for name, e in whole.items()}
    assert all(e.passed for e in streamed.values()), {
        n: e.metadata for n, e in streamed.items() if not e.passed
    }
    reconciled = streamed["cleaned_trips:reconciles_with_raw"].metadata
    assert reconciled["raw_rows"].value == MONTH_ROWS
    assert reconciled["cleaned_rows"].value + reconciled["rejected_rows"].value == MONTH_ROWS
    assert reconciled["cleaned_rows"].value == len(in_one_batch[CLEANED])


def publish_with(server: SourceServer, service: str, month: str, row: int, **values: str) -> Path:
    """A month whose data row ``row`` (1-based) has these ``values``, by published column name."""
    path = server.publish(service, month)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column, value in values.items():
        frame.loc[row - 1, column] = value
    with gzip.open(path, "wt", newline="") as out:
        frame.to_csv(out, index=False)
    return path


def test_the_checks_see_a_row_in_the_month_s_last_batch(
    source_server: SourceServer, sinks: Sinks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "BATCH_ROWS", SMALL)
    # A trip cleaning keeps, from a vendor the data dictionary does not know, three rows from the end:
    # 9 is not the TLC's (1, 2, 6, 7), and the 9 given to DDS is known only in 2009-2010's months.
    publish_with(
        source_server,
        "yellow",
        "2021-01",
        MONTH_ROWS - 3,
        VendorID="9",
        tpep_pickup_datetime="2021-01-31 12:00:00",
        passenger_count="1",
        trip_distance="1.5",
    )
    result = materialize_month(sinks.resources, "yellow", "2021-01", raise_on_error=False)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["known_vendor_ids"].passed
    assert checks["known_vendor_ids"].metadata["rows_failing"].value == 1
    assert checks["known_vendor_ids"].metadata["unknown_ids"].value == [9]
    assert checks["reconciles_with_raw"].passed
    kept = pd.read_parquet(sinks.lake_dir / "yellow" / CLEANED / "2021-01.parquet")
    assert (kept["vendor_id"] == 9).sum() == 1


def test_a_bad_row_after_many_batches_leaves_every_sink_as_it_was(
    source_server: SourceServer, sinks: Sinks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "BATCH_ROWS", SMALL)
    source_server.publish("yellow", "2021-01")
    run_month(sinks, "yellow", "2021-01")
    before = snapshot(sinks)

    bad_row = MONTH_ROWS - 10
    publish_with(source_server, "yellow", "2021-01", bad_row, fare_amount="twelve")
    result = materialize_month(sinks.resources, "yellow", "2021-01", raise_on_error=False)

    assert not result.success
    first = failure_message(result).splitlines()[0]
    assert f"column 'fare_amount', data row {bad_row}: cannot read 'twelve'" in first
    assert snapshot(sinks) == before
    assert not [p for p in sinks.lake_dir.rglob("*") if p.name.endswith(".tmp")], "no temporary file is left"
