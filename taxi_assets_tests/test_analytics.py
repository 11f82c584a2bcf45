"""The course's dbt models on this project's warehouse: the marts equal pandas over the cleaned lake,
a month re-run replaces that month alone, and a payment type the tests do not accept fails its check.
"""

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_assets.defs.assets.analytics import dbt_target_args
from taxi_assets.defs.resources import analytics_cli
from taxi_assets.resources.bigquery_warehouse import BigQueryWarehouse
from taxi_assets_tests.support.google import BigQueryEmulator
from taxi_assets_tests.support.graphql import ask_instance
from taxi_assets_tests.support.materialize import (
    build_analytics,
    failure_message,
    load_zones,
    location_definitions,
    materialize_days,
    materialize_month,
)
from taxi_assets_tests.support.oracle import fhvhv_monthly_zone_trips, monthly_zone_revenue
from taxi_assets_tests.support.sinks import Sinks, read_lake_month, with_warehouse
from taxi_assets_tests.support.source_server import SourceServer

# dbt runs as a process of its own (dagster-dbt starts the dbt CLI), a few per test: the processes tier.
pytestmark = pytest.mark.processes

# Every service the TLC publishes: the staging views read each one's table.
SERVICES = ("yellow", "green", "fhv", "fhvhv")
REVENUE = "fct_monthly_zone_revenue"
REVENUE_KEYS = ["pickup_zone", "revenue_month", "service_type"]


def loaded(
    sinks: Sinks,
    server: SourceServer,
    months: tuple[str, ...],
    services: tuple[str, ...] = SERVICES,
    rows: int = 3_000,
) -> dict[str, Any]:
    """The zones and each service's months through cleaning into the warehouse's days."""
    resources = {**sinks.resources, "taxi_source": server.source()}
    server.publish_zones()
    load_zones(resources)
    for service in services:
        for month in months:
            server.publish(service, month, rows=rows, seed=hash(month) % 100)
            assert materialize_month(resources, service, month).success
            first, last = f"{month}-01", (pd.Period(month, "M").end_time.date()).isoformat()
            assert materialize_days(resources, service, first, last).success
    return resources


def warehouse_table(path: Path, table: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select * from ny_taxi.{table}").df()


def lake_zones(sinks: Sinks) -> pd.DataFrame:
    return pd.read_parquet(sinks.lake_dir / "zones" / "taxi_zones.parquet")


def same_rows(built: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    """Every row and column equal (sums to the cent: the course casts amounts to NUMERIC)."""
    built = built.assign(**{k: built[k].astype(expected[k].dtype) for k in keys})
    built, expected = (f.sort_values(keys).reset_index(drop=True) for f in (built, expected))
    assert list(built.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        built.astype({c: "float64" for c in built.columns if c not in keys}),
        expected.astype({c: "float64" for c in expected.columns if c not in keys}),
        check_exact=False,
        atol=0.01,
        rtol=1e-9,
    )


def test_the_marts_equal_pandas_over_the_cleaned_lake_and_the_zones(
    tlc_server: SourceServer, sinks: Sinks
) -> None:
    resources = loaded(sinks, tlc_server, ("2021-01",))
    result = build_analytics(resources, "2021-01")
    assert result.success, failure_message(result)
    assert all(check.passed for check in result.get_asset_check_evaluations())

    zones = lake_zones(sinks)
    cleaned = {s: read_lake_month(sinks.lake_dir, "cleaned_trips", s, "2021-01") for s in SERVICES}
    revenue = warehouse_table(sinks.duckdb_path, "fct_monthly_zone_revenue")
    expected = monthly_zone_revenue({s: cleaned[s] for s in ("yellow", "green")}, zones)
    assert set(revenue["service_type"]) == {"Yellow", "Green"} and len(revenue) > 100
    same_rows(revenue, expected, REVENUE_KEYS)

    # The chart reads the mart back through the models' IO manager and draws it.
    drawn = dg.materialize(
        location_definitions(),
        selection=dg.AssetSelection.assets("monthly_revenue_chart"),
        resources=resources,
    )
    assert drawn.success, failure_message(drawn)
    [chart] = drawn.asset_materializations_for_node("monthly_revenue_chart")
    assert chart.metadata["chart"].value.startswith(
        "![Trips and revenue by borough and service](data:image/png;base64,iVBOR"
    )
    assert chart.metadata["months"].value == 1

    fhvhv = warehouse_table(sinks.duckdb_path, "fct_fhvhv_monthly_zone_trips")
    same_rows(
        fhvhv,
        fhvhv_monthly_zone_trips(cleaned["fhvhv"], zones),
        ["pickup_zone", "pickup_borough", "trip_month"],
    )


def months_of(path: Path) -> dict[str, pd.DataFrame]:
    """The revenue mart's rows per month, in a fixed order."""
    rows = warehouse_table(path, "fct_monthly_zone_revenue")
    return {
        f"{month:%Y-%m}": group.sort_values(list(group.columns)).reset_index(drop=True)
        for month, group in rows.groupby("revenue_month")
    }


def test_a_month_run_again_on_new_days_replaces_that_month_alone(
    tlc_server: SourceServer, sinks: Sinks
) -> None:
    taxis, months = ("yellow", "green"), ("2021-01", "2021-02")
    resources = loaded(sinks, tlc_server, months, services=taxis, rows=1_000)
    for month in months:
        assert build_analytics(resources, month, models=(REVENUE,)).success
    before, trips_before = months_of(sinks.duckdb_path), warehouse_table(sinks.duckdb_path, "fct_trips")

    # February published again with other trips, its days loaded again, its analytics run again.
    for service in taxis:
        tlc_server.publish(service, "2021-02", rows=800, seed=7)
        assert materialize_month(resources, service, "2021-02").success
        assert materialize_days(resources, service, "2021-02-01", "2021-02-28").success
    assert build_analytics(resources, "2021-02", models=(REVENUE,)).success

    after, trips_after = months_of(sinks.duckdb_path), warehouse_table(sinks.duckdb_path, "fct_trips")
    pd.testing.assert_frame_equal(after["2021-01"], before["2021-01"])
    february = {s: read_lake_month(sinks.lake_dir, "cleaned_trips", s, "2021-02") for s in taxis}
    same_rows(after["2021-02"], monthly_zone_revenue(february, lake_zones(sinks)), REVENUE_KEYS)
    in_january = {
        name: set(trips["trip_id"][trips["pickup_datetime"] < "2021-02-01"])
        for name, trips in (("before", trips_before), ("after", trips_after))
    }
    assert in_january["after"] == in_january["before"]
    assert trips_after["trip_id"].is_unique
    assert (trips_after["pickup_datetime"] >= "2021-02-01").sum() == after["2021-02"][
        "total_monthly_trips"
    ].sum()

    # The same month run again with nothing new: the same rows.
    assert build_analytics(resources, "2021-02", models=(REVENUE,)).success
    assert all(after[m].equals(rows) for m, rows in months_of(sinks.duckdb_path).items())


PAYMENT_CHECK = "accepted_values_fct_trips_payment_type__False__0__1__2__3__4__5__6"


@pytest.mark.processes  # the UI's answer, asked of dagster-graphql
def test_a_payment_type_outside_the_accepted_set_fails_its_check_naming_model_and_value(
    tlc_server: SourceServer, sinks: Sinks, tmp_path: Path
) -> None:
    taxis = ("yellow", "green")
    resources = {**sinks.resources, "taxi_source": tlc_server.source()}
    tlc_server.publish_zones()
    load_zones(resources)
    for service in taxis:
        published = tlc_server.publish(service, "2021-01", rows=500)
        if service == "yellow":
            # A payment type the TLC has not defined (yet): 9, on three trips.
            trips = pq.read_table(published)
            codes = trips.column("payment_type").to_pylist()
            codes[:3] = [9, 9, 9]
            column = trips.schema.get_field_index("payment_type")
            trips = trips.set_column(column, "payment_type", pa.array(codes, trips.schema.field(column).type))
            pq.write_table(trips, published)
        assert materialize_month(resources, service, "2021-01").success
        assert materialize_days(resources, service, "2021-01-01", "2021-01-31").success

    home = tmp_path / "dagster_home"
    home.mkdir()
    instance = dg.DagsterInstance.local_temp(str(home))
    result = build_analytics(resources, "2021-01", models=(REVENUE,), raise_on_error=False, instance=instance)
    assert not result.success
    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert set(failed) == {PAYMENT_CHECK}, failed
    # The check and the run's log name the model and the value.
    assert failed[PAYMENT_CHECK].metadata["failing_rows"].value == [{"value_field": 9, "n_records": 3}]
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("model fct_trips" in m and '"value_field": 9' in m for m in logged), logged[-5:]

    # The UI shows it: the check's latest execution failed, in that run, saying on what and why.
    [execution] = ask_instance(
        home,
        dict(os.environ),
        f'{{ assetCheckExecutions(assetKey: {{path: ["fct_trips"]}}, checkName: "{PAYMENT_CHECK}", limit: 1) '
        "{ runId status evaluation { success description } } }",
    )["assetCheckExecutions"]
    assert execution["runId"] == result.run_id and execution["status"] == "FAILED"
    assert not execution["evaluation"]["success"]
    assert "fct_trips" in execution["evaluation"]["description"]
    assert '"value_field": 9' in execution["evaluation"]["description"]


def test_the_models_run_on_bigquery_as_far_as_the_emulator_goes(
    tlc_server: SourceServer, sinks: Sinks, bigquery: BigQueryEmulator, tmp_path: Path
) -> None:
    """bqemulator (DuckDB underneath) runs dbt-bigquery's SQL for every model and test on a first
    build, which creates the tables. What it cannot run: a month built again (dbt-bigquery's
    partition replacement script selects ``array_agg(distinct … ignore nulls)``, which the
    emulator's SQL translation rejects), so replacing a month is checked on DuckDB; and it does
    not keep partitioning or clustering, so those are checked on the models' configuration.
    """
    warehouse = BigQueryWarehouse(project=bigquery.project, dataset=bigquery.dataset)
    resources = with_warehouse({**sinks.resources, "taxi_source": tlc_server.source()}, warehouse)
    tlc_server.publish_zones()
    load_zones(resources)
    taxis = ("yellow", "green")
    for service in taxis:
        tlc_server.publish(service, "2021-01", rows=300)
        assert materialize_month(resources, service, "2021-01").success
        assert materialize_days(resources, service, "2021-01-01", "2021-01-31").success

    def revenue() -> pd.DataFrame:
        rows = (
            bigquery.client()
            .query(f"select * from `{bigquery.dataset}.{REVENUE}`")
            .to_dataframe(create_bqstorage_client=False)
        )
        return rows.assign(revenue_month=pd.to_datetime(rows["revenue_month"]))

    cleaned = {s: read_lake_month(sinks.lake_dir, "cleaned_trips", s, "2021-01") for s in taxis}
    expected = monthly_zone_revenue(cleaned, lake_zones(sinks))
    result = build_analytics(resources, "2021-01", models=(REVENUE,))
    assert result.success, failure_message(result)
    assert all(check.passed for check in result.get_asset_check_evaluations())
    same_rows(revenue(), expected, REVENUE_KEYS)

    # The table dbt-bigquery makes: partitioned by pickup month, clustered by pickup zone and service.
    parsed = tmp_path / "parsed"
    settings = json.dumps({"bigquery_project": bigquery.project, "bigquery_dataset": bigquery.dataset})
    analytics_cli().cli(["parse", "--target", "bigquery", "--vars", settings], target_path=parsed).wait()
    manifest = json.loads((parsed / "manifest.json").read_text())
    config = next(n for n in manifest["nodes"].values() if n["name"] == "fct_trips")["config"]
    assert config["partition_by"] == {
        "field": "pickup_datetime",
        "data_type": "timestamp",
        "granularity": "month",
    }
    assert config["cluster_by"] == ["pickup_location_id", "service_type"]


def bigquery_location(args: list[str], tmp_path: Path) -> str | None:
    """The location dbt's BigQuery jobs would run in with ``args``: the profile's rendered
    ``target.location``, as ``dbt compile`` gives it (rendering needs no connection).
    """
    compiled = analytics_cli().cli(
        [
            "compile",
            "--inline",
            "select {{ tojson(target.location) }} as location",
            "--no-populate-cache",
            "--target",
            "bigquery",
            *args,
        ],
        target_path=tmp_path / "compiled",
        raise_on_error=False,
    )
    found = [
        raw.raw_event["data"]["compiled"]
        for raw in compiled.stream_raw_events()
        if raw.raw_event["info"]["name"] == "CompiledNode"
    ]
    assert compiled.is_successful() and found, compiled.get_error()
    return json.loads(found[0].removeprefix("select ").removesuffix(" as location"))


@pytest.mark.parametrize(
    ("location", "chosen"),
    [(None, None), ("europe-west1", "europe-west1")],
    ids=["unset", "set"],
)
def test_dbt_runs_its_bigquery_jobs_where_the_loader_does(
    location: str | None, chosen: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOOGLE_LOCATION when it is set; unset, no location, so BigQuery runs each job where its
    dataset is, as the loader's client does: a forced location fails every job on a dataset
    elsewhere ("Not found: Dataset … in location EU").
    """
    monkeypatch.setenv("GCP_PROJECT", "taxi-project")
    # An unreachable endpoint: rendering the profile must not need BigQuery.
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:9")
    if location is None:
        monkeypatch.delenv("GOOGLE_LOCATION", raising=False)
    else:
        monkeypatch.setenv("GOOGLE_LOCATION", location)
    # By hand (the profile alone), and as Dagster runs it (the resource's settings as --vars).
    assert bigquery_location([], tmp_path / "by_hand") == chosen
    warehouse = BigQueryWarehouse(project="taxi-project", dataset="ny_taxi", location=location)
    assert bigquery_location(dbt_target_args(warehouse)[2:], tmp_path / "dagster") == chosen
