"""Files in the lake: written so readers see the old file or the new one, listed, read back."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from taxi_assets.errors import TaxiError
from taxi_assets.transform import to_pandas

# zstd writes as fast as snappy here and its files are smaller and quicker to read back.
_COMPRESSION = "zstd"


class LakeError(TaxiError):
    """The lake cannot be reached, or holds no data for what was asked."""


@functools.cache
def _pandas_metadata(schema: pa.Schema) -> dict[bytes, bytes] | None:
    """The pandas schema metadata ``from_pandas`` would have added, so that ``pd.read_parquet``
    of a lake file gives back nullable integers and strings whether the rows came from pandas or not.
    """
    return pa.Schema.from_pandas(to_pandas(schema.empty_table()), preserve_index=False).metadata


def with_pandas_metadata(table: pa.Table) -> pa.Table:
    return table if table.schema.metadata else table.replace_schema_metadata(_pandas_metadata(table.schema))


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

    def write(self, path: str, table: pa.Table) -> int:
        """Write one parquet file so that readers see the old file or the new one, never half of one.

        The file is written under a hidden temporary name and moved into place (a rename
        locally, copy and delete on GCS). Writing straight to the name is not enough on GCS:
        a write that fails midway still closes its upload and publishes a truncated object.
        """
        parent = path.rsplit("/", 1)[0]
        if isinstance(self.fs, pafs.LocalFileSystem):
            try:
                self.fs.create_dir(parent, recursive=True)
            except OSError as exc:
                raise LakeError(f"TAXI_LAKE_URI {self.base_uri!r}: cannot create {parent}: {exc}") from exc
        tmp = f"{parent}/.{uuid.uuid4().hex}.tmp"
        try:
            pq.write_table(with_pandas_metadata(table), tmp, filesystem=self.fs, compression=_COMPRESSION)
            self.fs.move(tmp, path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                if self.fs.get_file_info(tmp).type == pafs.FileType.File:
                    self.fs.delete_file(tmp)
            if isinstance(exc, OSError):
                raise LakeError(
                    f"TAXI_LAKE_URI {self.base_uri!r}: cannot write {self.uri(path)}: {exc}"
                ) from exc
            raise
        return self.fs.get_file_info(path).size

    def files(self, directory: str) -> list[str]:
        selector = pafs.FileSelector(directory, allow_not_found=True)
        return [i.path for i in self.fs.get_file_info(selector) if i.type == pafs.FileType.File]

    def read(self, paths: Sequence[str], what: str, columns: Sequence[str] | None = None) -> pa.Table:
        """The rows of ``paths`` (only ``columns``, if given), every one of which must exist."""
        infos = self.fs.get_file_info(list(paths))
        missing = [self.uri(i.path) for i in infos if i.type != pafs.FileType.File]
        if missing:
            raise LakeError(
                f"{what} is not in the lake yet (missing {', '.join(missing)}): materialise it first"
            )
        return pa.concat_tables([pq.read_table(p, filesystem=self.fs, columns=columns) for p in paths])
