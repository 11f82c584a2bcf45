"""SQL the stores share: quoted names and literals, a window of days ``[first, end)``, and the
answer to a per-day count."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa


def quote_ident(name: str) -> str:
    """A SQL identifier, quoted so that no name (``ny-taxi``, ``"; drop``) can break out of it."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def days_between(column: str, first: dt.date, end: dt.date) -> str:
    """``column`` (already quoted) in ``[first, end)``. The bounds are dates, never user text."""
    return f"{column} >= DATE '{first.isoformat()}' AND {column} < DATE '{end.isoformat()}'"


def per_day_query(table: str, day_column: str, first: dt.date, end: dt.date, as_text: str) -> str:
    """Rows per day of ``table`` (already quoted) in ``[first, end)``, answered as ``day, n``:
    grouped by the date, then only the few dates formatted (``as_text``, with ``{}`` for the
    column), not every row.
    """
    column = quote_ident(day_column)
    return (
        f"SELECT {as_text.format(column)} AS day, n FROM (SELECT {column}, count(*) AS n FROM {table} "
        f"WHERE {days_between(column, first, end)} GROUP BY 1) AS days"
    )


def per_day(counted: pa.Table | None) -> dict[str, int]:
    """A ``day, n`` count query's answer as day (``2021-01-15``) → rows; none where no table."""
    if counted is None:
        return {}
    return dict(zip(counted.column("day").to_pylist(), counted.column("n").to_pylist(), strict=True))
