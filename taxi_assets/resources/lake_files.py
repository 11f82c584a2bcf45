"""Files in the lake: written a batch at a time so readers see the old file or the new one, listed,
read back a batch at a time."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from taxi_assets.batches import Batches, read_ahead
from taxi_assets.errors import TaxiError
from taxi_assets.schema import WITHOUT_DICTIONARY
from taxi_assets.transform import to_pandas
from taxi_assets.trip_files import parquet_batches, parquet_file

# zstd writes as fast as snappy here and its files are smaller and quicker to read back.
_COMPRESSION = "zstd"
T = TypeVar("T")


class LakeError(TaxiError):
    """The lake cannot be reached, or holds no data for what was asked."""


@functools.cache
def _pandas_metadata(schema: pa.Schema) -> dict[bytes, bytes] | None:
    """The pandas schema metadata ``from_pandas`` would have added, so that ``pd.read_parquet``
    of a lake file gives back nullable integers and strings whether the rows came from pandas or not.
    """
    return pa.Schema.from_pandas(to_pandas(schema.empty_table()), preserve_index=False).metadata


def with_pandas_metadata(schema: pa.Schema) -> pa.Schema:
    return schema if schema.metadata else schema.with_metadata(_pandas_metadata(schema))


@dataclass(frozen=True)
class LakeLocation:
    """An opened lake: the filesystem, the root path on it, and the URI users know it by."""

    fs: pafs.FileSystem
    root: str
    base_uri: str

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def uri(self, path: str) -> str:
        return self.base_uri + path[len(self.root) :]

    def write(self, path: str, rows: pa.Table | Batches) -> int:
        """Write one parquet file, a batch at a time, so that readers see the old file or the new one,
        never half of one; its size.

        The file is written under a hidden temporary name and moved into place (a rename
        locally, copy and delete on GCS). Writing straight to the name is not enough on GCS:
        a write that fails midway still closes its upload and publishes a truncated object. An
        error while the rows are read (a bad row late in a month's file) leaves the old file too.
        """
        return self.publish(self.stage(path, rows), path)

    def stage(self, path: str, rows: pa.Table | Batches) -> str:
        """``rows`` written, a batch at a time, under a hidden name beside ``path``, which
        :meth:`publish` moves into place; that name.
        """
        rows = Batches.of(rows)
        with self.staged(path, rows.schema) as staged:
            for batch in read_ahead(rows):
                staged.write(batch)
        return staged.tmp

    @contextlib.contextmanager
    def staged(self, path: str, schema: pa.Schema) -> Iterator[Staged]:
        """A parquet file being written under a hidden name beside ``path``: closed when the block
        ends, removed if it ends by an error; :meth:`publish` then moves it into place.
        """
        tmp = self.temporary(path)
        staged = Staged(
            self,
            tmp,
            self.written(
                tmp,
                pq.ParquetWriter,
                tmp,
                with_pandas_metadata(schema),
                filesystem=self.fs,
                compression=_COMPRESSION,
                use_dictionary=[name for name in schema.names if name not in WITHOUT_DICTIONARY],
            ),
        )
        try:
            yield staged
            self.written(tmp, staged.writer.close)
        except BaseException:
            with contextlib.suppress(Exception):
                staged.writer.close()
            self.discard(tmp)
            raise

    def temporary(self, path: str) -> str:
        """A hidden name beside ``path`` to write it under; its folder is made if need be."""
        parent = path.rsplit("/", 1)[0]
        if isinstance(self.fs, pafs.LocalFileSystem):
            try:
                self.fs.create_dir(parent, recursive=True)
            except OSError as exc:
                raise LakeError(f"TAXI_LAKE_URI {self.base_uri!r}: cannot create {parent}: {exc}") from exc
        return f"{parent}/.{uuid.uuid4().hex}.tmp"

    def written(self, tmp: str, write: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``write(*args, **kwargs)`` to ``tmp``, an unwritable lake named by its setting."""
        try:
            return write(*args, **kwargs)
        except OSError as exc:
            raise LakeError(f"TAXI_LAKE_URI {self.base_uri!r}: cannot write {self.uri(tmp)}: {exc}") from exc

    def publish(self, tmp: str, path: str) -> int:
        """``tmp`` moved to ``path``, replacing what was there; the file's size."""
        try:
            self.fs.move(tmp, path)
        except BaseException as exc:
            self.discard(tmp)
            if isinstance(exc, OSError):
                raise LakeError(
                    f"TAXI_LAKE_URI {self.base_uri!r}: cannot write {self.uri(path)}: {exc}"
                ) from exc
            raise
        return self.fs.get_file_info(path).size

    def discard(self, tmp: str) -> None:
        """Removes a temporary file, if it got as far as existing; the error that got us here is
        the one worth raising.
        """
        with contextlib.suppress(OSError):
            if self.fs.get_file_info(tmp).type == pafs.FileType.File:
                self.fs.delete_file(tmp)

    def files(self, directory: str) -> list[str]:
        selector = pafs.FileSelector(directory, allow_not_found=True)
        return [i.path for i in self.fs.get_file_info(selector) if i.type == pafs.FileType.File]

    def _must_exist(self, path: str, what: str) -> None:
        if self.fs.get_file_info(path).type != pafs.FileType.File:
            raise LakeError(f"{what} is not in the lake yet (missing {self.uri(path)}): materialise it first")

    def read(self, path: str, what: str, columns: Sequence[str] | None = None) -> Batches:
        """The rows of the file at ``path`` (only ``columns``, if given), read a batch at a time
        when asked for; the file must exist. Its schema and row count come from its footer.
        """
        self._must_exist(path, what)
        parquet = parquet_file(path, self.fs)
        schema = parquet.physical_schema
        if columns is not None:
            schema = pa.schema([schema.field(name) for name in columns])
        return Batches(schema, lambda: parquet_batches(parquet, columns), parquet.metadata.num_rows)


@dataclass(frozen=True)
class Staged:
    """A parquet file of the lake being written under its temporary name ``tmp``."""

    lake: LakeLocation
    tmp: str
    writer: pq.ParquetWriter

    def write(self, batch: pa.RecordBatch) -> None:
        self.lake.written(self.tmp, self.writer.write_batch, batch)
