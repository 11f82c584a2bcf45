"""Where one test's pipeline writes (its own lake folder, DuckDB file and PostgreSQL schema), and
reading each sink as a user would.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from taxi_assets.constants import postgres_table, warehouse_table
from taxi_assets.defs.resources import analytics_cli, io_managers
from taxi_assets.io_managers import WAREHOUSE_IO_MANAGER
from taxi_assets.io_managers.warehouse import WarehouseIOManager
from taxi_assets.keys import DAILY
from taxi_assets.resources.contract import SchemaContract
from taxi_assets.resources.duckdb_warehouse import DuckDBWarehouse
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.sql import quote_literal
from taxi_assets.schema import SCHEMAS, TripSchema
from taxi_assets.source import TaxiSource
from taxi_assets_tests.support.materialize import materialize_days, materialize_month
from taxi_assets_tests.support.source_server import SourceServer


@dataclass
class Sinks:
    """Where one test's pipeline writes: its own lake folder, DuckDB file and Postgres schema."""

    lake_dir: Path
    duckdb_path: Path
    postgres: PostgresResource
    resources: dict[str, Any]


def resources_for(
    source: TaxiSource, lake: Lake, warehouse: Any, postgres: PostgresResource
) -> dict[str, Any]:
    """Every resource and IO manager a run needs, as the code location builds them."""
    return {
        "taxi_source": source,
        "schema_contract": SchemaContract(),
        "lake": lake,
        "warehouse": warehouse,
        "postgres": postgres,
        "dbt": analytics_cli(),
        **io_managers(lake, warehouse, postgres),
    }


@pytest.fixture
def sinks(tmp_path: Path, source_server: SourceServer, postgres: PostgresResource) -> Sinks:
    lake_dir, duckdb_path = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    return Sinks(
        lake_dir=lake_dir,
        duckdb_path=duckdb_path,
        postgres=postgres,
        resources=resources_for(
            source_server.source(),
            Lake(base_uri=str(lake_dir)),
            DuckDBWarehouse(database=str(duckdb_path), schema_name="ny_taxi"),
            postgres,
        ),
    )


@pytest.fixture
def january_done(source_server: SourceServer, sinks: Sinks) -> dict[str, object]:
    """A user's sinks with yellow 2021-01 fully materialised, as a snapshot of every sink."""
    source_server.publish("yellow", "2021-01")
    assert materialize_month(sinks.resources, "yellow", "2021-01").success
    assert materialize_days(sinks.resources, "yellow", "2021-01-01", "2021-01-31").success
    return snapshot(sinks)


def read_lake_month(lake: Path, stage: str, service: str, month: str) -> pd.DataFrame:
    return pd.read_parquet(lake / service / stage / f"{month}.parquet")


def lake_days(lake: Path, service: str) -> dict[str, list[str]]:
    """Day folder → the files in it, as anyone listing the lake would see it."""
    root = lake / service / DAILY
    return (
        {d.name: sorted(f.name for f in d.iterdir()) for d in sorted(root.iterdir())} if root.exists() else {}
    )


def read_lake_days(lake: Path, service: str) -> pd.DataFrame:
    """The daily dataset read by another engine (DuckDB over hive paths), not by our IO manager; by
    column name, as days loaded before and after a column was added differ in columns.
    """
    pattern = lake / service / DAILY / "*" / "*.parquet"
    with duckdb.connect() as con:
        return con.execute(
            f"select * from read_parquet('{pattern}', hive_partitioning = true, union_by_name = true)"
        ).df()


def warehouse_rows_per_day(path: Path, service: str) -> dict[str, int]:
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {
            name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()
        }
        if warehouse_table(service) not in tables:
            return {}
        rows = con.execute(
            f"select pickup_date, count(*) from ny_taxi.{warehouse_table(service)} group by 1 order by 1"
        ).fetchall()
    return {str(day): n for day, n in rows}


def postgres_months(postgres: PostgresResource, service: str) -> dict[str, tuple[int, int]]:
    """Per pickup month: the row count and a fingerprint of every row's content."""
    table = postgres_table(service)
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT to_regclass({quote_literal(postgres.table(table))}) IS NOT NULL")
        if not cur.fetchone()[0]:
            return {}
        cur.execute(
            f"SELECT to_char(pickup_date, 'YYYY-MM'), count(*), sum(hashtext(t::text)::bigint) "
            f"FROM {postgres.table(table)} t GROUP BY 1 ORDER BY 1"
        )
        return {month: (int(n), int(fingerprint)) for month, n, fingerprint in cur.fetchall()}


def connections_on_schema(postgres: PostgresResource, condition: str) -> list[int | None]:
    """The other connections whose current statement names ``postgres``'s schema and meets
    ``condition`` (SQL on ``pg_stat_activity``), as an administrator would list them: their client
    ports (none for a unix socket).
    """
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT client_port FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            f"AND position({quote_literal(postgres.schema_name)} in query) > 0 AND ({condition})"
        )
        return [port for (port,) in cur.fetchall()]


def snapshot(sinks: "Sinks") -> dict[str, object]:
    """Every lake file with its content hash, the warehouse's rows per day, Postgres per month."""
    lake = sinks.lake_dir
    state: dict[str, object] = {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*"))
        if p.is_file()
    }
    for service in SCHEMAS:
        state[f"warehouse:{service}"] = warehouse_rows_per_day(sinks.duckdb_path, service)
        state[f"postgres:{service}"] = postgres_months(sinks.postgres, service)
    return state


def with_warehouse(resources: dict[str, Any], warehouse: Any) -> dict[str, Any]:
    """``resources`` with ``warehouse`` as the warehouse, its IO manager and check included."""
    return {
        **resources,
        "warehouse": warehouse,
        WAREHOUSE_IO_MANAGER: WarehouseIOManager(warehouse=warehouse),
    }


def rows(table: pa.Table, schema: TripSchema) -> list[tuple]:
    """Every row, columns in the cleaned order, sorted: how two stores are compared."""
    names = schema.cleaned_arrow_schema.names
    return sorted((tuple(r[n] for n in names) for r in table.select(names).to_pylist()), key=repr)
