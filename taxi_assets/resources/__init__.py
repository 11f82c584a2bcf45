"""The resources and IO managers of this environment: the one place that reads its settings.

Every setting has an embedded default, so a first run needs nothing but Python:
- ``TAXI_PUBLISHER``: whose files, and so which months (``tlc``, the default, or ``mirror``);
  ``TAXI_SOURCE_URL_TEMPLATE``: another URL for them (the publisher's, unset);
  ``TAXI_ZONES_URL``: the taxi zone lookup (the TLC's ``taxi_zone_lookup.csv``, unset);
  ``TAXI_SOURCE_DEADLINE_SECONDS``: the most a download may take, retries included (1800);
- ``TAXI_LAKE_URI``: the parquet lake (``data/lake``), or ``gs://bucket/prefix`` with
  ``GOOGLE_SERVICE_ACC_KEY_FILEPATH``, ``GCS_ENDPOINT_URL`` and ``GCP_PROJECT``;
- the warehouse: BigQuery when ``GCP_PROJECT`` is set (``BIGQUERY_DATASET``, default ``ny_taxi``;
  ``GOOGLE_LOCATION``; ``GOOGLE_SERVICE_ACC_KEY_FILEPATH`` or ``GOOGLE_APPLICATION_CREDENTIALS``),
  else DuckDB (``DUCKDB_DATABASE``, ``data/warehouse.duckdb``; ``DUCKDB_SCHEMA``, ``ny_taxi``);
  ``TAXI_WAREHOUSE=duckdb|bigquery`` overrides the choice;
- ``POSTGRES_HOST``, ``_PORT``, ``_DBNAME``, ``_USER``, ``_PASSWORD``, ``_SCHEMA``,
  ``_CONNECT_TIMEOUT``: the trips tables (``postgres@127.0.0.1:5432/postgres``, schema ``ny_taxi``);
- ``TAXI_SCHEMA_CONTRACT`` (``evolve``, ``freeze``, ``discard``; default ``evolve``) and
  ``TAXI_SCHEMA_CONTRACT_<SERVICE>``: what a load does with a column no layout knows.
"""

from __future__ import annotations

import os
from typing import Any

from taxi_assets.constants import (
    DEFAULT_DUCKDB_PATH,
    DEFAULT_LAKE_DIR,
    DEFAULT_POSTGRES_SCHEMA,
    DEFAULT_WAREHOUSE_SCHEMA,
    SERVICES,
)
from taxi_assets.io_managers.lake import LakeDaysIOManager, LakeFilesIOManager, lake_months
from taxi_assets.io_managers.postgres import PostgresIOManager
from taxi_assets.io_managers.warehouse import WarehouseIOManager
from taxi_assets.publishers import configured_publisher
from taxi_assets.resources.contract import SETTING as CONTRACT_SETTING
from taxi_assets.resources.contract import SchemaContract, checked, service_setting
from taxi_assets.resources.duckdb_warehouse import DuckDBWarehouse
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.settings import Setting, SettingError, from_environment
from taxi_assets.resources.warehouse import Warehouse
from taxi_assets.source import DEFAULT_DEADLINE_SECONDS, TaxiSource

# The keys the assets and IO managers name.
LAKE_FILES_IO_MANAGER = "io_manager"
LAKE_DAYS_IO_MANAGER = "lake_days_io_manager"
LAKE_MONTHS = "lake_months"
WAREHOUSE_IO_MANAGER = "warehouse_io_manager"
POSTGRES_IO_MANAGER = "postgres_io_manager"
WAREHOUSES = ("duckdb", "bigquery")

GCP_PROJECT = Setting("GCP_PROJECT", None)
KEY_FILE = Setting("GOOGLE_SERVICE_ACC_KEY_FILEPATH", None)


def taxi_source_resource() -> TaxiSource:
    """The source of the publisher TAXI_PUBLISHER names, at TAXI_SOURCE_URL_TEMPLATE if set."""
    publisher = configured_publisher()
    return from_environment(
        TaxiSource,
        url_template=Setting("TAXI_SOURCE_URL_TEMPLATE", publisher.url_template),
        zones_url=Setting("TAXI_ZONES_URL", TaxiSource.model_fields["zones_url"].default),
        deadline_seconds=Setting("TAXI_SOURCE_DEADLINE_SECONDS", DEFAULT_DEADLINE_SECONDS, whole_number=True),
    )


def schema_contract_resource() -> SchemaContract:
    """The schema contract TAXI_SCHEMA_CONTRACT names, with each service's TAXI_SCHEMA_CONTRACT_<SERVICE>."""
    settings = {"default": Setting(CONTRACT_SETTING, "evolve")} | {
        service: Setting(service_setting(service), None) for service in SERVICES
    }
    for setting in settings.values():
        if setting.is_set:
            checked(setting.value(), setting.name)  # a bad value fails when the code loads
    return from_environment(SchemaContract, **settings)


def lake_resource() -> Lake:
    return from_environment(
        Lake,
        base_uri=Setting("TAXI_LAKE_URI", str(DEFAULT_LAKE_DIR)),
        gcs_key_path=KEY_FILE,
        gcs_endpoint=Setting("GCS_ENDPOINT_URL", None),
        gcp_project=GCP_PROJECT,
    )


def postgres_resource() -> PostgresResource:
    return from_environment(
        PostgresResource,
        host=Setting("POSTGRES_HOST", "127.0.0.1"),
        port=Setting("POSTGRES_PORT", 5432, whole_number=True),
        dbname=Setting("POSTGRES_DBNAME", "postgres"),
        user=Setting("POSTGRES_USER", "postgres"),
        password=Setting("POSTGRES_PASSWORD", ""),
        schema_name=Setting("POSTGRES_SCHEMA", DEFAULT_POSTGRES_SCHEMA),
        connect_timeout=Setting("POSTGRES_CONNECT_TIMEOUT", 10, whole_number=True),
    )


def warehouse_kind() -> str:
    """``bigquery`` where the environment names a GCP project, else ``duckdb``; TAXI_WAREHOUSE
    overrides it (a GCS lake with a local warehouse, or BigQuery with the project set elsewhere).
    """
    chosen = os.environ.get("TAXI_WAREHOUSE", "").strip().lower()
    if not chosen:
        return "bigquery" if GCP_PROJECT.is_set else "duckdb"
    if chosen not in WAREHOUSES:
        raise SettingError(f"TAXI_WAREHOUSE {chosen!r} is not one of {', '.join(WAREHOUSES)}")
    return chosen


def warehouse_resource() -> Warehouse:
    """The one place that picks the warehouse; the assets never know which one they got."""
    if warehouse_kind() == "bigquery":
        # Imported only when chosen: Google's client libraries add half a second to every
        # code-location load (each run, each CLI call) of a DuckDB deployment.
        from taxi_assets.resources.bigquery_warehouse import BigQueryWarehouse

        return from_environment(
            BigQueryWarehouse,
            project=Setting("GCP_PROJECT", ""),
            dataset=Setting("BIGQUERY_DATASET", DEFAULT_WAREHOUSE_SCHEMA),
            location=Setting("GOOGLE_LOCATION", None),
            key_file=KEY_FILE,
        )
    return from_environment(
        DuckDBWarehouse,
        database=Setting("DUCKDB_DATABASE", str(DEFAULT_DUCKDB_PATH)),
        schema_name=Setting("DUCKDB_SCHEMA", DEFAULT_WAREHOUSE_SCHEMA),
    )


def io_managers(lake: Lake, warehouse: Warehouse, postgres: PostgresResource) -> dict[str, Any]:
    """The IO managers over the given resources, under the keys the assets name."""
    return {
        LAKE_FILES_IO_MANAGER: LakeFilesIOManager(lake=lake),
        LAKE_DAYS_IO_MANAGER: LakeDaysIOManager(lake=lake),
        LAKE_MONTHS: lake_months,
        WAREHOUSE_IO_MANAGER: WarehouseIOManager(warehouse=warehouse),
        POSTGRES_IO_MANAGER: PostgresIOManager(postgres=postgres),
    }


def build_resources() -> dict[str, Any]:
    """The resources of the current environment, under the keys the assets use."""
    resources = {
        "taxi_source": taxi_source_resource(),
        "schema_contract": schema_contract_resource(),
        "lake": lake_resource(),
        "warehouse": warehouse_resource(),
        "postgres": postgres_resource(),
    }
    return {**resources, **io_managers(resources["lake"], resources["warehouse"], resources["postgres"])}
