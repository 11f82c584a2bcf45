"""The warehouse on BigQuery: one table per service, partitioned by day on ``pickup_date`` and
clustered by zone (:data:`CLUSTERED_BY`); with the lake on GCS, an external table over its daily
files beside each (``yellow_trips_external``), to query the lake without a load.

A window of days is replaced atomically: its rows go to a staging table by a load job, then one
``MERGE`` deletes the window's old rows and inserts the new ones, so a reader sees the old days
or the new ones, never neither and never both. (Dagster's stock BigQuery IO manager deletes in one
job and loads in another, so a failed load leaves the days empty, and it upper-cases names.)
Google's libraries are imported only here, when BigQuery is the chosen warehouse.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import Field, PrivateAttr

from taxi_assets import temp_folders
from taxi_assets.batches import Batches, read_ahead
from taxi_assets.constants import DEFAULT_WAREHOUSE_SCHEMA, SERVICES, warehouse_table
from taxi_assets.errors import TaxiError
from taxi_assets.keys import DAILY
from taxi_assets.resources.column_types import bigquery_type
from taxi_assets.resources.google import key_file, load_key_file
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.settings import setting
from taxi_assets.resources.sql import days_between, per_day
from taxi_assets.resources.warehouse import Warehouse

EMULATOR_SETTING = "BIGQUERY_EMULATOR_HOST"  # read by google-cloud-bigquery itself
_SCOPES = ["https://www.googleapis.com/auth/bigquery"]
# https://cloud.google.com/resource-manager/docs/creating-managing-projects (optionally domain-scoped)
_PROJECT_ID = re.compile(r"^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_DATASET_ID = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
_STAGING_LIFETIME = dt.timedelta(hours=6)  # a crashed run's staging table removes itself
# The trips tables' clustering, those of these columns a table has, in this order (BigQuery takes
# up to four): the pickup zone first, as the analytics' marts group by it and the course's
# homework filters on it (PULocationID); the drop-off zone next, for trips between two zones; then
# the course's own week-3 choice, the vendor (VendorID), or for FHV trips the dispatching base.
# A query filtering on a prefix of these reads only the blocks that hold its values, within the
# days its pickup_date filter picks.
CLUSTERED_BY = ("pu_location_id", "do_location_id", "vendor_id", "dispatching_base_num")
EXTERNAL_SUFFIX = "_external"
_SERVICE_OF_TABLE = {warehouse_table(s): s for s in SERVICES}


class BigQueryError(TaxiError):
    """A warehouse failure, worded for the user: it names the setting to change."""


def bigquery_schema(schema: pa.Schema, descriptions: Mapping[str, str]) -> list[Any]:
    from google.cloud import bigquery

    return [
        bigquery.SchemaField(f.name, bigquery_type(f.type), description=descriptions.get(f.name))
        for f in schema
    ]


def with_timestamps(table: pa.Table, tz: str | None) -> pa.Table:
    """Every timestamp column in microseconds with zone ``tz``: UTC going in (parquet timestamps
    without a zone load as DATETIME), none coming back (the lake's wall-clock times).
    """
    return table.cast(
        pa.schema(
            pa.field(f.name, pa.timestamp("us", tz=tz)) if pa.types.is_timestamp(f.type) else f
            for f in table.schema
        )
    )


def _stage(
    rows: Batches, names: list[str], day_column: str, first: dt.date, end: dt.date, table: str, path: str
) -> int:
    """``rows`` written to the parquet file ``path`` as a load job takes them (``names`` in the
    table's order, as it maps columns; timestamps in UTC); how many. Rows outside ``[first, end)``
    fail before anything is loaded.
    """
    count = 0
    with pq.ParquetWriter(
        path, with_timestamps(rows.schema.empty_table(), "UTC").select(names).schema
    ) as out:
        for batch in read_ahead(rows):
            days = batch.column(day_column)
            outside = pc.sum(pc.or_(pc.less(days, first), pc.greater_equal(days, end))).as_py()
            if outside:
                raise BigQueryError(f"{table}: {outside} rows lie outside {first} … {end}; not loaded")
            out.write_table(with_timestamps(pa.Table.from_batches([batch]), "UTC").select(names))
            count += batch.num_rows
    return count


def trips_table_definition(name: str, fields: list[Any], day_column: str) -> Any:
    """The trips table as the loader creates it: partitioned by day on ``day_column``, clustered by
    those of :data:`CLUSTERED_BY` it has.
    """
    from google.cloud import bigquery

    table = bigquery.Table(name, schema=fields)
    table.time_partitioning = bigquery.TimePartitioning(
        type_=bigquery.TimePartitioningType.DAY, field=day_column
    )
    table.clustering_fields = clustering_of(fields)
    return table


def clustering_of(fields: list[Any]) -> list[str] | None:
    """The columns of :data:`CLUSTERED_BY` among ``fields``, in its order; none if it has none."""
    names = {f.name for f in fields}
    return [c for c in CLUSTERED_BY if c in names] or None


def external_table_definition(name: str, daily_folder: str, day_column: str) -> Any:
    """A table over the lake's daily dataset ``daily_folder`` (``gs://…/yellow/daily_trips``): its
    parquet files read where they are, the folder ``pickup_date=YYYY-MM-DD`` as the DATE column
    ``day_column``, so a filter on it reads only those days' files. Its columns are the files' own
    (parquet describes itself), read when the table is defined.
    """
    from google.cloud import bigquery

    config = bigquery.ExternalConfig(bigquery.ExternalSourceFormat.PARQUET)
    config.source_uris = [f"{daily_folder}/*"]
    hive = bigquery.HivePartitioningOptions()
    hive.mode = "CUSTOM"
    hive.source_uri_prefix = f"{daily_folder}/{{{day_column}:DATE}}"
    config.hive_partitioning = hive
    table = bigquery.Table(name)
    table.external_data_configuration = config
    return table


class BigQueryWarehouse(Warehouse):
    """Trips tables in a BigQuery dataset, day-partitioned, each window replaced in one MERGE."""

    project: str = setting("GCP_PROJECT", "", "GCP project id (required).")
    dataset: str = setting("BIGQUERY_DATASET", DEFAULT_WAREHOUSE_SCHEMA, "The dataset (must exist).")
    location: str | None = setting("GOOGLE_LOCATION", None, "The dataset's location.")
    key_file: str | None = setting(
        "GOOGLE_SERVICE_ACC_KEY_FILEPATH",
        None,
        "Service-account key file; unset, GOOGLE_APPLICATION_CREDENTIALS or Google's defaults apply.",
    )
    timeout: float | None = Field(default=None, description="Seconds to wait for a job; unset, no limit.")
    lake_uri: str | None = setting(
        "TAXI_LAKE_URI",
        None,
        "The lake; on gs://, each trips table gets an external table over its daily files.",
    )

    _client: Any = PrivateAttr(default=None)

    def client(self) -> Any:
        """A client on the configured dataset, checked once, or an error naming the setting to fix."""
        if self._client is None:
            self._client = self._open()
        return self._client

    def _open(self) -> Any:
        from google.api_core import exceptions
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import bigquery

        project, dataset, location = self.project or "", self.dataset or "", self.location or None
        if not project:
            raise BigQueryError("GCP_PROJECT is not set: the BigQuery warehouse needs the project's id")
        if not _PROJECT_ID.match(project):
            raise BigQueryError(
                f"GCP_PROJECT {project!r} is not a GCP project id (6-30 lowercase letters, digits, '-')"
            )
        if not _DATASET_ID.match(dataset):
            raise BigQueryError(
                f"BIGQUERY_DATASET {dataset!r} is not a BigQuery dataset name (letters, digits, '_')"
            )
        key = key_file(self.key_file)
        credentials = load_key_file(*key, _SCOPES, BigQueryError) if key else None
        via = f"the key in {key[1]}" if key else "Google's default credentials"
        if os.environ.get(EMULATOR_SETTING):
            from google.auth.credentials import AnonymousCredentials

            credentials, via = AnonymousCredentials(), f"the emulator at {EMULATOR_SETTING}"
        try:
            client = bigquery.Client(project=project, location=location, credentials=credentials)
            found = client.get_dataset(f"{project}.{dataset}", timeout=self.timeout)
        except DefaultCredentialsError as exc:
            raise BigQueryError(
                "no Google credentials for BigQuery: set GOOGLE_SERVICE_ACC_KEY_FILEPATH or "
                f"GOOGLE_APPLICATION_CREDENTIALS to a service-account key file ({exc})"
            ) from exc
        except exceptions.NotFound as exc:
            raise BigQueryError(
                f"BIGQUERY_DATASET {dataset!r} does not exist in GCP_PROJECT {project!r} "
                f"(or {via} cannot see it); create it first (see terraform/)"
            ) from exc
        except (exceptions.Forbidden, exceptions.Unauthorized) as exc:
            raise BigQueryError(
                f"GCP_PROJECT {project!r}: {via} may not use dataset {dataset!r}: {exc.message}"
            ) from exc
        except exceptions.GoogleAPIError as exc:
            raise BigQueryError(
                f"GCP_PROJECT {project!r}: BigQuery cannot be reached with {via}: {exc}"
            ) from exc
        if location and found.location and found.location.lower() != location.lower():
            raise BigQueryError(
                f"GOOGLE_LOCATION {location!r}: dataset {dataset!r} is in {found.location!r}; "
                "set GOOGLE_LOCATION to the dataset's location"
            )
        return client

    def check(self) -> tuple[str, str]:
        [(one,)] = [tuple(row.values()) for row in self.query("SELECT 1").result()]
        return f"bigquery {self.project}.{self.dataset}", f"SELECT 1 returned {one}"

    def table_name(self, table: str) -> str:
        return f"{self.project}.{self.dataset}.{table}"

    def query(self, sql: str) -> Any:
        """Run ``sql`` and wait for it."""
        job = self.client().query(sql)
        job.result(timeout=self.timeout)
        return job

    def _read(self, sql: str) -> pa.Table:
        # The Storage Read API is faster for large reads but has no emulator endpoint.
        use_storage_api = not os.environ.get(EMULATOR_SETTING)
        return self.query(sql).to_arrow(create_bqstorage_client=use_storage_api)

    def evolve_table(
        self, table: str, schema: pa.Schema, day_column: str, descriptions: Mapping[str, str]
    ) -> None:
        from google.api_core.exceptions import NotFound

        fields = bigquery_schema(schema, descriptions)
        client = self.client()
        try:
            existing = client.get_table(self.table_name(table))
        except NotFound:
            client.create_table(
                trips_table_definition(self.table_name(table), fields, day_column), exists_ok=True
            )
            self._define_external(table, day_column, changed=True)
            return
        if existing.clustering_fields is None and clustering_of(existing.schema):
            # A table an earlier version made (partitioned only) gains the clustering here, in
            # place (on the columns it has): BigQuery clusters the rows written from now on (each
            # window a load replaces); the rows already there stay as they were until their days
            # are loaded again. A clustering a user set is left as it is.
            existing.clustering_fields = clustering_of(existing.schema)
            existing = client.update_table(existing, ["clustering_fields"])
        known = {f.name for f in existing.schema}
        added = [f for f in fields if f.name not in known]
        self._define_external(table, day_column, changed=bool(added))
        if not added:
            return
        # DDL adds the columns where the rows are; the API's schema then carries the descriptions.
        # BigQuery does both from either; bqemulator stores a column only by DDL and reports one
        # only when the API set it, so both are done, the second only for what is still missing.
        for f in added:
            description = (f.description or "").replace("\\", "\\\\").replace("'", "\\'")
            self.query(
                f"ALTER TABLE `{self.table_name(table)}` ADD COLUMN IF NOT EXISTS `{f.name}` {f.field_type} "
                f"OPTIONS(description='{description}')"
            )
        existing = client.get_table(self.table_name(table))
        missing = [f for f in added if f.name not in {g.name for g in existing.schema}]
        if missing:
            existing.schema = [*existing.schema, *missing]
            client.update_table(existing, ["schema"])

    def _define_external(self, table: str, day_column: str, *, changed: bool) -> None:
        """``{table}_external`` over the lake's daily files of ``table``'s service, made where it
        is missing, made again where the lake moved or the trips gained columns (its columns are
        read from the files when it is made); nothing unless the lake is on GCS.
        """
        from google.api_core.exceptions import NotFound

        service = _SERVICE_OF_TABLE.get(table)
        if not (self.lake_uri or "").startswith("gs://") or service is None:
            return
        client = self.client()
        name = self.table_name(f"{table}{EXTERNAL_SUFFIX}")
        wanted = external_table_definition(
            name, Lake(base_uri=self.lake_uri).uri([service, DAILY]), day_column
        )
        try:
            found = client.get_table(name)
        except NotFound:
            found = None
        if found is not None and not changed and _same_source(found, wanted):
            return
        # An external table holds no rows: made again, nothing is lost.
        client.delete_table(name, not_found_ok=True)
        client.create_table(wanted)

    def replace_days(
        self, table: str, day_column: str, rows: pa.Table | Batches, first: dt.date, end: dt.date
    ) -> None:
        from google.cloud import bigquery

        rows = Batches.of(rows)
        client = self.client()
        schema = client.get_table(self.table_name(table)).schema
        loaded = [f for f in schema if f.name in rows.schema.names]
        staging = bigquery.Table(self.table_name(f"_load_{table}_{uuid.uuid4().hex[:12]}"), schema=loaded)
        staging.expires = dt.datetime.now(dt.UTC) + _STAGING_LIFETIME
        temp_folders.remove_stale_folders()
        with tempfile.TemporaryDirectory(prefix=temp_folders.folder_prefix()) as folder:
            # The window's rows staged in a local file a batch at a time, then one load job.
            path = os.path.join(folder, "rows.parquet")
            count = _stage(rows, [f.name for f in loaded], day_column, first, end, table, path)
            client.create_table(staging)
            try:
                if count:
                    self._load_file(path, staging, loaded)
                self._swap_in(table, staging, loaded, days_between(f"T.`{day_column}`", first, end))
            finally:
                client.delete_table(staging.reference, not_found_ok=True)

    def _swap_in(self, table: str, staging: Any, fields: list[Any], rows_of: str | None = None) -> None:
        """One MERGE: ``table``'s rows (those matching ``rows_of``, else all) go and ``staging``'s
        come, at once: readers see the old rows or the new ones.
        """
        columns = ", ".join(f"`{f.name}`" for f in fields)
        old = f"AND {rows_of} " if rows_of else ""
        self.query(
            f"MERGE `{self.table_name(table)}` T USING `{staging.reference}` S ON FALSE "
            f"WHEN NOT MATCHED BY SOURCE {old}THEN DELETE "
            f"WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({columns})"
        )

    def _load_file(self, path: str, table: Any, schema: list[Any]) -> None:
        """A parquet file's rows appended to ``table`` by a load job (free, unlike streaming)."""
        from google.cloud import bigquery

        with open(path, "rb") as staged:
            self.client().load_table_from_file(
                staged,
                table.reference,
                job_config=bigquery.LoadJobConfig(
                    source_format=bigquery.SourceFormat.PARQUET,
                    schema=schema,
                    write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
                ),
            ).result(timeout=self.timeout)

    def replace_table(self, table: str, rows: pa.Table, descriptions: Mapping[str, str]) -> None:
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        client = self.client()
        fields = bigquery_schema(rows.schema, descriptions)
        try:
            client.get_table(self.table_name(table))
        except NotFound:
            client.create_table(bigquery.Table(self.table_name(table), schema=fields), exists_ok=True)
        staging = bigquery.Table(self.table_name(f"_load_{table}_{uuid.uuid4().hex[:12]}"), schema=fields)
        staging.expires = dt.datetime.now(dt.UTC) + _STAGING_LIFETIME
        client.create_table(staging)
        try:
            with tempfile.TemporaryDirectory(prefix=temp_folders.folder_prefix()) as folder:
                path = os.path.join(folder, "rows.parquet")
                pq.write_table(rows, path)
                self._load_file(path, staging, fields)
            self._swap_in(table, staging, fields)
        finally:
            client.delete_table(staging.reference, not_found_ok=True)

    def read_table(self, table: str) -> pa.Table:
        return with_timestamps(self._read(f"SELECT * FROM `{self.table_name(table)}`"), None)

    def day_counts(self, table: str, day_column: str, first: dt.date, end: dt.date) -> dict[str, int]:
        from google.api_core.exceptions import NotFound

        window = days_between(f"`{day_column}`", first, end)
        try:
            counted = self._read(
                f"SELECT CAST(`{day_column}` AS STRING) AS day, COUNT(*) AS n "
                f"FROM `{self.table_name(table)}` WHERE {window} GROUP BY day"
            )
        except NotFound:
            return {}  # no table yet: no rows on any day
        return per_day(counted)

    def read_days(self, table: str, day_column: str, first: dt.date, end: dt.date) -> Batches:
        window = days_between(f"`{day_column}`", first, end)
        query = f"SELECT * FROM `{self.table_name(table)}` WHERE {window}"
        schema = with_timestamps(self._read(f"{query} LIMIT 0"), None).schema

        def read() -> Iterator[pa.RecordBatch]:
            # Page by page over the REST API: the Storage Read API hands whole streams, and has no
            # emulator endpoint.
            for batch in self.query(query).result().to_arrow_iterable():
                yield batch.cast(schema)

        return Batches(schema, read)


def _same_source(found: Any, wanted: Any) -> bool:
    """Whether the external table ``found`` reads the files ``wanted`` names, as ``wanted`` does."""
    have, want = found.external_data_configuration, wanted.external_data_configuration
    return (
        have is not None
        and list(have.source_uris or []) == want.source_uris
        and have.hive_partitioning is not None
        and have.hive_partitioning.source_uri_prefix == want.hive_partitioning.source_uri_prefix
    )
