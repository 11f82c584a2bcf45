"""The lake: parquet files under one URI, a local folder by default, ``gs://bucket/prefix`` in the cloud.

Layout (``{base}`` is the lake URI; ``{service}/{stage}`` is the asset key):
- a month of a monthly asset: ``{base}/{service}/{stage}/YYYY-MM.parquet`` (the course's one
  file per month);
- the daily dataset: ``{base}/{service}/{stage}/pickup_date=YYYY-MM-DD/part-0.parquet``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from taxi_assets.batches import Batches
from taxi_assets.constants import DEFAULT_LAKE_DIR
from taxi_assets.resources import day_files
from taxi_assets.resources.gcs import open_gcs
from taxi_assets.resources.lake_files import LakeError, LakeLocation
from taxi_assets.resources.settings import setting


class Lake(dg.ConfigurableResource):
    """Where the lake lives, and the few things the assets do with it."""

    base_uri: str = setting(
        "TAXI_LAKE_URI", str(DEFAULT_LAKE_DIR), "A folder, a file:// URI or gs://bucket/prefix."
    )
    gcs_key_path: str | None = setting(
        "GOOGLE_SERVICE_ACC_KEY_FILEPATH",
        None,
        "Service-account key file for gs://; unset, Google's default credentials "
        "(GOOGLE_APPLICATION_CREDENTIALS, metadata server) apply.",
    )
    gcs_endpoint: str | None = setting(
        "GCS_ENDPOINT_URL",
        None,
        "Another GCS endpoint, e.g. http://127.0.0.1:9023 for an emulator; without a key, used anonymously.",
    )
    gcp_project: str | None = setting("GCP_PROJECT", None, "GCP project id.")

    def _uri(self) -> str:
        """The setting as a URI: a folder becomes an absolute file:// URI."""
        uri = self.base_uri.rstrip("/")
        return Path(uri).expanduser().resolve().as_uri() if "://" not in uri else uri

    def open(self) -> LakeLocation:
        """The one place that turns the setting into a filesystem."""
        uri = self._uri()
        if uri.startswith("gs://"):
            return open_gcs(
                uri, key_path=self.gcs_key_path, endpoint=self.gcs_endpoint, project=self.gcp_project
            )
        try:
            fs, root = pafs.FileSystem.from_uri(uri)
        except (pa.ArrowInvalid, OSError) as exc:
            raise LakeError(f"TAXI_LAKE_URI {self.base_uri!r} is not a usable lake location: {exc}") from exc
        return LakeLocation(fs, root.rstrip("/"), uri.removeprefix("file://"))

    def uri(self, parts: Sequence[str]) -> str:
        """Where ``parts`` are, as users know the lake; a string only, the lake is not reached."""
        return "/".join([self._uri().removeprefix("file://"), *parts])

    def write_months(
        self, parts: Sequence[str], months: Iterable[tuple[str, pa.Table | Batches]]
    ) -> dict[str, tuple[str, int]]:
        """Each ``{parts}/{month}.parquet`` replaced by its rows, written a batch at a time and moved
        into place once every month is written: an error in any month leaves every file as it was.
        Each month's URI and size.
        """
        lake = self.open()
        staged: dict[str, tuple[str, str]] = {}
        written: dict[str, tuple[str, int]] = {}
        try:
            for month, rows in months:
                path = lake.path(*parts, f"{month}.parquet")
                staged[month] = (lake.stage(path, rows), path)
            for month, (tmp, path) in staged.items():
                written[month] = (lake.uri(path), lake.publish(tmp, path))
        except BaseException:
            # What is staged and not yet moved into place (publish removes its own file on failure).
            for month, (tmp, _) in staged.items():
                if month not in written:
                    lake.discard(tmp)
            raise
        return written

    def write_file(self, parts: Sequence[str], name: str, rows: pa.Table | Batches) -> dict[str, int]:
        """``{parts}/{name}.parquet`` replaced by ``rows`` (readers see the old file or the new one);
        its URI and size.
        """
        lake = self.open()
        path = lake.path(*parts, f"{name}.parquet")
        return {lake.uri(path): lake.write(path, rows)}

    def read_file(self, parts: Sequence[str], name: str) -> pa.Table | None:
        """``{parts}/{name}.parquet`` whole, or None if it was never written (a small file: a lookup)."""
        lake = self.open()
        path = lake.path(*parts, f"{name}.parquet")
        if lake.fs.get_file_info(path).type != pafs.FileType.File:
            return None
        rows = lake.read(path, "/".join([*parts, name]))
        return pa.Table.from_batches(list(rows), schema=rows.schema)

    def read_month(self, parts: Sequence[str], month: str, columns: Sequence[str] | None = None) -> Batches:
        """The month's rows (only ``columns``, if given), read a batch at a time when asked for."""
        lake = self.open()
        return lake.read(lake.path(*parts, f"{month}.parquet"), "/".join(parts) + f" {month}", columns)

    def month_day_counts(self, parts: Sequence[str], month: str, column: str) -> dict[str, int]:
        """Rows per day (``2021-01-15``) of a month's file, reading its day column alone."""
        counts: dict[str, int] = {}
        for batch in self.read_month(parts, month, [column]):
            # Counted by date, then the few dates named: formatting every row costs a second a month.
            for row in pc.value_counts(batch.column(0)).to_pylist():
                day = str(row["values"])  # 2021-01-15
                counts[day] = counts.get(day, 0) + row["counts"]
        return counts

    def replace_days(
        self, parts: Sequence[str], column: str, rows: pa.Table | Batches, days: Sequence[dt.date]
    ) -> dict[str, int]:
        """Each of ``days`` of the dataset at ``parts`` replaced by its ``rows``; URIs and sizes."""
        lake = self.open()
        return day_files.write_days(lake, lake.path(*parts), Batches.of(rows), column, days)

    def read_days(self, parts: Sequence[str], column: str, days: Sequence[dt.date]) -> Batches:
        """The rows of ``days``, read a batch at a time when asked for."""
        lake = self.open()
        return day_files.read_days(lake, lake.path(*parts), column, days)

    def day_counts(self, parts: Sequence[str], column: str, days: Sequence[dt.date]) -> dict[str, int]:
        """Rows per written day of ``days``, from the files' footers."""
        lake = self.open()
        return day_files.count_days(lake, lake.path(*parts), column, days)
