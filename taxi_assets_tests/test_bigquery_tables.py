"""The BigQuery trips tables as the course's week-3 lesson has them: partitioned by day and
clustered by zone, an external table over the lake's daily files on GCS, and tables an earlier
version made (partitioned, not clustered) still loaded. Against bqemulator on loopback; where it
keeps no clustering or external definition, the request the loader sends is checked instead.
"""

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from google.cloud.bigquery import Client, SchemaField, Table, TimePartitioning

from taxi_assets.resources.bigquery_warehouse import (
    CLUSTERED_BY,
    BigQueryWarehouse,
    bigquery_schema,
    external_table_definition,
    trips_table_definition,
)
from taxi_assets.schema import FHV, PICKUP_DATE, SCHEMAS, YELLOW
from taxi_assets_tests.support.google import BigQueryEmulator, GcsEmulator, on_gcs
from taxi_assets_tests.support.materialize import failure_message, materialize_days, materialize_month
from taxi_assets_tests.support.oracle import oracle_per_day
from taxi_assets_tests.support.sinks import Sinks, with_warehouse
from taxi_assets_tests.support.source_server import SourceServer

JANUARY_FIRST, JANUARY_THIRD = dt.date(2021, 1, 1), dt.date(2021, 1, 3)


def _yellow_rows() -> pa.Table:
    """Three trips on two days, every other column empty (the loader types them all)."""
    rows = [
        {"pu_location_id": 132, "do_location_id": 236, "fare_amount": 52.0, PICKUP_DATE: JANUARY_FIRST},
        {"pu_location_id": 138, "do_location_id": 161, "fare_amount": 37.5, PICKUP_DATE: JANUARY_FIRST},
        {"pu_location_id": 132, "do_location_id": 48, "fare_amount": 61.0, PICKUP_DATE: dt.date(2021, 1, 2)},
    ]
    return pa.Table.from_pylist(rows, schema=YELLOW.cleaned_arrow_schema)


def _warehouse(bq: BigQueryEmulator, lake_uri: str | None = None) -> BigQueryWarehouse:
    return BigQueryWarehouse(project=bq.project, dataset=bq.dataset, lake_uri=lake_uri)


def _fields(schema: pa.Schema) -> list[SchemaField]:
    return bigquery_schema(schema, {})


def _stored(bq: BigQueryEmulator) -> list[tuple]:
    return bq.query(
        f"select cast(pickup_date as string), pu_location_id, do_location_id, fare_amount "
        f"from `{bq.project}.{bq.dataset}.yellow_trips` order by 1, 2, 3"
    )


def test_the_trips_tables_are_clustered_by_the_pickup_zone_first() -> None:
    """The request that creates a trips table: day partitions on pickup_date, clustered by pickup
    zone, drop-off zone and the vendor (taxis) or the dispatching base (FHV), the columns it has.
    """
    yellow = trips_table_definition("p.d.yellow_trips", _fields(YELLOW.cleaned_arrow_schema), PICKUP_DATE)
    assert yellow.time_partitioning.type_ == "DAY"
    assert yellow.time_partitioning.field == PICKUP_DATE
    assert yellow.clustering_fields == ["pu_location_id", "do_location_id", "vendor_id"]
    fhv = trips_table_definition("p.d.fhv_trips", _fields(FHV.cleaned_arrow_schema), PICKUP_DATE)
    assert fhv.clustering_fields == ["pu_location_id", "do_location_id", "dispatching_base_num"]
    for schema in SCHEMAS.values():  # BigQuery takes at most four clustering columns
        made = trips_table_definition("p.d.t", _fields(schema.cleaned_arrow_schema), PICKUP_DATE)
        assert made.clustering_fields[0] == "pu_location_id"
        assert len(made.clustering_fields) <= 4
        assert set(made.clustering_fields) <= set(CLUSTERED_BY)
    # As sent to BigQuery's tables.insert.
    assert yellow.to_api_repr()["clustering"] == {"fields": ["pu_location_id", "do_location_id", "vendor_id"]}


def test_a_new_trips_table_is_made_partitioned_and_clustered(bigquery: BigQueryEmulator) -> None:
    warehouse = _warehouse(bigquery)
    rows = _yellow_rows()
    warehouse.evolve_table("yellow_trips", rows.schema, PICKUP_DATE, {})
    warehouse.replace_days("yellow_trips", PICKUP_DATE, rows, JANUARY_FIRST, JANUARY_THIRD)

    made = bigquery.client().get_table(f"{bigquery.project}.{bigquery.dataset}.yellow_trips")
    assert made.time_partitioning.field == PICKUP_DATE
    assert made.clustering_fields == ["pu_location_id", "do_location_id", "vendor_id"]
    assert _stored(bigquery) == [
        ("2021-01-01", 132, 236, 52.0),
        ("2021-01-01", 138, 161, 37.5),
        ("2021-01-02", 132, 48, 61.0),
    ]


def test_a_table_an_earlier_version_made_unclustered_keeps_loading(bigquery: BigQueryEmulator) -> None:
    """A table partitioned but not clustered, as the loader made them before: the next load gains
    it the clustering in place, and replaces its days as before (the old rows of other days stay).
    """
    client = bigquery.client()
    name = f"{bigquery.project}.{bigquery.dataset}.yellow_trips"
    earlier = Table(name, schema=_fields(YELLOW.cleaned_arrow_schema))
    earlier.time_partitioning = TimePartitioning(type_="DAY", field=PICKUP_DATE)
    client.create_table(earlier)
    warehouse = _warehouse(bigquery)
    old = pa.Table.from_pylist(
        [
            {"pu_location_id": 1, "do_location_id": 2, "fare_amount": 9.0, PICKUP_DATE: JANUARY_FIRST},
            {"pu_location_id": 3, "do_location_id": 4, "fare_amount": 8.0, PICKUP_DATE: JANUARY_THIRD},
        ],
        schema=YELLOW.cleaned_arrow_schema,
    )
    client.load_table_from_dataframe(old.to_pandas(), name).result()
    assert client.get_table(name).clustering_fields is None

    rows = _yellow_rows()
    warehouse.evolve_table("yellow_trips", rows.schema, PICKUP_DATE, {})
    warehouse.replace_days("yellow_trips", PICKUP_DATE, rows, JANUARY_FIRST, JANUARY_THIRD)

    assert _stored(bigquery) == [
        ("2021-01-01", 132, 236, 52.0),
        ("2021-01-01", 138, 161, 37.5),
        ("2021-01-02", 132, 48, 61.0),
        ("2021-01-03", 3, 4, 8.0),
    ]
    assert client.get_table(name).clustering_fields == ["pu_location_id", "do_location_id", "vendor_id"]


def test_the_external_table_reads_the_daily_folders_by_day() -> None:
    """The request that defines ``yellow_trips_external``: the lake's daily parquet files where
    they are, each ``pickup_date=YYYY-MM-DD`` folder a DATE partition.
    """
    table = external_table_definition(
        "p.d.yellow_trips_external", "gs://taxi-lake/lake/yellow/daily_trips", PICKUP_DATE
    )
    config = table.external_data_configuration
    assert config.source_format == "PARQUET"
    assert config.source_uris == ["gs://taxi-lake/lake/yellow/daily_trips/*"]
    assert config.hive_partitioning.mode == "CUSTOM"
    assert (
        config.hive_partitioning.source_uri_prefix
        == "gs://taxi-lake/lake/yellow/daily_trips/{pickup_date:DATE}"
    )
    assert table.to_api_repr()["externalDataConfiguration"]["hivePartitioningOptions"] == {
        "mode": "CUSTOM",
        "sourceUriPrefix": "gs://taxi-lake/lake/yellow/daily_trips/{pickup_date:DATE}",
    }


def _sent_tables(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every table the loader's client asks BigQuery to create, recorded on its way to the emulator."""
    sent: list[Any] = []
    create = Client.create_table

    def recorded(client: Client, table: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(table)
        return create(client, table, *args, **kwargs)

    monkeypatch.setattr(Client, "create_table", recorded)
    return sent


def test_with_the_lake_on_gcs_the_loader_defines_the_external_table(
    bigquery: BigQueryEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What bqemulator could not check: it stores ``yellow_trips_external`` as a plain empty table
    (no external definition comes back, and it reads nothing from GCS), so the definition the
    loader sent is checked as sent, and querying the lake's files through it is not.
    """
    sent = _sent_tables(monkeypatch)
    warehouse = _warehouse(bigquery, lake_uri="gs://taxi-lake/lake")
    warehouse.evolve_table("yellow_trips", YELLOW.cleaned_arrow_schema, PICKUP_DATE, {})

    tables = {t.table_id for t in bigquery.client().list_tables(bigquery.dataset)}
    assert tables == {"yellow_trips", "yellow_trips_external"}
    [external] = [t for t in sent if t.table_id == "yellow_trips_external"]
    config = external.external_data_configuration
    assert config.source_uris == ["gs://taxi-lake/lake/yellow/daily_trips/*"]
    assert (
        config.hive_partitioning.source_uri_prefix
        == "gs://taxi-lake/lake/yellow/daily_trips/{pickup_date:DATE}"
    )

    # The lake moved: the next load defines the table again over the new folder.
    moved = _warehouse(bigquery, lake_uri="gs://taxi-lake-2/lake")
    moved.evolve_table("yellow_trips", YELLOW.cleaned_arrow_schema, PICKUP_DATE, {})
    assert sent[-1].external_data_configuration.source_uris == ["gs://taxi-lake-2/lake/yellow/daily_trips/*"]


def test_with_a_local_lake_no_external_table_is_made(bigquery: BigQueryEmulator, tmp_path: Path) -> None:
    warehouse = _warehouse(bigquery, lake_uri=str(tmp_path))
    warehouse.evolve_table("yellow_trips", YELLOW.cleaned_arrow_schema, PICKUP_DATE, {})
    assert {t.table_id for t in bigquery.client().list_tables(bigquery.dataset)} == {"yellow_trips"}


def test_a_load_from_the_lake_on_gcs_defines_the_external_table_beside_the_trips(
    source_server: SourceServer,
    sinks: Sinks,
    gcs: GcsEmulator,
    bigquery: BigQueryEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The course's cloud path as Dagster runs it: the days land in BigQuery, clustered, and the
    external table is defined over the daily folders the run wrote (as sent: see above).
    """
    sent = _sent_tables(monkeypatch)
    published = source_server.publish("green", "2021-01")
    warehouse = _warehouse(bigquery, lake_uri=f"gs://{gcs.bucket}/lake")
    resources = with_warehouse(on_gcs(sinks, gcs), warehouse)
    assert materialize_month(resources, "green", "2021-01").success
    days = materialize_days(resources, "green", "2021-01-01", "2021-01-31")
    assert days.success, failure_message(days)

    table = f"{bigquery.project}.{bigquery.dataset}.green_trips"
    rows = bigquery.query(f"select cast(pickup_date as string), count(*) from `{table}` group by 1")
    assert dict(rows) == oracle_per_day(published, "green", "2021-01")
    trips = bigquery.client().get_table(table)
    assert trips.clustering_fields == ["pu_location_id", "do_location_id", "vendor_id"]
    [external] = [t for t in sent if t.table_id == "green_trips_external"]
    folder = f"gs://{gcs.bucket}/lake/green/daily_trips"
    assert external.external_data_configuration.source_uris == [f"{folder}/*"]
    assert len(gcs.objects("lake/green/daily_trips/pickup_date=")) == 31
