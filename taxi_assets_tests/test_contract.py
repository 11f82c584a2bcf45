"""The schema contract, as a user meets it when the TLC adds a column: under evolve the column reaches
the lake, PostgreSQL, DuckDB and BigQuery (described, with its values) and later months without it
get nulls; freeze fails the month and writes nothing; discard loads the month without it; a known
column that changes type fails under every contract.
"""

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from taxi_assets.constants import postgres_table
from taxi_assets.keys import CLEANED, RAW
from taxi_assets.resources.contract import SchemaContract
from taxi_assets.schema import CONTRACTS, DISCARD, EVOLVE, FREEZE, YELLOW
from taxi_assets_tests.support.environment import in_a_fresh_process
from taxi_assets_tests.support.materialize import failure_message, materialize_month
from taxi_assets_tests.support.sinks import Sinks, read_lake_days, snapshot, with_warehouse
from taxi_assets_tests.support.source_server import SourceServer
from taxi_assets_tests.support.stores import Store
from taxi_dev.month_tables import whole

NEW = ["request_source", "wait_minutes"]
DESCRIBED = "Published from 2025-06, not in the data dictionary."


def with_new_columns(path: Path) -> None:
    """The month as if the TLC had added two columns: text, and int32 minutes."""
    table = pq.read_table(path)
    n = table.num_rows
    table = table.append_column(
        "request_source", pa.array([("app", "street", None)[i % 3] for i in range(n)])
    )
    pq.write_table(
        table.append_column("wait_minutes", pa.array([i % 40 for i in range(n)], pa.int32())), path
    )


def published(tlc: SourceServer, month: str, *, new_columns: bool) -> Path:
    path = tlc.publish("yellow", month, 2_000)
    if new_columns:
        with_new_columns(path)
    return path


def resources(sinks: Sinks, tlc: SourceServer, store: Store | None = None, **contract: str) -> dict[str, Any]:
    chosen = {**sinks.resources, "taxi_source": tlc.source(), "schema_contract": SchemaContract(**contract)}
    return with_warehouse(chosen, store.warehouse) if store and store.warehouse is not None else chosen


def cleaned_rows(table: pa.Table, names: list[str]) -> list[tuple]:
    return sorted((tuple(r[n] for n in names) for r in table.select(names).to_pylist()), key=repr)


def test_evolve_carries_a_new_column_to_every_sink_and_later_months_get_nulls(
    store: Store, tlc_server: SourceServer, sinks: Sinks
) -> None:
    june = published(tlc_server, "2025-06", new_columns=True)
    published(tlc_server, "2025-07", new_columns=False)
    published(tlc_server, "2025-08", new_columns=True)
    run = resources(sinks, tlc_server, store)

    store.load(run, "2025-06")
    raw = pq.read_table(sinks.lake_dir / "yellow" / RAW / "2025-06.parquet")
    source = pq.read_table(june)
    assert raw.column("request_source").equals(source.column("request_source"))
    assert raw.column("wait_minutes").to_pylist() == source.column("wait_minutes").to_pylist()
    cleaned = pq.read_table(sinks.lake_dir / "yellow" / CLEANED / "2025-06.parquet")
    names = cleaned.column_names
    assert names[-3:] == [*NEW, "pickup_date"]
    columns = store.columns()
    assert set(NEW) <= set(columns)
    assert all(store.description(column) == DESCRIBED for column in NEW)
    june_in_store = store.read_month("2025-06")
    assert cleaned_rows(june_in_store, names) == cleaned_rows(cleaned, names)
    assert pc.count(june_in_store.column("wait_minutes")).as_py() == june_in_store.num_rows

    store.load(run, "2025-07")
    july = store.read_month("2025-07")
    assert july.num_rows > 0
    assert all(july.column(c).null_count == july.num_rows for c in NEW), "a month without them: nulls"

    store.load(run, "2025-08")
    assert all(store.description(column) == DESCRIBED for column in NEW), "described as first published"
    store.load(run, "2025-07")
    assert store.columns() == columns, "re-running a month without them drops nothing"
    assert cleaned_rows(store.read_month("2025-06"), names) == cleaned_rows(cleaned, names)

    if store.name != "postgres":  # the warehouses load the daily lake: its days read as one
        days = read_lake_days(sinks.lake_dir, "yellow")
        in_june = days["pickup_date"].astype(str).str.startswith("2025-06")
        assert days.loc[in_june, "request_source"].notna().any()
        assert (
            days.loc[~in_june & days["pickup_date"].astype(str).str.startswith("2025-07"), NEW]
            .isna()
            .all()
            .all()
        )


def test_evolve_warns_in_the_run_log_and_in_the_raw_month_s_metadata(
    tlc_server: SourceServer, sinks: Sinks
) -> None:
    published(tlc_server, "2025-06", new_columns=True)
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_month(resources(sinks, tlc_server), "yellow", "2025-06", instance=instance)
    assert result.success, failure_message(result)
    [raw] = [m for m in result.asset_materializations_for_node("yellow__raw_trips")]
    assert raw.metadata["columns_added"].value == [["request_source", "string"], ["wait_minutes", "int64"]]
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == 30]
    assert any("column 'request_source' (string) is in no known layout: added" in w for w in warnings)


def test_freeze_fails_naming_the_column_and_writes_nothing(tlc_server: SourceServer, sinks: Sinks) -> None:
    published(tlc_server, "2025-05", new_columns=False)
    # Freeze for yellow alone, the others evolving: the per-service setting wins.
    run = resources(sinks, tlc_server, default=EVOLVE, yellow=FREEZE)
    assert materialize_month(run, "yellow", "2025-05").success
    before = snapshot(sinks)
    published(tlc_server, "2025-06", new_columns=True)
    result = materialize_month(run, "yellow", "2025-06", raise_on_error=False)
    assert not result.success
    assert "unknown column(s) 'request_source', 'wait_minutes', in no known yellow layout" in failure_message(
        result
    )
    assert snapshot(sinks) == before


def test_discard_loads_the_month_without_the_new_columns_and_says_so(
    tlc_server: SourceServer, sinks: Sinks
) -> None:
    published(tlc_server, "2025-06", new_columns=True)
    result = materialize_month(resources(sinks, tlc_server, default=DISCARD), "yellow", "2025-06")
    assert result.success, failure_message(result)
    [raw] = result.asset_materializations_for_node("yellow__raw_trips")
    assert raw.metadata["columns_dropped"].value == NEW
    cleaned = pq.read_table(sinks.lake_dir / "yellow" / CLEANED / "2025-06.parquet")
    assert cleaned.schema.remove_metadata() == YELLOW.cleaned_arrow_schema
    first, end = dt.date(2025, 6, 1), dt.date(2025, 7, 1)
    in_postgres = whole(sinks.postgres.read_days(postgres_table("yellow"), "pickup_date", first, end))
    assert in_postgres.column_names == YELLOW.cleaned_arrow_schema.names
    assert in_postgres.num_rows == cleaned.num_rows


@pytest.mark.parametrize("contract", CONTRACTS)
def test_a_known_column_changing_type_fails_under_every_contract_and_writes_nothing(
    tlc_server: SourceServer, sinks: Sinks, contract: str
) -> None:
    published(tlc_server, "2025-06", new_columns=False)
    run = resources(sinks, tlc_server, default=contract)
    path = tlc_server.root / "yellow_tripdata_2025-06.parquet"
    table = pq.read_table(path)
    index = table.schema.get_field_index("trip_distance")
    pq.write_table(table.set_column(index, "trip_distance", pc.cast(table.column(index), pa.string())), path)
    before = snapshot(sinks)
    result = materialize_month(run, "yellow", "2025-06", raise_on_error=False)
    assert not result.success
    assert "column 'trip_distance' is string in this file, where yellow needs double" in failure_message(
        result
    )
    assert snapshot(sinks) == before


@pytest.mark.processes
def test_the_contract_comes_from_the_environment_per_service() -> None:
    shown = """
        import dagster as dg
        from taxi_assets.resources.contract import SchemaContract

        with dg.build_resources({"contract": SchemaContract()}) as built:
            print(built.contract.for_service("yellow"), built.contract.for_service("fhvhv"))
    """
    assert in_a_fresh_process({}, shown).stdout.split() == [EVOLVE, EVOLVE], "the default"
    env = {"TAXI_SCHEMA_CONTRACT": "freeze", "TAXI_SCHEMA_CONTRACT_FHVHV": "Discard"}
    assert in_a_fresh_process(env, shown).stdout.split() == [FREEZE, DISCARD]
    bad = in_a_fresh_process({**env, "TAXI_SCHEMA_CONTRACT_GREEN": "evolve-ish"}, shown)
    assert bad.returncode != 0
    assert (
        bad.stderr.strip()
        .splitlines()[-1]
        .endswith("TAXI_SCHEMA_CONTRACT_GREEN 'evolve-ish' is not one of evolve, freeze, discard")
    )
