"""Rows as record batches, read when asked for: what the assets hand each other.

A month goes from the download through cleaning, the lake and every sink one batch at a time, so
a run's memory does not grow with the month's row count: a 15M-row month needs what a 1M-row one
does. A :class:`Batches` is a recipe (a schema and how to read the rows), not the rows; reading it
again reads the rows again, from wherever they are stored.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pyarrow as pa

T = TypeVar("T")
# Rows per batch: big enough that per-batch work is negligible, small enough that a batch and the
# copies made of it are a few tens of MB.
BATCH_ROWS = 262_144
# Rows a preview shows.
HEAD_ROWS = 5


@dataclass(frozen=True)
class Batches:
    """Rows of one ``schema``, read a record batch at a time each time they are iterated."""

    schema: pa.Schema
    read: Callable[[], Iterator[pa.RecordBatch]]
    # Known without reading the rows where they come from a file's footer.
    num_rows: int | None = None

    @classmethod
    def of(cls, rows: pa.Table | pa.RecordBatch | Batches) -> Batches:
        """Rows already in memory (tests, a day's few rows) as batches."""
        if isinstance(rows, Batches):
            return rows
        table = pa.Table.from_batches([rows]) if isinstance(rows, pa.RecordBatch) else rows
        return cls(table.schema, lambda: iter(table.to_batches(max_chunksize=BATCH_ROWS)), table.num_rows)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self.read()

    def map(self, change: Callable[[pa.RecordBatch], pa.RecordBatch]) -> Batches:
        """Each batch through ``change``, which keeps the columns (a filter, say)."""
        return Batches(self.schema, lambda: (change(batch) for batch in self.read()))

    def typed_as(self, schema: pa.Schema) -> Batches:
        """The same rows with ``schema``'s type for each column it has (a table's ``BIGINT`` read
        back as the lake's ``int32``, say); the other columns as they are.
        """
        wanted = {f.name: f.type for f in schema}
        typed = pa.schema(f.with_type(wanted.get(f.name, f.type)) for f in self.schema)
        if typed == self.schema:
            return self
        return Batches(typed, lambda: (batch.cast(typed) for batch in self.read()), self.num_rows)

    def reader(self) -> pa.RecordBatchReader:
        """The rows as Arrow's stream, which DuckDB consumes a batch at a time, read one ahead."""
        return pa.RecordBatchReader.from_batches(self.schema, read_ahead(self))


def rebatched(batches: Iterable[pa.RecordBatch], rows: int | None = None) -> Iterator[pa.RecordBatch]:
    """Batches of about ``rows`` rows (default ``BATCH_ROWS``; the last may be smaller, none is
    empty): small batches (CSV blocks, the few rejected rows of each batch) joined up, so files get
    row groups worth compressing and each day of a batch is a slice worth writing.
    """
    rows = rows or BATCH_ROWS
    waiting: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        waiting.append(batch)
        count += batch.num_rows
        if count >= rows:
            joined, waiting, count = _joined(waiting), [], 0
            yield joined  # and the pieces are let go while it is written
    if waiting:
        yield _joined(waiting)


def _joined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


def read_ahead(batches: Iterable[T]) -> Iterator[T]:
    """``batches`` (or any items), the next one read by a thread of its own while the caller writes
    this one.

    Reading (parsing, decoding, cleaning) and writing (encoding, compressing, sending) both run
    outside the GIL, so on two cores a month takes about the longer of the two rather than their
    sum. One batch ahead, so memory stays bounded; an error in reading is raised here, and a writer
    that stops early stops the reading too (after the batch in hand).
    """
    handoff: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        source = iter(batches)
        try:
            for batch in source:
                if not hand(batch):
                    return
            hand(_DONE)
        except BaseException as error:  # handed to the writer's thread, raised there
            hand(_Raised(error))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name="taxi-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item  # type: ignore[misc]  # neither _DONE nor _Raised: one of the items
    finally:
        stop.set()
        reader.join()


class CountedRows:
    """Counts the rows that pass through and keeps the first few, for a written asset's metadata."""

    def __init__(self, rows: Batches) -> None:
        self.rows = rows
        self.count = 0
        self._head: list[pa.RecordBatch] = []

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for batch in self.rows:
            wanted = HEAD_ROWS - sum(b.num_rows for b in self._head)
            if wanted > 0:
                # Copied out (a take, not a slice): a slice would keep the whole batch's buffers.
                self._head.append(batch.take(pa.array(range(min(wanted, batch.num_rows)), pa.int64())))
            self.count += batch.num_rows
            yield batch

    def batches(self) -> Batches:
        """The same rows, counted as they are read: what a writer takes."""
        return Batches(self.rows.schema, self.__iter__, self.rows.num_rows)

    @property
    def head(self) -> pa.Table:
        return pa.Table.from_batches(self._head, schema=self.rows.schema).slice(0, HEAD_ROWS)
