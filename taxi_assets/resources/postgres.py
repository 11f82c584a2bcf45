"""PostgreSQL, the course's first destination (``ny_taxi.yellow_cab_data``): where it is, and the
few things the assets do with it.

A trips table is partitioned by month of ``pickup_date``, one partition per loaded month; how a
month is loaded and swapped in is ``postgres_load.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import adbc_driver_manager
import dagster as dg
import pyarrow as pa

from taxi_assets.batches import Batches
from taxi_assets.constants import DEFAULT_POSTGRES_SCHEMA
from taxi_assets.resources.column_types import postgres_type
from taxi_assets.resources.postgres_connections import open_connection
from taxi_assets.resources.postgres_load import DDL_LOCK, PostgresError, load_month
from taxi_assets.resources.settings import setting
from taxi_assets.resources.sql import days_between, per_day, per_day_query, quote_ident, quote_literal
from taxi_assets.schema import is_added

__all__ = ["PostgresError", "PostgresResource"]


# What PostgreSQL says → the setting that is wrong. Checked in order; the first match names it.
_CAUSES: tuple[tuple[str, str], ...] = (
    (r"password authentication failed|no password supplied", "POSTGRES_PASSWORD"),
    (r'database ".*" does not exist', "POSTGRES_DBNAME"),
    (r'role ".*" does not exist', "POSTGRES_USER"),
    (r"could not translate host name|Name or service not known", "POSTGRES_HOST"),
    (r"Connection refused|timeout expired|No such file or directory", "POSTGRES_HOST / POSTGRES_PORT"),
)


def setting_at_fault(message: str) -> str | None:
    """The setting a failed connection's message points at, if any."""
    return next((setting for pattern, setting in _CAUSES if re.search(pattern, message)), None)


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class PostgresResource(dg.ConfigurableResource):
    """Where the trips tables live."""

    host: str = setting("POSTGRES_HOST", "127.0.0.1", "Host name, IP, or a unix-socket folder.")
    port: int = setting("POSTGRES_PORT", 5432, "Port.", whole_number=True)
    dbname: str = setting("POSTGRES_DBNAME", "postgres", "Database.")
    user: str = setting("POSTGRES_USER", "postgres", "User.")
    password: str = setting("POSTGRES_PASSWORD", "", "Never logged.")
    schema_name: str = setting("POSTGRES_SCHEMA", DEFAULT_POSTGRES_SCHEMA, "Schema of the trips tables.")
    connect_timeout: int = setting(
        "POSTGRES_CONNECT_TIMEOUT", 10, "Seconds to wait for a connection.", whole_number=True
    )

    @property
    def where(self) -> str:
        """How errors name the server: everything but the password."""
        return f"host={self.host} port={self.port} dbname={self.dbname} user={self.user}"

    def _conninfo(self) -> str:
        fields = {
            "host": self.host,
            "port": str(self.port),
            "dbname": self.dbname,
            "user": self.user,
            "connect_timeout": str(self.connect_timeout),
            "application_name": "taxi-assets",
        }
        if self.password:
            fields["password"] = self.password
        return " ".join(f"{k}={_conninfo_value(v)}" for k, v in fields.items())

    def redact(self, message: str) -> str:
        return message.replace(self.password, "***") if self.password else message

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[Any]:
        """An ADBC DB-API connection; unless ``autocommit``, one transaction committed on success
        and rolled back on error.
        """
        try:
            conn = open_connection(self._conninfo(), autocommit=autocommit)
        except adbc_driver_manager.Error as exc:
            reason = self.redact(str(exc)).strip().replace("\n", " ")
            setting = setting_at_fault(reason)
            raise PostgresError(
                f"{setting + ': ' if setting else ''}cannot connect to PostgreSQL ({self.where}): {reason}"
            ) from None
        try:
            yield conn
            if not autocommit:
                conn.commit()
        except BaseException:
            if not autocommit:
                conn.rollback()
            raise
        finally:
            conn.close()

    def table(self, name: str) -> str:
        return f"{quote_ident(self.schema_name)}.{quote_ident(name)}"

    def regclass(self, name: str) -> str:
        """SQL for the table ``name``'s oid, NULL where there is no such table."""
        return f"to_regclass({quote_literal(self.table(name))})"

    def evolve_table(
        self, name: str, schema: pa.Schema, month_column: str, descriptions: Mapping[str, str]
    ) -> None:
        """Create table ``name`` from ``schema``, partitioned by month of ``month_column``, or add
        the columns it lacks (nullable: months loaded before keep nulls there). Columns are described
        as ``descriptions`` says; a column a load added under evolve only when the table gains it,
        so it keeps the month it was first published in.
        """
        columns = ", ".join(f"{quote_ident(f.name)} {postgres_type(f.type)}" for f in schema)
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"SELECT pg_advisory_xact_lock({DDL_LOCK})")
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema_name)}")
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                f"{quote_literal(self.schema_name)} AND table_name = {quote_literal(name)}"
            )
            existing = {row[0] for row in cur.fetchall()}
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table(name)} ({columns}) "
                f"PARTITION BY RANGE ({quote_ident(month_column)})"
            )
            for field in schema:
                if field.name not in existing:
                    cur.execute(
                        f"ALTER TABLE {self.table(name)} ADD COLUMN IF NOT EXISTS "
                        f"{quote_ident(field.name)} {postgres_type(field.type)}"
                    )
            for column, text in descriptions.items():
                if column in schema.names and (column not in existing or not is_added(schema.field(column))):
                    cur.execute(
                        f"COMMENT ON COLUMN {self.table(name)}.{quote_ident(column)} IS {quote_literal(text)}"
                    )

    def replace_table(self, name: str, rows: pa.Table, descriptions: Mapping[str, str]) -> None:
        """Table ``name`` (unpartitioned, made from ``rows``' schema if missing) holding exactly
        ``rows``, in one transaction: readers see the old rows or the new ones. For a small table.
        """
        columns = ", ".join(f"{quote_ident(f.name)} {postgres_type(f.type)}" for f in rows.schema)
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"SELECT pg_advisory_xact_lock({DDL_LOCK})")
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema_name)}")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self.table(name)} ({columns})")
            for column, text in descriptions.items():
                cur.execute(
                    f"COMMENT ON COLUMN {self.table(name)}.{quote_ident(column)} IS {quote_literal(text)}"
                )
            cur.execute(f"DELETE FROM {self.table(name)}")
            try:
                cur.adbc_ingest(name, rows, mode="append", db_schema_name=self.schema_name)
            except adbc_driver_manager.Error as exc:
                raise PostgresError(
                    f"loading {rows.num_rows:,} rows into {self.schema_name}.{name} ({self.where}) failed; "
                    f"the previous rows are kept: {self.redact(str(exc)).strip()}"
                ) from None

    def replace_month(
        self, name: str, month_column: str, rows: pa.Table | Batches, first: dt.date, end: dt.date
    ) -> int:
        """Make ``[first, end)`` of table ``name`` hold exactly ``rows`` (read a batch at a time):
        readers see the old month or the new one, and a failure keeps the old one. How many rows.
        """
        return load_month(self, name, month_column, Batches.of(rows), first, end)

    def _select(self, name: str, sql: str) -> pa.Table | None:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"SELECT {self.regclass(name)} IS NOT NULL")
            if not cur.fetchone()[0]:
                return None
            cur.execute(sql)
            return cur.fetch_arrow_table()

    def day_counts(self, name: str, day_column: str, first: dt.date, end: dt.date) -> dict[str, int]:
        """Rows per day (``2021-01-15``) of ``[first, end)``; none if there is no table."""
        query = per_day_query(self.table(name), day_column, first, end, "to_char({}, 'YYYY-MM-DD')")
        return per_day(self._select(name, query))

    def read_days(self, name: str, day_column: str, first: dt.date, end: dt.date) -> Batches:
        """The rows of ``[first, end)``, streamed a batch at a time each time they are read; the
        table must exist now (its columns are the batches' schema).
        """
        query = f"SELECT * FROM {self.table(name)} WHERE {days_between(quote_ident(day_column), first, end)}"
        columns = self._select(name, f"{query} LIMIT 0")
        if columns is None:
            raise PostgresError(f"no table {self.schema_name}.{name} ({self.where}): materialise it first")

        def read() -> Iterator[pa.RecordBatch]:
            with self.connect() as conn, conn.cursor() as cur:
                cur.execute(query)
                yield from cur.fetch_record_batch()

        return Batches(columns.schema, read)
