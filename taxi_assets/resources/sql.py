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


def per_day(counted: pa.Table | None) -> dict[str, int]:
    """A ``day, n`` count query's answer as day (``2021-01-15``) → rows; none where no table."""
    if counted is None:
        return {}
    return dict(zip(counted.column("day").to_pylist(), counted.column("n").to_pylist(), strict=True))
