"""The warehouse table, on DuckDB and on BigQuery (bqemulator on loopback), held to the same
expectations: rows per day, typed columns, and windows replaced without duplicates.

The two warehouses replace a window in different ways (a transaction; a staging table and one
MERGE); these tests are what keeps their behaviour the same.
"""

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from taxi_assets.resources.bigquery_warehouse import BigQueryWarehouse, bigquery_schema
from taxi_assets.resources.column_types import UnknownColumnType
from taxi_assets.schema import SCHEMAS, YELLOW
from taxi_assets_tests.support.environment import in_a_fresh_process
from taxi_assets_tests.support.google import BigQueryEmulator, GcsEmulator
from taxi_assets_tests.support.materialize import failure_message, materialize_days, materialize_month
from taxi_assets_tests.support.oracle import oracle_per_day
from taxi_assets_tests.support.sinks import Sinks, warehouse_rows_per_day, with_warehouse
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.month_tables import whole

# The variables BigQueryWarehouse's fields default to (taxi_assets/resources/bigquery_warehouse.py).
BIGQUERY_SETTINGS = {
    "project": "GCP_PROJECT",
    "dataset": "BIGQUERY_DATASET",
    "location": "GOOGLE_LOCATION",
    "key_file": "GOOGLE_SERVICE_ACC_KEY_FILEPATH",
}

JANUARY = [f"2021-01-{d:02d}" for d in range(1, 32)]
# BigQuery's type names; DuckDB's are mapped onto them.
_DUCKDB_TYPES = {"BIGINT": "INT64", "DOUBLE": "FLOAT64", "VARCHAR": "STRING", "TIMESTAMP": "TIMESTAMP"}


@dataclass
class Warehouse:
    """One warehouse backend, and how a user would look into it."""

    name: str
    resource: Any
    rows_per_day: Callable[[str], dict[str, int]]
    column_types: Callable[[str], dict[str, str]]


def _duckdb(sinks: Sinks) -> Warehouse:
    def column_types(service: str) -> dict[str, str]:
        with duckdb.connect(str(sinks.duckdb_path), read_only=True) as con:
            rows = con.execute(
                "select column_name, data_type from information_schema.columns where table_name = ?",
                [f"{service}_trips"],
            ).fetchall()
        return {name: _DUCKDB_TYPES.get(kind, kind) for name, kind in rows}

    return Warehouse(
        "duckdb",
        sinks.resources["warehouse"],
        lambda service: warehouse_rows_per_day(sinks.duckdb_path, service),
        column_types,
    )


def _bigquery(bq: BigQueryEmulator) -> Warehouse:
    def rows_per_day(service: str) -> dict[str, int]:
        tables = {t.table_id for t in bq.client().list_tables(bq.dataset)}
        if f"{service}_trips" not in tables:
            return {}
        rows = bq.query(
            f"select cast(pickup_date as string), count(*) from `{bq.project}.{bq.dataset}.{service}_trips` "
            "group by 1 order by 1"
        )
        return dict(rows)

    def column_types(service: str) -> dict[str, str]:
        table = bq.client().get_table(f"{bq.project}.{bq.dataset}.{service}_trips")
        return {field.name: field.field_type for field in table.schema}

    resource = BigQueryWarehouse(project=bq.project, dataset=bq.dataset)
    return Warehouse("bigquery", resource, rows_per_day, column_types)


@pytest.fixture(params=["duckdb", "bigquery"])
def warehouse(request: pytest.FixtureRequest, sinks: Sinks) -> Warehouse:
    if request.param == "duckdb":
        return _duckdb(sinks)
    return _bigquery(request.getfixturevalue("bigquery"))


def loaded(
    warehouse: Warehouse, source_server: SourceServer, sinks: Sinks, service: str, first: str, last: str
) -> dict[str, Any]:
    """The resources of runs into ``warehouse``, after ``service``'s January was published, went
    through the lake, and its days ``first`` to ``last`` were loaded into the warehouse.
    """
    source_server.publish(service, "2021-01")
    resources = with_warehouse(sinks.resources, warehouse.resource)
    month = materialize_month(resources, service, "2021-01")
    assert month.success, failure_message(month)
    days = materialize_days(resources, service, first, last)
    assert days.success, failure_message(days)
    return resources


def test_a_month_of_days_lands_per_day_with_typed_columns(
    source_server: SourceServer, sinks: Sinks, warehouse: Warehouse
) -> None:
    published = source_server.publish("yellow", "2021-01")
    resources = with_warehouse(sinks.resources, warehouse.resource)
    assert materialize_month(resources, "yellow", "2021-01").success
    days = materialize_days(resources, "yellow", "2021-01-01", "2021-01-31")
    assert days.success, failure_message(days)
    assert [e.passed for e in days.get_asset_check_evaluations()] == [True]

    assert warehouse.rows_per_day("yellow") == oracle_per_day(published, "yellow", "2021-01")
    types = warehouse.column_types("yellow")
    assert list(types) == YELLOW.cleaned_arrow_schema.names
    assert types["tpep_pickup_datetime"] == types["tpep_dropoff_datetime"] == "TIMESTAMP"
    assert types["pu_location_id"] == types["do_location_id"] == types["passenger_count"] == "INT64"
    assert types["fare_amount"] == "FLOAT64"
    assert types["store_and_fwd_flag"] == "STRING"
    assert types["pickup_date"] == "DATE"


def test_the_bigquery_table_is_partitioned_by_pickup_day_and_described(
    source_server: SourceServer, sinks: Sinks, bigquery: BigQueryEmulator
) -> None:
    loaded(_bigquery(bigquery), source_server, sinks, "green", "2021-01-01", "2021-01-31")

    table = bigquery.client().get_table(f"{bigquery.project}.{bigquery.dataset}.green_trips")
    assert (table.time_partitioning.type_, table.time_partitioning.field) == ("DAY", "pickup_date")
    partitions = bigquery.query(
        f"select partition_id from `{bigquery.project}.{bigquery.dataset}.INFORMATION_SCHEMA.PARTITIONS` "
        "where table_name = 'green_trips' order by 1"
    )
    assert [p for (p,) in partitions] == [day.replace("-", "") for day in JANUARY]
    described = {field.name: field.description for field in table.schema}
    assert described == SCHEMAS["green"].descriptions(snake=True)
    # Nothing of the loads is left beside the table.
    assert [t.table_id for t in bigquery.client().list_tables(bigquery.dataset)] == ["green_trips"]


def test_a_day_and_a_three_day_range_rematerialised_leave_no_duplicates(
    source_server: SourceServer, sinks: Sinks, warehouse: Warehouse
) -> None:
    published = {month: source_server.publish("yellow", month) for month in ("2021-01", "2021-02")}
    resources = with_warehouse(sinks.resources, warehouse.resource)
    for month in published:
        materialize_month(resources, "yellow", month)
    materialize_days(resources, "yellow", "2021-01-01", "2021-01-31")
    expected = oracle_per_day(published["2021-01"], "yellow", "2021-01")
    assert warehouse.rows_per_day("yellow") == expected

    assert materialize_days(resources, "yellow", "2021-01-05", "2021-01-05").success
    assert warehouse.rows_per_day("yellow") == expected
    # Three days across a month boundary: two months' rows, each replaced in its own statement.
    result = materialize_days(resources, "yellow", "2021-01-30", "2021-02-01")
    assert result.success, failure_message(result)
    result = materialize_days(resources, "yellow", "2021-01-30", "2021-02-01")
    assert result.success, failure_message(result)
    february = oracle_per_day(published["2021-02"], "yellow", "2021-02")
    assert warehouse.rows_per_day("yellow") == {**expected, "2021-02-01": february["2021-02-01"]}


def test_a_day_reads_back_as_arrow(source_server: SourceServer, sinks: Sinks, warehouse: Warehouse) -> None:
    """What a downstream model reads: a day of the table, with the lake's columns and types."""
    loaded(warehouse, source_server, sinks, "yellow", "2021-01-14", "2021-01-16")
    day = dt.date(2021, 1, 15)
    trips = whole(
        warehouse.resource.read_days("yellow_trips", "pickup_date", day, day + dt.timedelta(days=1))
    )
    assert len(trips) == warehouse.rows_per_day("yellow")["2021-01-15"]
    assert sorted(trips.column_names) == sorted(YELLOW.cleaned_arrow_schema.names)
    pickups = trips.column("tpep_pickup_datetime").to_pandas()
    assert (pickups.dt.date == day).all()


def test_a_merge_failing_on_schema_drift_leaves_the_previous_rows(
    source_server: SourceServer, sinks: Sinks, bigquery: BigQueryEmulator
) -> None:
    loaded(_bigquery(bigquery), source_server, sinks, "yellow", "2021-01-01", "2021-01-31")
    before = _bigquery(bigquery).rows_per_day("yellow")

    drifted = pa.table({"pickup_date": [dt.date(2021, 1, 5)], "passenger_count": ["two"]})
    with pytest.raises(Exception, match=r"passenger_count|STRING|INT64"):
        _bigquery(bigquery).resource.replace_days(
            "yellow_trips", "pickup_date", drifted, dt.date(2021, 1, 5), dt.date(2021, 1, 6)
        )
    assert _bigquery(bigquery).rows_per_day("yellow") == before
    assert [t.table_id for t in bigquery.client().list_tables(bigquery.dataset)] == ["yellow_trips"]


def _key_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "key.json"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"TAXI_WAREHOUSE": "bigquery", "GCP_PROJECT": None}, "GCP_PROJECT"),
        ({"GCP_PROJECT": "My Taxi Project"}, "GCP_PROJECT"),
        ({"BIGQUERY_DATASET": "no_such_dataset"}, "BIGQUERY_DATASET"),
        ({"BIGQUERY_DATASET": "ny-taxi; drop table x"}, "BIGQUERY_DATASET"),
        ({"GOOGLE_SERVICE_ACC_KEY_FILEPATH": "/nonexistent/key.json"}, "GOOGLE_SERVICE_ACC_KEY_FILEPATH"),
        ({"GOOGLE_SERVICE_ACC_KEY_FILEPATH": "{not json"}, "GOOGLE_SERVICE_ACC_KEY_FILEPATH"),
        ({"GOOGLE_APPLICATION_CREDENTIALS": '{"type": "nonsense"}'}, "GOOGLE_APPLICATION_CREDENTIALS"),
    ],
    ids=["no-project", "bad-project", "unknown-dataset", "bad-dataset", "no-key-file", "bad-key", "bad-adc"],
)
def test_bad_bigquery_settings_fail_naming_the_setting_and_leave_the_table(
    settings: dict[str, str | None],
    named: str,
    source_server: SourceServer,
    sinks: Sinks,
    bigquery: BigQueryEmulator,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    resources = loaded(_bigquery(bigquery), source_server, sinks, "yellow", "2021-01-04", "2021-01-06")
    before = _bigquery(bigquery).rows_per_day("yellow")

    monkeypatch.setenv("GCP_PROJECT", bigquery.project)
    monkeypatch.setenv("BIGQUERY_DATASET", bigquery.dataset)
    for name, value in settings.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        elif name.startswith("GOOGLE_") and not value.startswith("/"):
            monkeypatch.setenv(name, _key_file(tmp_path, value))
        else:
            monkeypatch.setenv(name, value)
    # As a code server started in this environment builds it (its fields read the variables when
    # the class is imported, so this process passes the same EnvVars itself).
    warehouse = BigQueryWarehouse(
        **{f: dg.EnvVar(n) for f, n in BIGQUERY_SETTINGS.items() if os.environ.get(n)}
    )

    result = materialize_days(
        with_warehouse(resources, warehouse), "yellow", "2021-01-05", "2021-01-05", raise_on_error=False
    )
    assert not result.success
    message = failure_message(result)
    assert named in message
    assert "private_key" not in message
    assert _bigquery(bigquery).rows_per_day("yellow") == before


def test_each_bigquery_field_reads_the_setting_the_docs_name() -> None:
    for field, name in BIGQUERY_SETTINGS.items():
        assert name in BigQueryWarehouse.model_fields[field].description, field


@pytest.mark.processes
@pytest.mark.parametrize(
    ("settings", "chosen"),
    [
        ({}, "DuckDBWarehouse None"),
        (
            {"GCP_PROJECT": "taxi-project", "GOOGLE_LOCATION": "EU"},
            "BigQueryWarehouse GCP_PROJECT ny_taxi GOOGLE_LOCATION",
        ),
        ({"GCP_PROJECT": "taxi-project", "TAXI_WAREHOUSE": "duckdb"}, "DuckDBWarehouse None"),
    ],
)
def test_the_warehouse_is_chosen_once_from_the_environment(settings: dict[str, str], chosen: str) -> None:
    shown = """
        from taxi_assets.defs.resources import warehouse_resource
        w = warehouse_resource()
        fields = [w.project, w.dataset, w.location] if hasattr(w, "project") else [None]
        # What the UI shows of each: a variable's name, or the value.
        print(type(w).__name__, *(getattr(f, "env_var_name", f) for f in fields))
    """
    ran = in_a_fresh_process(settings, shown)
    assert ran.stdout.strip() == chosen, ran.stderr[-2000:]


@pytest.mark.processes
def test_an_unknown_warehouse_is_named() -> None:
    ran = in_a_fresh_process({"TAXI_WAREHOUSE": "snowflake"}, "import taxi_assets.definitions as d; d.defs()")
    assert ran.returncode != 0
    assert "TAXI_WAREHOUSE 'snowflake' is not one of duckdb, bigquery" in ran.stderr


def test_bigquery_types_come_from_the_one_trip_schema() -> None:
    fields = bigquery_schema(YELLOW.cleaned_arrow_schema, YELLOW.descriptions(snake=True))
    assert [f.name for f in fields] == YELLOW.cleaned_arrow_schema.names
    assert {f.name: f.field_type for f in fields}["tpep_pickup_datetime"] == "TIMESTAMP"
    with pytest.raises(UnknownColumnType, match="no BigQuery column type"):
        bigquery_schema(pa.schema([pa.field("x", pa.list_(pa.int64()))]), {})


def test_the_course_s_cloud_path_gcs_lake_into_bigquery(
    source_server: SourceServer, sinks: Sinks, gcs: GcsEmulator, bigquery: BigQueryEmulator
) -> None:
    """The course's last hop with both emulators: the daily dataset on gs://, loaded into BigQuery."""
    from taxi_assets_tests.support.google import on_gcs

    published = source_server.publish("green", "2021-01")
    warehouse = _bigquery(bigquery)
    resources = with_warehouse(on_gcs(sinks, gcs), warehouse.resource)
    assert materialize_month(resources, "green", "2021-01").success
    days = materialize_days(resources, "green", "2021-01-01", "2021-01-31")
    assert days.success, failure_message(days)
    assert [e.passed for e in days.get_asset_check_evaluations()] == [True]
    assert len(gcs.objects("lake/green/daily_trips/")) == 31
    assert warehouse.rows_per_day("green") == oracle_per_day(published, "green", "2021-01")
