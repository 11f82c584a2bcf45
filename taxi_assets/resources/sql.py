"""SQL text the stores share: quoted names and literals, and a window of days ``[first, end)``."""

from __future__ import annotations

import datetime as dt


def quote_ident(name: str) -> str:
    """A SQL identifier, quoted so that no name (``ny-taxi``, ``"; drop``) can break out of it."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def days_between(column: str, first: dt.date, end: dt.date) -> str:
    """``column`` (already quoted) in ``[first, end)``. The bounds are dates, never user text."""
    return f"{column} >= DATE '{first.isoformat()}' AND {column} < DATE '{end.isoformat()}'"
