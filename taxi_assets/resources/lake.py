"""The lake: parquet files under one URI, a local folder by default, ``gs://bucket/prefix`` in the cloud.

Layout (``{base}`` is the lake URI; ``{stage}/{name}`` is the asset key):
- monthly assets: ``{base}/{stage}/{name}/YYYY-MM.parquet`` (the course's one file per month);
- daily assets with ``partition_expr`` metadata: a hive dataset
  ``{base}/{stage}/{name}/{partition_expr}=YYYY-MM-DD/part-0.parquet``. The date lives only in
  the path, so pyarrow, DuckDB and BigQuery external tables all read it as a partition column.
  A day with no trips gets a file with no rows, so "empty" and "never written" differ.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pydantic import Field, PrivateAttr

from taxi_assets.chunks import DayCounts, MonthChunk, MonthChunks, by_month
from taxi_assets.metadata import descriptions_of, frame_metadata
from taxi_assets.partitions import days_in
from taxi_assets.resources.google import key_file, load_key_file
from taxi_assets.transform import to_pandas

PART_FILE = "part-0.parquet"
_EPOCH = dt.date(1970, 1, 1)
# zstd writes as fast as snappy here and its files are smaller and quicker to read back.
_COMPRESSION = "zstd"
# Day files are written concurrently: parquet encoding and uploads release the GIL.
_WRITERS = max(2, os.cpu_count() or 1)


@functools.cache
def _pandas_metadata(schema: pa.Schema) -> dict[bytes, bytes] | None:
    """The pandas schema metadata ``from_pandas`` would have added, so that ``pd.read_parquet``
    of a lake file gives back nullable integers and strings whether the rows came from pandas or not.
    """
    return pa.Schema.from_pandas(to_pandas(schema.empty_table()), preserve_index=False).metadata


def as_table(obj: pa.Table | pd.DataFrame) -> pa.Table:
    """Arrow as it is, pandas converted; either way with the pandas metadata pandas readers use."""
    table = obj if isinstance(obj, pa.Table) else pa.Table.from_pandas(obj, preserve_index=False)
    if table.schema.metadata is None:
        table = table.replace_schema_metadata(_pandas_metadata(table.schema))
    return table


def _days_key(uri: str, days: Sequence[dt.date]) -> str:
    return f"{uri}#{days[0]}/{days[-1]}/{len(days)}"


class LakeError(Exception):
    """The lake cannot be reached, or holds no data for what was asked."""


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
        """Write one file so that readers see the old file or the new one, never half of one.

        The file is written under a hidden temporary name and moved into place (a rename
        locally, copy and delete on GCS). Writing straight to the name is not enough on GCS:
        a write that fails midway still closes its upload and publishes a truncated object.
        """
        parent = path.rsplit("/", 1)[0]
        if isinstance(self.fs, pafs.LocalFileSystem):
            self.fs.create_dir(parent, recursive=True)
        tmp = f"{parent}/.{uuid.uuid4().hex}.tmp"
        try:
            pq.write_table(table, tmp, filesystem=self.fs, compression=_COMPRESSION)
            self.fs.move(tmp, path)
        except BaseException:
            if self.fs.get_file_info(tmp).type == pafs.FileType.File:
                self.fs.delete_file(tmp)
            raise
        return self.fs.get_file_info(path).size

    def files(self, directory: str) -> list[str]:
        selector = pafs.FileSelector(directory, allow_not_found=True)
        return [i.path for i in self.fs.get_file_info(selector) if i.type == pafs.FileType.File]

    def day_files(self, base: str, expr: str, days: Sequence[dt.date]) -> list[str]:
        """The parquet files of ``days`` of the hive dataset at ``base``; every day must exist."""
        files, missing = [], []
        for day in days:
            found = [p for p in self.files(f"{base}/{expr}={day.isoformat()}") if p.endswith(".parquet")]
            files += found
            if not found:
                missing.append(day.isoformat())
        if missing:
            raise LakeError(
                f"{self.uri(base)} has no data for {expr} = {', '.join(missing[:5])}"
                f"{' …' if len(missing) > 5 else ''}: materialise those days first"
            )
        return files

    def read_days(self, base: str, expr: str, days: Sequence[dt.date]) -> pa.Table:
        """The rows of ``days`` of the hive dataset at ``base``; every day must have been written."""
        partitioning = ds.partitioning(pa.schema([(expr, pa.date32())]), flavor="hive")
        dataset = ds.dataset(
            self.day_files(base, expr, days),
            filesystem=self.fs,
            format="parquet",
            partitioning=partitioning,
            partition_base_dir=base,
        )
        return dataset.to_table()

    def count_days(self, base: str, expr: str, days: Sequence[dt.date]) -> dict[str, int]:
        """Rows per day from the parquet footers alone: no row is read."""
        counts = {day.isoformat(): 0 for day in days}
        dataset = ds.dataset(self.day_files(base, expr, days), filesystem=self.fs, format="parquet")
        for fragment in dataset.get_fragments():
            day = fragment.path.rsplit(f"{expr}=", 1)[1].split("/", 1)[0]
            counts[day] += fragment.count_rows()
        return counts

    def read_files(self, paths: Sequence[str], what: str) -> pa.Table:
        infos = self.fs.get_file_info(list(paths))
        missing = [self.uri(i.path) for i in infos if i.type != pafs.FileType.File]
        if missing:
            raise LakeError(
                f"{what} is not in the lake yet (missing {', '.join(missing)}): materialise it first"
            )
        return pa.concat_tables([pq.read_table(p, filesystem=self.fs) for p in paths])


# GCS bucket names: 3-63 characters of lowercase letters, digits, - _ and ., starting and ending
# with a letter or digit.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_GCS_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"


def _access_token(key_path: str, setting: str) -> dict[str, object]:
    """A short-lived token from a key file; pyarrow's GCS client takes tokens, not key files."""
    import google.auth.exceptions
    import google.auth.transport.requests

    credentials = load_key_file(key_path, setting, [_GCS_SCOPE], LakeError)
    try:
        credentials.refresh(google.auth.transport.requests.Request())
    except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
        raise LakeError(f"{setting}: {key_path!r} is not a usable Google credentials file: {exc}") from exc
    expiry = credentials.expiry.replace(tzinfo=dt.UTC) if credentials.expiry else None
    return {"access_token": credentials.token, "credential_token_expiration": expiry}


class ParquetLake(dg.ConfigurableIOManager):
    """Stores DataFrames as parquet in the lake, replacing exactly the partitions it writes."""

    base_uri: str = Field(
        description="Where the lake lives: a folder, a file:// URI or gs://bucket/prefix. Env: TAXI_LAKE_URI."
    )
    gcs_key_path: str | None = Field(
        default=None,
        description="Service-account key file for gs:// (env GOOGLE_SERVICE_ACC_KEY_FILEPATH); unset, "
        "Google's default credentials (GOOGLE_APPLICATION_CREDENTIALS, metadata server) apply.",
    )
    gcs_endpoint: str | None = Field(
        default=None,
        description="Another GCS endpoint, e.g. http://127.0.0.1:9023 for an emulator "
        "(env GCS_ENDPOINT_URL); without a key, it is used anonymously.",
    )
    gcp_project: str | None = Field(default=None, description="GCP project id. Env: GCP_PROJECT.")

    # Monthly files (and a month of day files) this run wrote, until a later step of the run takes
    # them instead of reading them back: on the in-process executor a run's steps share this
    # object. Each run gets a fresh copy of the IO manager; its teardown drops what no step took.
    _handed_over: dict[str, pa.Table] = PrivateAttr(default_factory=dict)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._handed_over.clear()

    def open(self) -> LakeLocation:
        """The one place that turns the setting into a filesystem."""
        uri = self.base_uri.rstrip("/")
        if uri.startswith("gs://"):
            return self._open_gcs(uri)
        if "://" not in uri:
            uri = Path(uri).expanduser().resolve().as_uri()
        try:
            fs, root = pafs.FileSystem.from_uri(uri)
        except (pa.ArrowInvalid, OSError) as exc:
            raise LakeError(f"TAXI_LAKE_URI {self.base_uri!r} is not a usable lake location: {exc}") from exc
        return LakeLocation(fs, root.rstrip("/"), uri.removeprefix("file://"))

    def _open_gcs(self, uri: str) -> LakeLocation:
        root = uri.removeprefix("gs://")
        bucket = root.split("/", 1)[0]
        if not _BUCKET_NAME.match(bucket):
            raise LakeError(
                f"TAXI_LAKE_URI {self.base_uri!r}: {bucket!r} is not a valid GCS bucket name "
                "(3-63 lowercase letters, digits, '-', '_' or '.')"
            )
        options: dict[str, object] = {"project_id": self.gcp_project}
        if self.gcs_endpoint:
            endpoint = urllib.parse.urlparse(self.gcs_endpoint)
            options |= {"scheme": endpoint.scheme or "https", "endpoint_override": endpoint.netloc}
        key = key_file(self.gcs_key_path)
        if key:
            options |= _access_token(*key)
        elif self.gcs_endpoint:
            options["anonymous"] = True
        fs = pafs.GcsFileSystem(**options)
        try:
            found = fs.get_file_info(bucket).type != pafs.FileType.NotFound
        except OSError as exc:
            raise LakeError(
                f"TAXI_LAKE_URI {self.base_uri!r}: cannot reach bucket {bucket!r}: {exc}"
            ) from exc
        if not found:
            raise LakeError(
                f"TAXI_LAKE_URI {self.base_uri!r}: bucket {bucket!r} does not exist "
                "(or these credentials cannot see it); create it first (see terraform/)"
            )
        return LakeLocation(fs, root, uri)

    @staticmethod
    def _partition_expr(context: dg.OutputContext | None) -> str | None:
        return (context.definition_metadata or {}).get("partition_expr") if context else None

    def handle_output(self, context: dg.OutputContext, obj: pa.Table | pd.DataFrame | MonthChunks) -> None:
        lake = self.open()
        base = lake.path(*context.asset_key.path)
        expr = self._partition_expr(context)
        metadata: dict[str, object] = {}
        if isinstance(obj, MonthChunks):
            if not (expr and context.has_asset_partitions):
                raise LakeError(f"{context.asset_key.to_user_string()}: month chunks need a partition_expr")
            owned = set(days_in(context.asset_partitions_time_window))
            written, rows = {}, 0
            for days, month in obj.tables():
                table = as_table(month)
                written |= self._write_days(lake, base, table, expr, [d for d in days if d in owned])
                if not metadata or (rows == 0 and len(table)):
                    metadata = frame_metadata(table, descriptions_of(context.definition_metadata or {}))
                rows += len(table)
                if len(obj.chunks) == 1:
                    # A single month (not a long range, which would then sit in memory whole),
                    # with the day last, as the hive dataset reads back.
                    day = table.schema.field(expr)
                    as_read = table.drop_columns([expr]).append_column(day, table.column(expr))
                    self._handed_over[_days_key(lake.uri(base), days)] = as_read
                del month, table  # before the next month loads, not after
            metadata["dagster/partition_row_count"] = rows
        elif expr and context.has_asset_partitions:
            table = as_table(obj)
            written = self._write_days(lake, base, table, expr, days_in(context.asset_partitions_time_window))
        else:
            if context.has_asset_partitions and len(context.asset_partition_keys) > 1:
                raise LakeError(
                    f"{context.asset_key.to_user_string()} keeps one file per partition: "
                    f"materialise one partition per run (got {len(context.asset_partition_keys)})"
                )
            name = context.partition_key if context.has_asset_partitions else "data"
            path, table = f"{base}/{name}.parquet", as_table(obj)
            written = {lake.uri(path): lake.write(path, table)}
            self._handed_over[lake.uri(path)] = table
        context.add_output_metadata(
            {
                **metadata,
                "lake_uri": dg.MetadataValue.path(lake.uri(base)),
                "files_written": len(written),
                "bytes_written": sum(written.values()),
                "files": dg.MetadataValue.md("\n".join(f"- `{u}` ({b:,} B)" for u, b in written.items())),
            }
        )

    @staticmethod
    def _write_days(
        lake: LakeLocation, base: str, table: pa.Table, expr: str, days: list[dt.date]
    ) -> dict[str, int]:
        owned = pa.array(days, type=pa.date32())
        if not pc.all(pc.is_in(table.column(expr), value_set=owned)).as_py() and len(table):
            raise LakeError(
                f"{lake.uri(base)}: rows with {expr} outside {days[0]} … {days[-1]} would land in "
                "partitions this run does not own"
            )
        keys = table.column(expr).cast(pa.int32()).to_numpy()
        data = table.drop_columns([expr])
        in_day_order = bool(np.all(keys[1:] >= keys[:-1]))
        if not in_day_order:
            # Each day is taken by its writer: no sorted copy of the whole table is ever made.
            order = pc.sort_indices(keys)
            keys = keys[order.to_numpy()]

        def rows(first: int, length: int) -> pa.Table:
            # A cleaned month comes in pickup order: its days are slices, no row is copied.
            return data.slice(first, length) if in_day_order else data.take(order.slice(first, length))

        def write_day(day: dt.date) -> tuple[str, int]:
            ordinal = (day - _EPOCH).days
            lo, hi = np.searchsorted(keys, [ordinal, ordinal + 1])
            day_dir = f"{base}/{expr}={day.isoformat()}"
            path = f"{day_dir}/{PART_FILE}"
            size = lake.write(path, rows(lo, hi - lo))
            # Files an earlier writer left beside ours (e.g. the course's write_to_dataset) go.
            for stale in lake.files(day_dir):
                if stale != path:
                    lake.fs.delete_file(stale)
            return lake.uri(path), size

        with ThreadPoolExecutor(_WRITERS) as pool:
            return dict(pool.map(write_day, days))

    def load_input(self, context: dg.InputContext) -> pa.Table | pd.DataFrame | MonthChunks | DayCounts:
        lake = self.open()
        base = lake.path(*context.asset_key.path)
        expr = self._partition_expr(context.upstream_output)
        what = context.asset_key.to_user_string()
        wanted = context.dagster_type.typing_type
        # Assets that take Arrow tables get them as read; others get pandas.
        convert = (lambda table: table) if wanted is pa.Table else to_pandas
        if expr and context.has_asset_partitions:
            days = days_in(context.asset_partitions_time_window)
            if wanted is DayCounts:
                return DayCounts(lake.count_days(base, expr, days))
            if wanted is MonthChunks:
                return MonthChunks(
                    tuple(
                        MonthChunk(month, lambda month=month: self._read_days(lake, base, expr, month))
                        for month in by_month(days)
                    )
                )
            return convert(lake.read_days(base, expr, days))
        if context.has_asset_partitions:
            keys = context.asset_partition_keys
            if wanted is MonthChunks:
                window = context.asset_partitions_def.time_window_for_partition_key
                return MonthChunks(
                    tuple(
                        MonthChunk(
                            tuple(days_in(window(k))),
                            lambda k=k: lake.read_files([f"{base}/{k}.parquet"], what),
                        )
                        for k in keys
                    )
                )
            return convert(self._read_files(lake, [f"{base}/{k}.parquet" for k in keys], what))
        return convert(self._read_files(lake, [f"{base}/data.parquet"], what))

    def _read_days(self, lake: LakeLocation, base: str, expr: str, days: Sequence[dt.date]) -> pa.Table:
        return self._handed_or_read(_days_key(lake.uri(base), days), lambda: lake.read_days(base, expr, days))

    def _read_files(self, lake: LakeLocation, paths: list[str], what: str) -> pa.Table:
        key = lake.uri(paths[0]) if len(paths) == 1 else ""
        return self._handed_or_read(key, lambda: lake.read_files(paths, what))

    def _handed_or_read(self, key: str, read: Callable[[], pa.Table]) -> pa.Table:
        """What this run wrote under ``key``, taken as it was written; else read back from the lake."""
        table = self._handed_over.pop(key, None)
        return table if table is not None else read()
