"""Tables evolve: a PostgreSQL, DuckDB or BigQuery table made from a 2021 month by an earlier version
of the project (18 yellow columns) takes a 2025 month: it gains the new columns with their
descriptions, the 2021 rows keep nulls there, and re-running 2021 leaves 2025 alone.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_assets.constants import postgres_table, warehouse_table
from taxi_assets.keys import CLEANED, RAW, REJECTED
from taxi_assets.resources.bigquery_warehouse import BigQueryWarehouse
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.schema import PICKUP_DATE, YELLOW
from taxi_assets_tests.conftest import BigQueryEmulator, Sinks, SourceServer
from taxi_assets_tests.session import DEFINITIONS, failure_message, keys, materialize_days, materialize_month
from taxi_assets_tests.test_eras import month_bounds, rows
from taxi_assets_tests.test_warehouse import with_warehouse

NEW_COLUMNS = ["airport_fee", "cbd_congestion_fee"]  # what 2021 tables made before the TLC eras lack
OLD_NAMES = [n for n in YELLOW.cleaned_arrow_schema.names if n not in NEW_COLUMNS]


@dataclass
class Store:
    """One sink of the yellow trips, as a user would look into it."""

    name: str
    table: str
    create_old: Callable[[pa.Table, str], None]  # the earlier version's table and month
    read_month: Callable[[str], pa.Table]
    columns: Callable[[], list[str]]
    description: Callable[[str], str | None]
    load: Callable[[dict[str, Any], str], None]  # the current pipeline, one month
    warehouse: Any = None  # a warehouse other than the sinks' DuckDB, for the runs


def _load_month(resources: dict[str, Any], month: str) -> None:
    result = materialize_month(resources, "yellow", month)
    assert result.success, failure_message(result)


def _load_days(resources: dict[str, Any], month: str) -> None:
    _load_month(resources, month)
    first, end = month_bounds(month)
    result = materialize_days(resources, "yellow", str(first), str(end - dt.timedelta(days=1)))
    assert result.success, failure_message(result)


def _postgres(pg: PostgresResource) -> Store:
    table = postgres_table("yellow")

    def create_old(old: pa.Table, month: str) -> None:
        pg.evolve_table(table, old.schema, PICKUP_DATE, {})
        pg.replace_month(table, PICKUP_DATE, old, *month_bounds(month))

    def sql(query: str) -> list[tuple]:
        with pg.connect() as conn, conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchall()

    return Store(
        "postgres",
        table,
        create_old,
        lambda month: pg.read_days(table, PICKUP_DATE, *month_bounds(month)),
        lambda: [
            n
            for (n,) in sql(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                f"'{pg.schema_name}' AND table_name = '{table}' ORDER BY ordinal_position"
            )
        ],
        lambda column: sql(
            f"SELECT col_description('{pg.schema_name}.{table}'::regclass, attnum) FROM pg_attribute "
            f"WHERE attrelid = '{pg.schema_name}.{table}'::regclass AND attname = '{column}'"
        )[0][0],
        _load_month,
    )


def _warehouse(name: str, resource: Any, columns: Callable, description: Callable, **kw: Any) -> Store:
    table = warehouse_table("yellow")

    def create_old(old: pa.Table, month: str) -> None:
        resource.evolve_table(table, old.schema, PICKUP_DATE, {})
        resource.replace_days(table, PICKUP_DATE, old, *month_bounds(month))

    return Store(
        name,
        table,
        create_old,
        lambda month: resource.read_days(table, PICKUP_DATE, *month_bounds(month)),
        columns,
        description,
        _load_days,
        **kw,
    )


def _duckdb(sinks: Sinks) -> Store:
    def query(sql: str) -> list[tuple]:
        with duckdb.connect(str(sinks.duckdb_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    return _warehouse(
        "duckdb",
        sinks.resources["warehouse"],
        lambda: [
            n
            for (n,) in query(
                "select column_name from duckdb_columns() where table_name = 'yellow_trips' "
                "order by column_index"
            )
        ],
        lambda column: query(
            "select comment from duckdb_columns() where table_name = 'yellow_trips' "
            f"and column_name = '{column}'"
        )[0][0],
    )


def _bigquery(bq: BigQueryEmulator) -> Store:
    def table() -> Any:
        return bq.client().get_table(f"{bq.project}.{bq.dataset}.yellow_trips")

    warehouse = BigQueryWarehouse(project=bq.project, dataset=bq.dataset)
    return _warehouse(
        "bigquery",
        warehouse,
        lambda: [f.name for f in table().schema],
        lambda column: next(f.description for f in table().schema if f.name == column),
        warehouse=warehouse,
    )


@pytest.fixture(params=["postgres", "duckdb", "bigquery"])
def store(request: pytest.FixtureRequest, sinks: Sinks) -> Store:
    if request.param == "postgres":
        return _postgres(sinks.postgres)
    if request.param == "duckdb":
        return _duckdb(sinks)
    return _bigquery(request.getfixturevalue("bigquery"))


def cleaned_month(resources: dict[str, Any], sinks: Sinks, month: str) -> pa.Table:
    """The current cleaning of ``month``, read from the lake (no sink written)."""
    selection = keys("yellow", RAW, CLEANED, REJECTED)
    assert dg.materialize(
        DEFINITIONS, selection=dg.AssetSelection.assets(*selection), resources=resources, partition_key=month
    ).success
    return pq.read_table(sinks.lake_dir / "yellow" / CLEANED / f"{month}.parquet")


def test_a_2021_table_takes_a_2025_month_and_2021_again(
    store: Store, source_server: SourceServer, tlc_server: SourceServer, sinks: Sinks
) -> None:
    source_server.publish("yellow", "2021-01")
    tlc_server.publish("yellow", "2025-01")
    mirror = {**sinks.resources, "taxi_source": source_server.source()}
    tlc = {**sinks.resources, "taxi_source": tlc_server.source()}
    if store.warehouse is not None:
        mirror, tlc = (with_warehouse(r, store.warehouse) for r in (mirror, tlc))

    january_2021 = cleaned_month(mirror, sinks, "2021-01")
    store.create_old(january_2021.select(OLD_NAMES), "2021-01")
    assert store.columns() == OLD_NAMES

    store.load(tlc, "2025-01")
    january_2025 = pq.read_table(sinks.lake_dir / "yellow" / CLEANED / "2025-01.parquet")
    assert store.columns() == OLD_NAMES + NEW_COLUMNS, "new columns added at the end, none dropped"
    for column in NEW_COLUMNS:
        assert store.description(column) == YELLOW.descriptions(snake=True)[column]
    assert rows(store.read_month("2025-01"), YELLOW) == rows(january_2025, YELLOW)
    assert january_2025.column("cbd_congestion_fee").null_count < january_2025.num_rows
    old_rows = store.read_month("2021-01")
    assert rows(old_rows, YELLOW) == rows(january_2021, YELLOW), "2021 reads back, nulls in the new columns"
    assert all(old_rows.column(c).null_count == old_rows.num_rows for c in NEW_COLUMNS)

    before = rows(store.read_month("2025-01"), YELLOW)
    store.load(mirror, "2021-01")
    assert rows(store.read_month("2025-01"), YELLOW) == before, "re-running 2021 leaves 2025 alone"
    assert rows(store.read_month("2021-01"), YELLOW) == rows(january_2021, YELLOW)
