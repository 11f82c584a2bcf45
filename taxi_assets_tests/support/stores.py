"""The sinks of the yellow trips (PostgreSQL, DuckDB, BigQuery) behind one small interface, as a user
would look into each, for the tests that hold them all to the same expectations. conftest.py
registers this module as a plugin, so its ``store`` fixture reaches every test module.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from taxi_assets.constants import postgres_table, warehouse_table
from taxi_assets.partitions import days_of, span
from taxi_assets.resources.bigquery_warehouse import BigQueryWarehouse
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.schema import PICKUP_DATE
from taxi_assets_tests.support.google import BigQueryEmulator
from taxi_assets_tests.support.materialize import failure_message, materialize_days, materialize_month
from taxi_assets_tests.support.sinks import Sinks
from taxi_dev.month_tables import whole


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
    first, end = span(days_of(month))
    result = materialize_days(resources, "yellow", str(first), str(end - dt.timedelta(days=1)))
    assert result.success, failure_message(result)


def _postgres(pg: PostgresResource) -> Store:
    table = postgres_table("yellow")

    def create_old(old: pa.Table, month: str) -> None:
        pg.evolve_table(table, old.schema, PICKUP_DATE, {})
        pg.replace_month(table, PICKUP_DATE, old, *span(days_of(month)))

    def sql(query: str) -> list[tuple]:
        with pg.connect() as conn, conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchall()

    return Store(
        "postgres",
        table,
        create_old,
        lambda month: whole(pg.read_days(table, PICKUP_DATE, *span(days_of(month)))),
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
        resource.replace_days(table, PICKUP_DATE, old, *span(days_of(month)))

    return Store(
        name,
        table,
        create_old,
        lambda month: whole(resource.read_days(table, PICKUP_DATE, *span(days_of(month)))),
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
    """Each sink in turn, this test's own (the BigQuery emulator's dataset started only for it)."""
    if request.param == "postgres":
        return _postgres(sinks.postgres)
    if request.param == "duckdb":
        return _duckdb(sinks)
    return _bigquery(request.getfixturevalue("bigquery"))
