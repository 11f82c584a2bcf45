"""Loading a month into PostgreSQL: binary COPY over several connections, then a partition swap.

The month goes into a table of its own beside the trips table, with binary ``COPY`` streamed from
Arrow by ADBC over several connections at once, each taking the next batch of the month as it
is read; one short transaction then detaches and drops the month's old partition and attaches
the new one. Readers see the old month or the new one, and a failed load changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import adbc_driver_manager
import pyarrow as pa

from taxi_assets.batches import Batches, read_ahead
from taxi_assets.errors import TaxiError
from taxi_assets.resources.sql import days_between, quote_ident, quote_literal

if TYPE_CHECKING:
    from taxi_assets.resources.postgres import PostgresResource

DDL_LOCK = 7_142_021  # advisory lock id: parallel steps must not race on CREATE SCHEMA/TABLE/ALTER
_LOAD_LOCK = 7_142_022  # with the partition's name: one load of a month at a time
# PostgreSQL runs one COPY per connection on one core: a month goes in over several at once, so a
# server with cores to spare takes it faster (on a 2-core machine shared with the client, two
# connections take the same time as one).
_COPY_CONNECTIONS = max(2, min(4, os.cpu_count() or 1))
# Below this many rows a connection's share costs more to set up than it saves.
_ROWS_PER_CONNECTION = 200_000
_ROWS_PER_BATCH = 65_536


class PostgresError(TaxiError):
    """PostgreSQL could not be reached or refused the load."""


def partition_name(name: str, first: dt.date, end: dt.date) -> str:
    """The table holding one window of ``name``: ``yellow_cab_data_2021_01`` for a month."""
    if first.day == 1 and end == (first + dt.timedelta(days=32)).replace(day=1):
        return f"{name}_{first:%Y_%m}"
    return f"{name}_{first:%Y%m%d}_{end:%Y%m%d}"


def load_month(
    pg: PostgresResource, name: str, column: str, rows: Batches, first: dt.date, end: dt.date
) -> int:
    """``[first, end)`` of the partitioned table ``name`` replaced by ``rows``, swapped in at once;
    how many rows were loaded.
    """
    partition = partition_name(name, first, end)
    loading = f"{partition}_loading"
    window = days_between(quote_ident(column), first, end)
    # One load of a month at a time, whoever starts it; the lock goes with the connection, so a
    # load killed midway holds nothing, and the next one drops the table it left.
    with pg.connect(autocommit=True) as lock_conn, lock_conn.cursor() as lock:
        lock.execute(f"SELECT pg_advisory_lock({_LOAD_LOCK}, hashtext({quote_literal(pg.table(partition))}))")
        with pg.connect() as conn, conn.cursor() as cur:
            cur.execute(f"SELECT relkind FROM pg_class WHERE oid = {pg.regclass(name)}")
            if cur.fetchone()[0] != "p":
                # A table from before months were partitions: replaced as it was, in one transaction.
                cur.execute(f"DELETE FROM {pg.table(name)} WHERE {window}")
                shared = _Shared(rows)
                try:
                    _copy(cur, pg, name, shared, name)
                finally:
                    shared.close()
                return shared.count
            _create_loading_table(cur, pg, name, loading, column, window)
        try:
            count = _copy_in_parallel(pg, loading, rows, name)
            _swap_in(pg, name, loading, partition, first, end, count)
        except BaseException:
            _drop_quietly(pg, loading)
            raise
        return count


def _create_loading_table(
    cur: Any, pg: PostgresResource, name: str, loading: str, column: str, window: str
) -> None:
    """An empty table shaped like ``name``, bound to the window; what a killed load left is dropped."""
    cur.execute(f"DROP TABLE IF EXISTS {pg.table(loading)}")
    cur.execute(
        f"CREATE TABLE {pg.table(loading)} (LIKE {pg.table(name)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    # The partition's bounds as constraints: a row outside the window fails its COPY, and
    # ATTACH PARTITION trusts them instead of scanning the month again under its lock.
    cur.execute(
        f"ALTER TABLE {pg.table(loading)} ALTER COLUMN {quote_ident(column)} SET NOT NULL, "
        f"ADD CHECK ({window})"
    )


def _swap_in(
    pg: PostgresResource,
    name: str,
    loading: str,
    partition: str,
    first: dt.date,
    end: dt.date,
    count: int,
) -> None:
    """In one transaction: the window's old partition detached and dropped, ``loading`` attached."""
    with pg.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT pg_advisory_xact_lock({DDL_LOCK})")
        cur.execute(f"SELECT {pg.regclass(partition)} IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute(f"ALTER TABLE {pg.table(name)} DETACH PARTITION {pg.table(partition)}")
            cur.execute(f"DROP TABLE {pg.table(partition)}")
        cur.execute(f"ALTER TABLE {pg.table(loading)} RENAME TO {quote_ident(partition)}")
        try:
            cur.execute(
                f"ALTER TABLE {pg.table(name)} ATTACH PARTITION {pg.table(partition)} "
                f"FOR VALUES FROM (DATE '{first.isoformat()}') TO (DATE '{end.isoformat()}')"
            )
        except adbc_driver_manager.Error as exc:
            raise _load_failed(pg, name, count, exc) from None


def _load_failed(pg: PostgresResource, name: str, count: int, exc: Exception) -> PostgresError:
    return PostgresError(
        f"loading {count:,} rows into {pg.schema_name}.{name} ({pg.where}) failed; "
        f"the previous rows are kept: {pg.redact(str(exc)).strip()}"
    )


class _Shared:
    """The month's batches, handed out one at a time to whichever connection asks next, counted."""

    def __init__(self, rows: Batches) -> None:
        self.schema = rows.schema
        self._batches = read_ahead(rows)
        self._lock = threading.Lock()
        self.count = 0

    def close(self) -> None:
        """Once no connection reads any more."""
        self._batches.close()

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while True:
            with self._lock:
                batch = next(self._batches, None)
                if batch is None:
                    return
                self.count += batch.num_rows
            # ADBC encodes a whole record batch before sending it: in small slices, encoding
            # overlaps the server's work and stays small.
            for first in range(0, batch.num_rows, _ROWS_PER_BATCH):
                yield batch.slice(first, _ROWS_PER_BATCH)


def _copy(cur: Any, pg: PostgresResource, table: str, rows: _Shared, name: str) -> None:
    """Binary COPY into ``table`` of the batches ``rows`` hands this connection, streamed by ADBC."""
    try:
        cur.adbc_ingest(
            table,
            pa.RecordBatchReader.from_batches(rows.schema, iter(rows)),
            mode="append",
            db_schema_name=pg.schema_name,
        )
    except adbc_driver_manager.Error as exc:
        raise _load_failed(pg, name, rows.count, exc) from None


def _copy_in_parallel(pg: PostgresResource, table: str, rows: Batches, name: str) -> int:
    """``rows`` into ``table`` over ``_COPY_CONNECTIONS`` connections, each committing what it took:
    the server runs one COPY per connection on one core, and is the step's whole cost. A month
    known to be small goes over one.
    """
    small = rows.num_rows is not None and rows.num_rows < 2 * _ROWS_PER_CONNECTION
    parts = 1 if small else _COPY_CONNECTIONS
    shared = _Shared(rows)

    def copy_part() -> None:
        with pg.connect() as conn, conn.cursor() as cur:
            _copy(cur, pg, table, shared, name)

    try:
        with ThreadPoolExecutor(parts) as pool:
            for done in [pool.submit(copy_part) for _ in range(parts)]:
                done.result()
    finally:
        shared.close()  # a failed COPY leaves the rest unread: the reading stops too
    return shared.count


def _drop_quietly(pg: PostgresResource, table: str) -> None:
    """Removes a half-loaded table; the error that got us here is the one worth raising."""
    with suppress(PostgresError, adbc_driver_manager.Error), pg.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {pg.table(table)}")
