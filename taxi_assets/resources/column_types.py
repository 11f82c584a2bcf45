"""Each store's column type for an Arrow type: the trip schema's types, as each SQL dialect names them."""

from __future__ import annotations

import pyarrow as pa

from taxi_assets.errors import TaxiError

_POSTGRES = {
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE PRECISION",
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
    pa.date32(): "DATE",
    pa.bool_(): "BOOLEAN",
}
_DUCKDB = {**_POSTGRES, pa.float64(): "DOUBLE", pa.string(): "VARCHAR", pa.large_string(): "VARCHAR"}
_BIGQUERY = {
    pa.int64(): "INT64",
    pa.int32(): "INT64",
    pa.float64(): "FLOAT64",
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.date32(): "DATE",
    pa.bool_(): "BOOL",
}


class UnknownColumnType(TaxiError, TypeError):
    """An Arrow type no store here has a column type for."""


def _lookup(types: dict[pa.DataType, str], arrow_type: pa.DataType, store: str) -> str:
    try:
        return types[arrow_type]
    except KeyError:
        raise UnknownColumnType(f"no {store} column type for Arrow type {arrow_type}") from None


def postgres_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    return _lookup(_POSTGRES, arrow_type, "PostgreSQL")


def duckdb_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    return _lookup(_DUCKDB, arrow_type, "DuckDB")


def bigquery_type(arrow_type: pa.DataType) -> str:
    # The TLC's wall-clock times are stored as TIMESTAMP, as the course's BigQuery tables have them.
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    return _lookup(_BIGQUERY, arrow_type, "BigQuery")
