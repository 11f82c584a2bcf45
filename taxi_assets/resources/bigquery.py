"""The warehouse on BigQuery: one table per service, partitioned by day on ``pickup_date``.

A window of days is replaced atomically: its rows go to a staging table by a load job, then one
``MERGE`` deletes the window's old rows and inserts the new ones, so a reader sees the old days
or the new ones, never neither and never both. Dagster's stock BigQuery pandas IO manager
deletes in one job and loads in another (a failed load leaves the days empty) and upper-cases
column names; its configuration (project, dataset, location, timeout) is kept, its client is not.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from dagster import InputContext, OutputContext
from dagster._core.storage.db_io_manager import DbClient, DbIOManager, DbTypeHandler, TableSlice
from dagster_gcp.bigquery.io_manager import BigQueryIOManager
from pydantic import Field

from taxi_assets.chunks import DayCounts, MonthChunks, span
from taxi_assets.metadata import descriptions_of
from taxi_assets.partitions import slice_window
from taxi_assets.resources.google import key_file, load_key_file
from taxi_assets.transform import to_pandas

EMULATOR_SETTING = "BIGQUERY_EMULATOR_HOST"  # read by google-cloud-bigquery itself
_SCOPES = ["https://www.googleapis.com/auth/bigquery"]
# https://cloud.google.com/resource-manager/docs/creating-managing-projects (optionally domain-scoped)
_PROJECT_ID = re.compile(r"^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_DATASET_ID = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
_STAGING_LIFETIME = dt.timedelta(hours=6)  # a crashed run's staging table removes itself

_BIGQUERY_TYPES = {
    pa.int64(): "INT64",
    pa.int32(): "INT64",
    pa.float64(): "FLOAT64",
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.date32(): "DATE",
    pa.bool_(): "BOOL",
}


class BigQueryError(Exception):
    """A warehouse failure, worded for the user: it names the setting to change."""


def bigquery_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    try:
        return _BIGQUERY_TYPES[arrow_type]
    except KeyError:
        raise BigQueryError(f"no BigQuery column type for Arrow type {arrow_type}") from None


def bigquery_schema(schema: pa.Schema, descriptions: Mapping[str, str]) -> list[Any]:
    from google.cloud import bigquery

    return [
        bigquery.SchemaField(f.name, bigquery_type(f.type), description=descriptions.get(f.name))
        for f in schema
    ]


def _with_timestamps(table: pa.Table, tz: str | None) -> pa.Table:
    return table.cast(
        pa.schema(
            pa.field(f.name, pa.timestamp("us", tz=tz)) if pa.types.is_timestamp(f.type) else f
            for f in table.schema
        )
    )


def to_arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    # Parquet timestamps without a zone load as DATETIME; the TLC's wall-clock times are stored
    # as TIMESTAMP, as the course's tables have them.
    return _with_timestamps(table, "UTC")


def _descriptions(context: OutputContext) -> dict[str, str]:
    return descriptions_of(context.definition_metadata or {})


@dataclass
class BigQueryConnection:
    """A client on one dataset, and the few statements the warehouse runs."""

    client: Any
    project: str
    dataset: str
    timeout: float | None

    def table_id(self, table: str) -> str:
        return f"{self.project}.{self.dataset}.{table}"

    def run(self, sql: str, **params: dt.date) -> Any:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter(k, "DATE", v) for k, v in params.items()]
        )
        job = self.client.query(sql, job_config=config)
        job.result(timeout=self.timeout)
        return job

    def read(self, sql: str, **params: dt.date) -> pa.Table:
        # The Storage Read API is faster for large reads but has no emulator endpoint.
        use_storage_api = not os.environ.get(EMULATOR_SETTING)
        return self.run(sql, **params).to_arrow(create_bqstorage_client=use_storage_api)

    def replace_days(
        self,
        table: str,
        rows: pa.Table,
        expr: str,
        first: dt.date,
        end: dt.date,
        descriptions: Mapping[str, str],
    ) -> int:
        """Makes ``[first, end)`` of ``table`` hold exactly ``rows``, in one MERGE."""
        from google.cloud import bigquery

        if rows.num_rows:
            days = rows.column(expr)
            outside = pc.sum(pc.or_(pc.less(days, first), pc.greater_equal(days, end))).as_py()
            if outside:
                raise BigQueryError(f"{table}: {outside} rows lie outside {first} … {end}; not loaded")
        schema = bigquery_schema(rows.schema, descriptions)
        target = bigquery.Table(self.table_id(table), schema=schema)
        target.time_partitioning = bigquery.TimePartitioning(
            type_=bigquery.TimePartitioningType.DAY, field=expr
        )
        self.client.create_table(target, exists_ok=True)

        staging = bigquery.Table(self.table_id(f"_load_{table}_{uuid.uuid4().hex[:12]}"), schema=schema)
        staging.expires = dt.datetime.now(dt.UTC) + _STAGING_LIFETIME
        self.client.create_table(staging)
        try:
            if rows.num_rows:
                buffer = io.BytesIO()
                pq.write_table(rows, buffer, compression="snappy")
                buffer.seek(0)
                job = self.client.load_table_from_file(
                    buffer,
                    staging.reference,
                    job_config=bigquery.LoadJobConfig(
                        source_format=bigquery.SourceFormat.PARQUET,
                        schema=schema,
                        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
                    ),
                    rewind=True,
                )
                job.result(timeout=self.timeout)
            columns = ", ".join(f"`{f.name}`" for f in schema)
            self.run(
                f"MERGE `{self.table_id(table)}` T USING `{staging.reference}` S ON FALSE "
                f"WHEN NOT MATCHED BY SOURCE AND T.`{expr}` >= @first AND T.`{expr}` < @end THEN DELETE "
                f"WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({columns})",
                first=first,
                end=end,
            )
        finally:
            self.client.delete_table(staging.reference, not_found_ok=True)
        return rows.num_rows

    def day_counts(self, table: str, expr: str, first: dt.date, end: dt.date) -> dict[str, int]:
        from google.api_core.exceptions import NotFound

        try:
            counted = self.read(
                f"SELECT CAST(`{expr}` AS STRING) AS day, COUNT(*) AS n FROM `{self.table_id(table)}` "
                f"WHERE `{expr}` >= @first AND `{expr}` < @end GROUP BY day",
                first=first,
                end=end,
            )
        except NotFound:
            return {}  # no table yet: no rows on any day
        return dict(zip(counted.column("day").to_pylist(), counted.column("n").to_pylist(), strict=True))


class _BigQueryClient(DbClient):
    """Opens a checked connection; slices are replaced by the type handlers, in one MERGE each."""

    @staticmethod
    @contextmanager
    def connect(context: Any, table_slice: TableSlice) -> Iterator[BigQueryConnection]:
        yield open_connection(context.resource_config or {})

    @staticmethod
    def ensure_schema_exists(context: OutputContext, table_slice: TableSlice, connection: Any) -> None:
        pass  # checked when the connection opens: datasets are made by terraform, with a location

    @staticmethod
    def delete_table_slice(context: OutputContext, table_slice: TableSlice, connection: Any) -> None:
        pass  # done by the MERGE that inserts the new rows

    @staticmethod
    def get_select_statement(table_slice: TableSlice) -> str:
        """The query a user would run for the slice (shown in the materialisation's metadata)."""
        table = f"`{table_slice.database}.{table_slice.schema}.{table_slice.table}`"
        if not table_slice.partition_dimensions:
            return f"SELECT * FROM {table}"
        expr, first, end = slice_window(table_slice)
        return f"SELECT * FROM {table} WHERE `{expr}` >= DATE '{first}' AND `{expr}` < DATE '{end}'"


def open_connection(config: Mapping[str, Any]) -> BigQueryConnection:
    """A client for the configured project and dataset, or an error naming the setting to fix."""
    from google.api_core import exceptions
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import bigquery

    project, dataset = config.get("project") or "", config.get("dataset") or ""
    location = config.get("location") or None
    if not _PROJECT_ID.match(project):
        raise BigQueryError(
            f"GCP_PROJECT {project!r} is not a GCP project id (6-30 lowercase letters, digits, '-')"
        )
    if not _DATASET_ID.match(dataset):
        raise BigQueryError(
            f"BIGQUERY_DATASET {dataset!r} is not a BigQuery dataset name (letters, digits, '_')"
        )

    key = key_file(config.get("key_file"))
    credentials = load_key_file(*key, _SCOPES, BigQueryError) if key else None
    via = f"the key in {key[1]}" if key else "Google's default credentials"
    if os.environ.get(EMULATOR_SETTING):
        from google.auth.credentials import AnonymousCredentials

        credentials, via = AnonymousCredentials(), f"the emulator at {EMULATOR_SETTING}"
    try:
        client = bigquery.Client(project=project, location=location, credentials=credentials)
        found = client.get_dataset(f"{project}.{dataset}", timeout=config.get("timeout"))
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
        raise BigQueryError(f"GCP_PROJECT {project!r}: BigQuery cannot be reached with {via}: {exc}") from exc
    if location and found.location and found.location.lower() != location.lower():
        raise BigQueryError(
            f"GOOGLE_LOCATION {location!r}: dataset {dataset!r} is in {found.location!r}; "
            "set GOOGLE_LOCATION to the dataset's location"
        )
    return BigQueryConnection(client, project, dataset, config.get("timeout"))


class BigQueryMonthChunksTypeHandler(DbTypeHandler[MonthChunks]):
    """Replaces a window month by month, each month in a MERGE of its own, so a run holds one
    month in memory whatever the range.
    """

    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: MonthChunks, connection: Any
    ) -> dict[str, Any]:
        expr, rows = slice_window(table_slice)[0], 0
        for days, month in obj.tables():
            rows += connection.replace_days(
                table_slice.table,
                to_arrow(month),
                expr,
                *span(days),
                _descriptions(context),
            )
            del month  # before the next month loads, not after
        return {"dagster/partition_row_count": rows, "bigquery_table": connection.table_id(table_slice.table)}

    def load_input(self, context: InputContext, table_slice: TableSlice, connection: Any) -> MonthChunks:
        raise TypeError("MonthChunks are written to BigQuery, not read back; load a DataFrame or DayCounts")

    @property
    def supported_types(self) -> list[type]:
        return [MonthChunks]


class BigQueryDayCountsTypeHandler(DbTypeHandler[DayCounts]):
    """Rows per day of the loaded window, counted by BigQuery (one partition scan per day)."""

    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: DayCounts, connection: Any
    ) -> None:
        raise TypeError("DayCounts are read from BigQuery, not written")

    def load_input(self, context: InputContext, table_slice: TableSlice, connection: Any) -> DayCounts:
        return DayCounts(connection.day_counts(table_slice.table, *slice_window(table_slice)))

    @property
    def supported_types(self) -> list[type]:
        return [DayCounts]


class BigQueryFrameTypeHandler(DbTypeHandler[pd.DataFrame]):
    """A window as one DataFrame, with the lake's dtypes and lower-case column names."""

    def handle_output(
        self, context: OutputContext, table_slice: TableSlice, obj: pd.DataFrame, connection: Any
    ) -> dict[str, Any]:
        rows = connection.replace_days(
            table_slice.table, to_arrow(obj), *slice_window(table_slice), _descriptions(context)
        )
        return {"dagster/partition_row_count": rows, "bigquery_table": connection.table_id(table_slice.table)}

    def load_input(self, context: InputContext, table_slice: TableSlice, connection: Any) -> pd.DataFrame:
        expr, first, end = slice_window(table_slice)
        columns = ", ".join(f"`{c}`" for c in table_slice.columns or []) or "*"
        rows = connection.read(
            f"SELECT {columns} FROM `{connection.table_id(table_slice.table)}` "
            f"WHERE `{expr}` >= @first AND `{expr}` < @end",
            first=first,
            end=end,
        )
        # Back to the wall-clock times the lake holds.
        return to_pandas(_with_timestamps(rows, None))

    @property
    def supported_types(self) -> list[type]:
        return [pd.DataFrame]


class BigQueryWarehouse(BigQueryIOManager):
    """Trips tables in a BigQuery dataset, day-partitioned, each window replaced in one MERGE."""

    key_file: str | None = Field(
        default=None,
        description="Service-account key file (env GOOGLE_SERVICE_ACC_KEY_FILEPATH); unset, "
        "GOOGLE_APPLICATION_CREDENTIALS or Google's default credentials apply.",
    )

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [BigQueryMonthChunksTypeHandler(), BigQueryDayCountsTypeHandler(), BigQueryFrameTypeHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pd.DataFrame

    def create_io_manager(self, context: Any) -> DbIOManager:
        return DbIOManager(
            db_client=_BigQueryClient(),
            io_manager_name="BigQueryWarehouse",
            database=self.project,
            schema=self.dataset,
            type_handlers=self.type_handlers(),
            default_load_type=self.default_load_type(),
        )
