"""The warehouse on DuckDB, the embedded default: one file, one table per service."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb
import pyarrow as pa
from pydantic import Field

from taxi_assets.batches import BATCH_ROWS, Batches
from taxi_assets.constants import DEFAULT_DUCKDB_PATH, DEFAULT_WAREHOUSE_SCHEMA
from taxi_assets.errors import TaxiError
from taxi_assets.resources.column_types import duckdb_type
from taxi_assets.resources.settings import setting
from taxi_assets.resources.sql import days_between, per_day, per_day_query, quote_ident, quote_literal
from taxi_assets.resources.warehouse import Warehouse
from taxi_assets.schema import is_added

_INSERT_MEMORY = "64MB"


class WarehouseError(TaxiError):
    """The warehouse cannot be reached or refused the rows; the message names the setting."""


class DuckDBWarehouse(Warehouse):
    """Trips tables in a DuckDB file."""

    database: str = setting("DUCKDB_DATABASE", str(DEFAULT_DUCKDB_PATH), "The DuckDB file.")
    schema_name: str = setting("DUCKDB_SCHEMA", DEFAULT_WAREHOUSE_SCHEMA, "Schema of the trips tables.")

    lock_wait_seconds: float = Field(
        default=300, description="How long to wait for another process's write to the file to end."
    )

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # DuckDB lets one process write a file at a time. Runs the queue starts take turns (the
        # warehouse pool); runs from the command line bypass the queue, so one waits here for
        # another's write to end.
        give_up = time.monotonic() + self.lock_wait_seconds
        while True:
            try:
                connection = duckdb.connect(self.database)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > give_up:
                    raise WarehouseError(f"DUCKDB_DATABASE {self.database!r}: {exc}") from exc
                time.sleep(0.5)
            except duckdb.Error as exc:
                raise WarehouseError(f"DUCKDB_DATABASE {self.database!r}: {exc}") from exc
        try:
            yield connection
        finally:
            connection.close()

    def check(self) -> tuple[str, str]:
        with self.connect() as con:
            [(one,)] = con.execute("SELECT 1").fetchall()
        return f"duckdb {self.database}", f"SELECT 1 returned {one}"

    def table_name(self, table: str) -> str:
        return f"{quote_ident(self.schema_name)}.{quote_ident(table)}"

    def _columns(self, con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
        return [
            name
            for (name,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
                " ORDER BY ordinal_position",
                [self.schema_name, table],
            ).fetchall()
        ]

    def evolve_table(
        self, table: str, schema: pa.Schema, day_column: str, descriptions: Mapping[str, str]
    ) -> None:
        name = self.table_name(table)
        with self.connect() as con:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema_name)}")
            existing = self._columns(con, table)
            if not existing:
                columns = ", ".join(f"{quote_ident(f.name)} {duckdb_type(f.type)}" for f in schema)
                con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
            for field in schema:
                if existing and field.name not in existing:
                    con.execute(
                        f"ALTER TABLE {name} ADD COLUMN {quote_ident(field.name)} {duckdb_type(field.type)}"
                    )
            # A column a load added under evolve is described when the table gains it: it keeps
            # the month it was first published in.
            for column, text in descriptions.items():
                if column in schema.names and (column not in existing or not is_added(schema.field(column))):
                    con.execute(f"COMMENT ON COLUMN {name}.{quote_ident(column)} IS {quote_literal(text)}")

    def replace_days(
        self, table: str, day_column: str, rows: pa.Table | Batches, first: dt.date, end: dt.date
    ) -> None:
        name, window = self.table_name(table), days_between(quote_ident(day_column), first, end)
        with self.connect() as con:
            # A table's rows have no order to keep: DuckDB then inserts on every core.
            con.execute("SET preserve_insertion_order = false")
            # DuckDB's default (80% of RAM) lets an insert keep a month of rows in its buffers; within
            # this much it writes them to the file as it goes (a 15M-row month: 585 MB peak at 128 MB,
            # 535 MB at 64 MB, as a 1.37M-row month's).
            con.execute(f"SET memory_limit = '{_INSERT_MEMORY}'")
            con.begin()
            try:
                con.execute(f"DELETE FROM {name} WHERE {window}")
                # An Arrow stream: DuckDB inserts it a batch at a time.
                con.register("new_rows", Batches.of(rows).reader())
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM new_rows")
                con.unregister("new_rows")
            except BaseException:
                con.rollback()
                raise
            con.commit()

    def replace_table(self, table: str, rows: pa.Table, descriptions: Mapping[str, str]) -> None:
        name = self.table_name(table)
        columns = ", ".join(f"{quote_ident(f.name)} {duckdb_type(f.type)}" for f in rows.schema)
        with self.connect() as con:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema_name)}")
            con.begin()
            try:
                con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
                con.register("new_rows", rows)
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM new_rows")
                con.unregister("new_rows")
                for column, text in descriptions.items():
                    con.execute(f"COMMENT ON COLUMN {name}.{quote_ident(column)} IS {quote_literal(text)}")
            except BaseException:
                con.rollback()
                raise
            con.commit()

    def read_table(self, table: str) -> pa.Table:
        rows = self._select(table, f"SELECT * FROM {self.table_name(table)}")
        if rows is None:
            raise WarehouseError(
                f"{self.database}: no table {self.schema_name}.{table}: materialise it first"
            )
        return rows

    def _select(self, table: str, sql: str) -> pa.Table | None:
        with self.connect() as con:
            if not self._columns(con, table):
                return None
            return con.sql(sql).to_arrow_table()

    def day_counts(self, table: str, day_column: str, first: dt.date, end: dt.date) -> dict[str, int]:
        query = per_day_query(self.table_name(table), day_column, first, end, "strftime({}, '%Y-%m-%d')")
        return per_day(self._select(table, query))

    def read_days(self, table: str, day_column: str, first: dt.date, end: dt.date) -> Batches:
        window = days_between(quote_ident(day_column), first, end)
        query = f"SELECT * FROM {self.table_name(table)} WHERE {window}"
        columns = self._select(table, f"{query} LIMIT 0")
        if columns is None:
            raise WarehouseError(
                f"{self.database}: no table {self.schema_name}.{table}: materialise it first"
            )

        def read() -> Iterator[pa.RecordBatch]:
            with self.connect() as con:
                yield from con.execute(query).to_arrow_reader(BATCH_ROWS)

        return Batches(columns.schema, read)
