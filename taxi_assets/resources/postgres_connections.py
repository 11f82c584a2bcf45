"""Connections to PostgreSQL through ADBC, opened from one ADBC database per server and process.

ADBC's PostgreSQL driver reads the server's type catalogue whenever a database object is made,
which ``dbapi.connect`` does for every connection: 50-60 ms a connection, where a connection
opened from a database already made takes 4 ms. The few connections of a month's load hardly
notice; a run of 31 days' checks, and a test suite, open hundreds. So the first connection to a
server in a process stays open (idle, in autocommit: it holds no transaction and no lock) and
every later one is ADBC's clone of it (``adbc_clone``: a new server connection sharing the
database object). Connections in autocommit mode are opened whole: a clone always begins in
transactions.
"""

from __future__ import annotations

import os
import threading

from adbc_driver_postgresql import dbapi

_lock = threading.Lock()
# (process, conninfo) → the first connection to that server in that process. A forked child has
# another pid, so it never uses its parent's socket.
_first: dict[tuple[int, str], dbapi.Connection] = {}


def open_connection(conninfo: str, *, autocommit: bool) -> dbapi.Connection:
    """A new DB-API connection to ``conninfo``; the caller closes it."""
    if autocommit:
        return dbapi.connect(conninfo, autocommit=True)
    key = (os.getpid(), conninfo)
    with _lock:
        first = _first.get(key)
        if first is None:
            first = _first[key] = dbapi.connect(conninfo, autocommit=True)
        return first.adbc_clone()
