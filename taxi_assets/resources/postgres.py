"""PostgreSQL: the course's first destination (``ny_taxi.yellow_cab_data``), loaded idempotently.

A materialisation replaces exactly its window in one transaction: delete the window's rows, then
bulk-load the new ones with ADBC, which streams Arrow data through binary ``COPY``.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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


def _window_clause(expr: str, window: dg.TimeWindow) -> str:
    # Dates from Dagster's own partition window, not user input: safe to inline.
    start, end = window.start.date().isoformat(), window.end.date().isoformat()
    return f"{quote_ident(expr)} >= DATE '{start}' AND {quote_ident(expr)} < DATE '{end}'"


def replace_rows(
    pg: PostgresResource,
    name: str,
    data: pa.Table,
    *,
    partition_expr: str | None = None,
    window: dg.TimeWindow | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> None:
    """Make table ``name`` hold ``data`` for ``window`` (or entirely), in one transaction.

    The table and its index are created from ``data``'s Arrow schema on first use; the window's
    old rows are deleted and the new ones streamed in with binary COPY. Any failure rolls all of
    it back, so the previous rows stay.
    """
    with pg.connect() as conn, conn.cursor() as cur:
        _ensure_table(cur, pg, name, data.schema, descriptions or {}, partition_expr)
        if partition_expr and window:
            cur.execute(f"DELETE FROM {pg.table(name)} WHERE {_window_clause(partition_expr, window)}")
        else:
            cur.execute(f"TRUNCATE {pg.table(name)}")
        try:
            cur.adbc_ingest(name, data, mode="append", db_schema_name=pg.schema_name)
        except adbc_driver_manager.Error as exc:
            raise PostgresError(
                f"loading {len(data):,} rows into {pg.schema_name}.{name} ({pg.where}) failed; "
                f"the previous rows are kept: {pg.redact(str(exc)).strip()}"
            ) from None


def _ensure_table(
    cur: Any,
    pg: PostgresResource,
    name: str,
    schema: pa.Schema,
    descriptions: Mapping[str, str],
    expr: str | None,
) -> None:
    columns = ", ".join(f"{quote_ident(f.name)} {postgres_type(f.type)}" for f in schema)
    cur.execute(f"SELECT pg_advisory_xact_lock({_DDL_LOCK})")
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(pg.schema_name)}")
    cur.execute(f"CREATE TABLE IF NOT EXISTS {pg.table(name)} ({columns})")
    if expr:
        # Makes a month's DELETE an index range scan instead of a full-table scan.
        index = quote_ident(f"{name}_{expr}_idx")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {pg.table(name)} ({quote_ident(expr)})")
    for column, text in descriptions.items():
        if column in schema.names:
            cur.execute(f"COMMENT ON COLUMN {pg.table(name)}.{quote_ident(column)} IS {quote_literal(text)}")


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
