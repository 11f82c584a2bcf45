"""The resources of this environment, under the keys the assets and IO managers name.

Every setting has an embedded default (see each resource's fields), so a first run needs
nothing but Python. The one choice made here is the warehouse: BigQuery where the environment
names a GCP project, else DuckDB; ``TAXI_WAREHOUSE=duckdb|bigquery`` overrides it.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from taxi_assets.analytics_project import ANALYTICS, DBT_EXECUTABLE
from taxi_assets.io_managers import (
    LAKE_DAYS_IO_MANAGER,
    LAKE_FILES_IO_MANAGER,
    POSTGRES_IO_MANAGER,
    WAREHOUSE_IO_MANAGER,
    WAREHOUSE_MODELS_IO_MANAGER,
)
from taxi_assets.io_managers.lake import LakeDaysIOManager, LakeFilesIOManager
from taxi_assets.io_managers.postgres import PostgresIOManager
from taxi_assets.io_managers.warehouse import WarehouseIOManager, WarehouseModelIOManager
from taxi_assets.resources.contract import SchemaContract
from taxi_assets.resources.duckdb_warehouse import DuckDBWarehouse
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.settings import SettingError, is_set
from taxi_assets.resources.warehouse import Warehouse
from taxi_assets.source import TaxiSource

WAREHOUSES = ("duckdb", "bigquery")


def warehouse_kind() -> str:
    """``bigquery`` where the environment names a GCP project, else ``duckdb``; TAXI_WAREHOUSE
    overrides it (a GCS lake with a local warehouse, or BigQuery with the project set elsewhere).
    """
    chosen = os.environ.get("TAXI_WAREHOUSE", "").strip().lower()
    if not chosen:
        return "bigquery" if is_set("GCP_PROJECT") else "duckdb"
    if chosen not in WAREHOUSES:
        raise SettingError(f"TAXI_WAREHOUSE {chosen!r} is not one of {', '.join(WAREHOUSES)}")
    return chosen


def warehouse_resource() -> Warehouse:
    """The one place that picks the warehouse; the assets never know which one they got."""
    if warehouse_kind() == "bigquery":
        # Imported only when chosen: Google's client libraries add half a second to every
        # code-location load (each run, each CLI call) of a DuckDB deployment.
        from taxi_assets.resources.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse()
    return DuckDBWarehouse()


def io_managers(lake: Lake, warehouse: Warehouse, postgres: PostgresResource) -> dict[str, Any]:
    """The IO managers over the given resources, under the keys the assets name."""
    return {
        LAKE_FILES_IO_MANAGER: LakeFilesIOManager(lake=lake),
        LAKE_DAYS_IO_MANAGER: LakeDaysIOManager(lake=lake),
        WAREHOUSE_IO_MANAGER: WarehouseIOManager(warehouse=warehouse),
        WAREHOUSE_MODELS_IO_MANAGER: WarehouseModelIOManager(warehouse=warehouse),
        POSTGRES_IO_MANAGER: PostgresIOManager(postgres=postgres),
    }


def analytics_cli() -> DbtCliResource:
    """dbt on the analytics project; each run passes it the loader's warehouse (``analytics.py``)."""
    return DbtCliResource(project_dir=ANALYTICS, dbt_executable=DBT_EXECUTABLE)


def environment_resources() -> dict[str, Any]:
    """The resources of the current environment, under the keys the assets use."""
    lake, warehouse, postgres = Lake(), warehouse_resource(), PostgresResource()
    return {
        "taxi_source": TaxiSource(),
        "schema_contract": SchemaContract(),
        "lake": lake,
        "warehouse": warehouse,
        "postgres": postgres,
        "dbt": analytics_cli(),
        **io_managers(lake, warehouse, postgres),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=environment_resources())
