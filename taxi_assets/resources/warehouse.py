"""The warehouse: DuckDB on the embedded defaults; the same asset definitions serve any backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
from dagster import InputContext, OutputContext
from dagster._core.storage.db_io_manager import DbIOManager, DbTypeHandler, TableSlice
from dagster_duckdb.io_manager import DuckDbClient, _get_cleanup_statement
from dagster_duckdb_pandas import DuckDBPandasIOManager, DuckDBPandasTypeHandler

from taxi_assets.chunks import DayCounts, MonthChunks, span
from taxi_assets.partitions import slice_window


def _window_where(expr: str, first: dt.date, end: dt.date) -> str:
    """A window of days as SQL; its bounds are Dagster's partition dates, not user input."""
    return f"{expr} >= '{first}' AND {expr} < '{end}'"


def _table_exists(connection, table_slice: TableSlice) -> bool:
    return bool(
        connection.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [table_slice.schema, table_slice.table],
        ).fetchall()[0][0]
    )


class DuckDBMonthChunksTypeHandler(DbTypeHandler[MonthChunks]):
    """Replaces a window month by month, each month in a transaction of its own.

    One transaction for a long range would hold every month's rows in DuckDB's memory until the
    commit; a month at a time keeps a run to about one month whatever the range. A failure keeps
    every month whole: those before it are new, it and those after it are as they were.
    """

    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: MonthChunks, connection
    ) -> dict[str, int]:
        expr = slice_window(table_slice)[0]
        table, rows = f"{table_slice.schema}.{table_slice.table}", 0
        # A table's rows have no order to keep: DuckDB then inserts a month on every core.
        connection.execute("SET preserve_insertion_order = false").fetchall()
        # Arrow straight into DuckDB: no pandas copy of the month.
        for days, month in obj.tables():
            if _table_exists(connection, table_slice):
                connection.execute(f"DELETE FROM {table} WHERE {_window_where(expr, *span(days))}").fetchall()
            if month.num_rows:
                connection.register("month_rows", month)
                # DuckDB wants each statement's result consumed before the next one runs.
                connection.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM month_rows LIMIT 0"
                ).fetchall()
                connection.execute(f"INSERT INTO {table} SELECT * FROM month_rows").fetchall()
                connection.unregister("month_rows")
            rows += month.num_rows
            del month  # before the next month loads, not after
            connection.commit()
            connection.begin()
        return {"dagster/partition_row_count": rows}

    def load_input(self, context: InputContext, table_slice: TableSlice, connection) -> MonthChunks:
        raise TypeError("MonthChunks are written to DuckDB, not read back; load a DataFrame or DayCounts")

    @property
    def supported_types(self) -> list[type]:
        return [MonthChunks]


class DuckDBDayCountsTypeHandler(DbTypeHandler[DayCounts]):
    """Rows per day of the loaded window, counted by DuckDB."""

    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: DayCounts, connection
    ) -> None:
        raise TypeError("DayCounts are read from DuckDB, not written")

    def load_input(self, context: InputContext, table_slice: TableSlice, connection) -> DayCounts:
        expr, first, end = slice_window(table_slice)
        table = f"{table_slice.schema}.{table_slice.table}"
        try:
            rows = connection.execute(
                f"SELECT strftime(CAST({expr} AS DATE), '%Y-%m-%d'), count(*) "
                f"FROM {table} WHERE {_window_where(expr, first, end)} GROUP BY 1"
            ).fetchall()
        except duckdb.CatalogException:
            rows = []  # no table yet: no rows on any day
        return DayCounts({day: int(n) for day, n in rows})

    @property
    def supported_types(self) -> list[type]:
        return [DayCounts]


class _AtomicDuckDbClient(DuckDbClient):
    """Deletes a partition slice and inserts its rows in one transaction: a failed insert
    leaves the previous rows in place instead of an emptied slice. Month chunks are replaced
    a month per transaction by their type handler instead.
    """

    @staticmethod
    @contextmanager
    def connect(context, table_slice: TableSlice) -> Iterator:
        with DuckDbClient.connect(context, table_slice) as conn:
            conn.begin()
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @staticmethod
    def delete_table_slice(context: OutputContext, table_slice: TableSlice, connection) -> None:
        if context.dagster_type.typing_type is MonthChunks:
            return  # replaced month by month by its type handler
        # The stock client swallows "no such table" errors, which would abort our transaction.
        if _table_exists(connection, table_slice):
            # Consumed, so that the next call on this connection may register a DataFrame.
            connection.execute(_get_cleanup_statement(table_slice)).fetchall()

    @staticmethod
    def ensure_schema_exists(context: OutputContext, table_slice: TableSlice, connection) -> None:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {table_slice.schema}").fetchall()


class DuckDBWarehouse(DuckDBPandasIOManager):
    """DuckDB tables of pandas DataFrames, partition slices replaced atomically."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [DuckDBPandasTypeHandler(), DuckDBMonthChunksTypeHandler(), DuckDBDayCountsTypeHandler()]

    def create_io_manager(self, context) -> DbIOManager:
        return DbIOManager(
            db_client=_AtomicDuckDbClient(),
            database=self.database,
            schema=self.schema_,
            type_handlers=self.type_handlers(),
            default_load_type=self.default_load_type(),
            io_manager_name="DuckDBIOManager",
        )
