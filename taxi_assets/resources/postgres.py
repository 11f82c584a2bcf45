"""PostgreSQL: the course's first destination (``ny_taxi.yellow_cab_data``), loaded idempotently.

A table is partitioned by month of ``pickup_date``, one partition per materialised month. A
materialisation loads its month into a table of its own with binary ``COPY`` streamed from Arrow
by ADBC, several connections at once, then swaps it in for the month's old partition in one short
transaction: readers see the old month or the new one, and a failed load changes nothing.
"""

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any

import adbc_driver_manager
import dagster as dg
import pandas as pd
import pyarrow as pa
from adbc_driver_postgresql import dbapi
from pydantic import Field

from taxi_assets.metadata import descriptions_of
from taxi_assets.transform import to_pandas

_DDL_LOCK = 7_142_021  # advisory lock id: parallel steps must not race on CREATE SCHEMA/TABLE
_LOAD_LOCK = 7_142_022  # with the partition's name: one load of a month at a time
# PostgreSQL runs one COPY per connection on one core: a month goes in over several at once, so a
# server with cores to spare takes it faster (on a 2-core machine shared with the client, two
# connections take the same time as one).
_COPY_CONNECTIONS = max(2, min(4, os.cpu_count() or 1))
# Below this many rows a connection's share costs more to set up than it saves.
_ROWS_PER_CONNECTION = 200_000
_ROWS_PER_BATCH = 65_536


class PostgresError(Exception):
    """PostgreSQL could not be reached or refused the load."""


def quote_ident(name: str) -> str:
    """A SQL identifier, quoted so that no name (``ny-taxi``, ``"; drop``) can break out of it."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_PG_TYPES = {
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE PRECISION",
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
    pa.date32(): "DATE",
    pa.bool_(): "BOOLEAN",
}


def postgres_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    try:
        return _PG_TYPES[arrow_type]
    except KeyError:
        raise PostgresError(f"no PostgreSQL column type for Arrow type {arrow_type}") from None


class PostgresResource(dg.ConfigurableResource):
    """Where the trips tables live. Env: POSTGRES_HOST, _PORT, _DBNAME, _USER, _PASSWORD, _SCHEMA."""

    host: str = Field(default="127.0.0.1", description="Host name, IP, or a unix-socket folder.")
    port: int = Field(default=5432)
    dbname: str = Field(default="postgres")
    user: str = Field(default="postgres")
    password: str = Field(default="", description="Never logged. Env: POSTGRES_PASSWORD.")
    schema_name: str = Field(default="ny_taxi", description="Schema of the trips tables.")
    connect_timeout: int = Field(default=10, description="Seconds to wait for a connection.")

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
            conn = dbapi.connect(self._conninfo(), autocommit=autocommit)
        except adbc_driver_manager.Error as exc:
            reason = self.redact(str(exc)).strip().replace("\n", " ")
            raise PostgresError(f"cannot connect to PostgreSQL ({self.where}): {reason}") from None
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


def _dates(window: dg.TimeWindow) -> tuple[dt.date, dt.date]:
    # Dates from Dagster's own partition window, not user input: safe to inline in SQL.
    return window.start.date(), window.end.date()


def _window_clause(expr: str, window: dg.TimeWindow) -> str:
    start, end = _dates(window)
    return f"{quote_ident(expr)} >= DATE '{start}' AND {quote_ident(expr)} < DATE '{end}'"


def _regclass(pg: PostgresResource, name: str) -> str:
    """SQL for the table ``name``'s oid, NULL where there is no such table."""
    return f"to_regclass({quote_literal(pg.table(name))})"


def partition_name(name: str, window: dg.TimeWindow) -> str:
    """The table holding one window of ``name``: ``yellow_cab_data_2021_01`` for a month."""
    start, end = _dates(window)
    if start.day == 1 and end == (start + dt.timedelta(days=32)).replace(day=1):
        return f"{name}_{start:%Y_%m}"
    return f"{name}_{start:%Y%m%d}_{end:%Y%m%d}"


def replace_rows(
    pg: PostgresResource,
    name: str,
    data: pa.Table,
    *,
    partition_expr: str | None = None,
    window: dg.TimeWindow | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> None:
    """Make table ``name`` hold ``data`` for ``window`` (or entirely); readers see the old rows
    or the new ones, never a mix, and a failure leaves the old rows.

    With a window, ``name`` is a table partitioned by range of ``partition_expr``, created from
    ``data``'s Arrow schema on first use, and the window is one partition of it. The rows are
    copied into a new table beside it over several connections at once (one binary COPY each),
    then one short transaction swaps it in for the window's old partition. Without a window the
    table is emptied and loaded in one transaction.
    """
    descriptions = descriptions or {}
    if not (partition_expr and window):
        with pg.connect() as conn, conn.cursor() as cur:
            _ensure_table(cur, pg, name, data.schema, descriptions)
            cur.execute(f"TRUNCATE {pg.table(name)}")
            _copy(cur, pg, name, data, name)
        return
    partition = partition_name(name, window)
    loading = f"{partition}_loading"
    # One load of a month at a time, whoever starts it; the lock goes with the connection, so a
    # load killed midway holds nothing, and the next one drops the table it left.
    with pg.connect(autocommit=True) as lock_conn, lock_conn.cursor() as lock:
        lock.execute(f"SELECT pg_advisory_lock({_LOAD_LOCK}, hashtext({quote_literal(pg.table(partition))}))")
        with pg.connect() as conn, conn.cursor() as cur:
            if not _ensure_table(cur, pg, name, data.schema, descriptions, partition_expr):
                # A table from before months were partitions: replaced as it was, in one transaction.
                cur.execute(f"DELETE FROM {pg.table(name)} WHERE {_window_clause(partition_expr, window)}")
                _copy(cur, pg, name, data, name)
                return
            _create_loading_table(cur, pg, name, loading, partition_expr, window)
        try:
            _copy_in_parallel(pg, loading, data, name)
            _swap_in(pg, name, loading, partition, window, data)
        except BaseException:
            _drop_quietly(pg, loading)
            raise


def _create_loading_table(
    cur: Any, pg: PostgresResource, name: str, loading: str, partition_expr: str, window: dg.TimeWindow
) -> None:
    """An empty table shaped like ``name``, bound to ``window``; what a killed load left is dropped."""
    cur.execute(f"DROP TABLE IF EXISTS {pg.table(loading)}")
    cur.execute(
        f"CREATE TABLE {pg.table(loading)} (LIKE {pg.table(name)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    # The partition's bounds as constraints: a row outside the window fails its COPY, and
    # ATTACH PARTITION trusts them instead of scanning the month again under its lock.
    cur.execute(
        f"ALTER TABLE {pg.table(loading)} ALTER COLUMN {quote_ident(partition_expr)} SET NOT NULL, "
        f"ADD CHECK ({_window_clause(partition_expr, window)})"
    )


def _swap_in(
    pg: PostgresResource, name: str, loading: str, partition: str, window: dg.TimeWindow, data: pa.Table
) -> None:
    """In one transaction: the window's old partition detached and dropped, ``loading`` attached."""
    start, end = _dates(window)
    with pg.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT pg_advisory_xact_lock({_DDL_LOCK})")
        cur.execute(f"SELECT {_regclass(pg, partition)} IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute(f"ALTER TABLE {pg.table(name)} DETACH PARTITION {pg.table(partition)}")
            cur.execute(f"DROP TABLE {pg.table(partition)}")
        cur.execute(f"ALTER TABLE {pg.table(loading)} RENAME TO {quote_ident(partition)}")
        try:
            cur.execute(
                f"ALTER TABLE {pg.table(name)} ATTACH PARTITION {pg.table(partition)} "
                f"FOR VALUES FROM (DATE '{start}') TO (DATE '{end}')"
            )
        except adbc_driver_manager.Error as exc:
            raise _load_failed(pg, name, data, exc) from None


def _load_failed(pg: PostgresResource, name: str, data: pa.Table, exc: Exception) -> PostgresError:
    return PostgresError(
        f"loading {len(data):,} rows into {pg.schema_name}.{name} ({pg.where}) failed; "
        f"the previous rows are kept: {pg.redact(str(exc)).strip()}"
    )


def _copy(cur: Any, pg: PostgresResource, table: str, data: pa.Table, name: str) -> None:
    """Binary COPY of ``data`` into ``table``, streamed from Arrow by ADBC."""
    # ADBC encodes a whole record batch before sending it, and a month comes in batches of up to a
    # million rows: in small batches, encoding overlaps the server's work and stays small.
    batches = data.to_reader(max_chunksize=_ROWS_PER_BATCH)
    try:
        cur.adbc_ingest(table, batches, mode="append", db_schema_name=pg.schema_name)
    except adbc_driver_manager.Error as exc:
        raise _load_failed(pg, name, data, exc) from None


def _copy_in_parallel(pg: PostgresResource, table: str, data: pa.Table, name: str) -> None:
    """``data`` into ``table`` over up to ``_COPY_CONNECTIONS`` connections, each committing its
    share: the server runs one COPY per connection on one core, and is the step's whole cost.
    """
    parts = max(1, min(_COPY_CONNECTIONS, len(data) // _ROWS_PER_CONNECTION))
    size = -(-len(data) // parts)

    def copy_part(first: int) -> None:
        with pg.connect() as conn, conn.cursor() as cur:
            _copy(cur, pg, table, data.slice(first, size), name)

    with ThreadPoolExecutor(parts) as pool:
        for done in [pool.submit(copy_part, i * size) for i in range(parts)]:
            done.result()


def _drop_quietly(pg: PostgresResource, table: str) -> None:
    """Removes a half-loaded table; the error that got us here is the one worth raising."""
    with suppress(PostgresError, adbc_driver_manager.Error), pg.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {pg.table(table)}")


def _ensure_table(
    cur: Any,
    pg: PostgresResource,
    name: str,
    schema: pa.Schema,
    descriptions: Mapping[str, str],
    partition_expr: str | None = None,
) -> bool:
    """Creates the schema and table if missing; whether the table is partitioned."""
    columns = ", ".join(f"{quote_ident(f.name)} {postgres_type(f.type)}" for f in schema)
    partitioning = f" PARTITION BY RANGE ({quote_ident(partition_expr)})" if partition_expr else ""
    cur.execute(f"SELECT pg_advisory_xact_lock({_DDL_LOCK})")
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(pg.schema_name)}")
    cur.execute(f"CREATE TABLE IF NOT EXISTS {pg.table(name)} ({columns}){partitioning}")
    for column, text in descriptions.items():
        if column in schema.names:
            cur.execute(f"COMMENT ON COLUMN {pg.table(name)}.{quote_ident(column)} IS {quote_literal(text)}")
    cur.execute(f"SELECT relkind FROM pg_class WHERE oid = {_regclass(pg, name)}")
    return cur.fetchone()[0] == "p"


class PostgresPandasIOManager(dg.ConfigurableIOManager):
    """DataFrames as PostgreSQL tables named after the asset, one window replaced per run."""

    postgres: dg.ResourceDependency[PostgresResource]

    @staticmethod
    def _partition_expr(metadata: Mapping[str, Any] | None) -> str | None:
        return (metadata or {}).get("partition_expr")

    def handle_output(self, context: dg.OutputContext, obj: pa.Table | pd.DataFrame) -> None:
        pg, name = self.postgres, context.asset_key.path[-1]
        metadata = context.definition_metadata or {}
        replace_rows(
            pg,
            name,
            obj if isinstance(obj, pa.Table) else pa.Table.from_pandas(obj, preserve_index=False),
            partition_expr=self._partition_expr(metadata),
            window=context.asset_partitions_time_window if context.has_asset_partitions else None,
            descriptions=descriptions_of(metadata),
        )
        context.add_output_metadata(
            {
                "dagster/table_name": f"{pg.dbname}.{pg.schema_name}.{name}",
                "dagster/partition_row_count": len(obj),
                "postgres": f"{pg.where} table {pg.schema_name}.{name}",
            }
        )

    def load_input(self, context: dg.InputContext) -> pa.Table | pd.DataFrame:
        pg, name = self.postgres, context.asset_key.path[-1]
        upstream = context.upstream_output
        expr = self._partition_expr(upstream.definition_metadata if upstream else None)
        query = f"SELECT * FROM {pg.table(name)}"
        if expr and context.has_asset_partitions:
            query += f" WHERE {_window_clause(expr, context.asset_partitions_time_window)}"
        with pg.connect() as conn, conn.cursor() as cur:
            cur.execute(query)
            table = cur.fetch_arrow_table()
        return table if context.dagster_type.typing_type is pa.Table else to_pandas(table)
