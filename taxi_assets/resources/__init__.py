"""Resources and IO managers for this environment, each configured from the environment.

Every setting has an embedded default, so a first run needs nothing but Python:
- ``TAXI_SOURCE_URL_TEMPLATE``: where monthly files are published (the course's GitHub mirror);
  ``TAXI_SOURCE_DEADLINE_SECONDS``: the most a download may take, retries included (1800);
- ``TAXI_LAKE_URI``: the parquet lake (``data/lake``), or ``gs://bucket/prefix`` with
  ``GOOGLE_SERVICE_ACC_KEY_FILEPATH``, ``GCS_ENDPOINT_URL`` and ``GCP_PROJECT``;
- the warehouse: BigQuery when ``GCP_PROJECT`` is set (``BIGQUERY_DATASET``, default ``ny_taxi``;
  ``GOOGLE_LOCATION``; ``GOOGLE_SERVICE_ACC_KEY_FILEPATH`` or ``GOOGLE_APPLICATION_CREDENTIALS``),
  else DuckDB (``DUCKDB_DATABASE``, ``data/warehouse.duckdb``; ``DUCKDB_SCHEMA``, ``ny_taxi``);
  ``TAXI_WAREHOUSE=duckdb|bigquery`` overrides the choice;
- ``POSTGRES_HOST``, ``_PORT``, ``_DBNAME``, ``_USER``, ``_PASSWORD``, ``_SCHEMA``,
  ``_CONNECT_TIMEOUT``: the trips tables (``postgres@127.0.0.1:5432/postgres``, schema ``ny_taxi``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import dagster as dg

from taxi_assets.constants import (
    DEFAULT_DUCKDB_PATH,
    DEFAULT_LAKE_DIR,
    DEFAULT_POSTGRES_SCHEMA,
    DEFAULT_SOURCE_URL_TEMPLATE,
    DEFAULT_WAREHOUSE_SCHEMA,
)
from taxi_assets.resources.lake import ParquetLake
from taxi_assets.resources.postgres import PostgresPandasIOManager, PostgresResource
from taxi_assets.resources.settings import SettingError, int_setting, setting
from taxi_assets.resources.warehouse import DuckDBWarehouse
from taxi_assets.source import DEFAULT_DEADLINE_SECONDS, TaxiSource

if TYPE_CHECKING:
    from taxi_assets.resources.bigquery import BigQueryWarehouse

LAKE_IO_MANAGER = "io_manager"
WAREHOUSE_IO_MANAGER = "warehouse_io_manager"
POSTGRES_IO_MANAGER = "postgres_io_manager"
WAREHOUSES = ("duckdb", "bigquery")


def postgres_resource() -> PostgresResource:
    return PostgresResource(
        host=setting("POSTGRES_HOST", "127.0.0.1"),
        port=int_setting("POSTGRES_PORT", 5432),
        dbname=setting("POSTGRES_DBNAME", "postgres"),
        user=setting("POSTGRES_USER", "postgres"),
        password=setting("POSTGRES_PASSWORD", ""),
        schema_name=setting("POSTGRES_SCHEMA", DEFAULT_POSTGRES_SCHEMA),
        connect_timeout=int_setting("POSTGRES_CONNECT_TIMEOUT", 10),
    )


def warehouse_kind() -> str:
    """``bigquery`` where the environment names a GCP project, else ``duckdb``; TAXI_WAREHOUSE
    overrides it (a GCS lake with a local warehouse, or BigQuery with the project set elsewhere).
    """
    chosen = os.environ.get("TAXI_WAREHOUSE", "").strip().lower()
    if not chosen:
        return "bigquery" if os.environ.get("GCP_PROJECT") else "duckdb"
    if chosen not in WAREHOUSES:
        raise SettingError(f"TAXI_WAREHOUSE {chosen!r} is not one of {', '.join(WAREHOUSES)}")
    return chosen


def warehouse_io_manager() -> DuckDBWarehouse | BigQueryWarehouse:
    """The one place that picks the warehouse; the assets never know which one they got."""
    if warehouse_kind() == "bigquery":
        # Imported only when chosen: Google's client libraries add half a second to every
        # code-location load (each run, each CLI call) of a DuckDB deployment.
        from taxi_assets.resources.bigquery import BigQueryWarehouse

        return BigQueryWarehouse(
            # Required: unset, the run fails on resource start-up naming GCP_PROJECT.
            project=dg.EnvVar("GCP_PROJECT"),
            dataset=setting("BIGQUERY_DATASET", DEFAULT_WAREHOUSE_SCHEMA),
            location=setting("GOOGLE_LOCATION", None),
            key_file=setting("GOOGLE_SERVICE_ACC_KEY_FILEPATH", None),
        )
    return DuckDBWarehouse(
        database=setting("DUCKDB_DATABASE", str(DEFAULT_DUCKDB_PATH)),
        schema=setting("DUCKDB_SCHEMA", DEFAULT_WAREHOUSE_SCHEMA),
    )


def build_resources() -> dict[str, Any]:
    """The resources of the current environment, under the keys the assets use."""
    return {
        "taxi_source": TaxiSource(
            url_template=setting("TAXI_SOURCE_URL_TEMPLATE", DEFAULT_SOURCE_URL_TEMPLATE),
            deadline_seconds=int_setting("TAXI_SOURCE_DEADLINE_SECONDS", DEFAULT_DEADLINE_SECONDS),
        ),
        LAKE_IO_MANAGER: ParquetLake(
            base_uri=setting("TAXI_LAKE_URI", str(DEFAULT_LAKE_DIR)),
            gcs_key_path=setting("GOOGLE_SERVICE_ACC_KEY_FILEPATH", None),
            gcs_endpoint=setting("GCS_ENDPOINT_URL", None),
            gcp_project=setting("GCP_PROJECT", None),
        ),
        WAREHOUSE_IO_MANAGER: warehouse_io_manager(),
        POSTGRES_IO_MANAGER: PostgresPandasIOManager(postgres=postgres_resource()),
    }
