"""Schedules, sensors and run configuration, evaluated as the daemon would, against real services."""

import datetime as dt
import json
from collections.abc import Iterator

import dagster as dg
import pytest

from taxi_assets.defs.schedules import daily_schedules, monthly_schedules
from taxi_assets.defs.sensors import new_month_sensor
from taxi_assets.keys import CLEANED, POSTGRES, RAW, REJECTED, WAREHOUSE, asset_key, asset_keys
from taxi_assets.partitions import days_of
from taxi_assets_tests.support.materialize import location, location_definitions, materialize_month
from taxi_assets_tests.support.sinks import Sinks
from taxi_assets_tests.support.source_server import SourceServer

UTC = dt.UTC


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A Dagster instance of this test's own, in memory: what the daemon's would hold, for a tick."""
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def test_schedules_target_yesterday_and_last_month_and_start_stopped(instance: dg.DagsterInstance) -> None:
    daily_schedule = location().resolve_schedule_def(daily_schedules["yellow"].name)
    monthly_schedule = location().resolve_schedule_def(monthly_schedules["fhv"].name)
    assert (daily_schedule.name, monthly_schedule.name) == (
        "yellow_daily_trips_at_0500_utc",
        "fhv_monthly_trips_on_the_first",
    )
    tick = dg.build_schedule_context(
        instance, scheduled_execution_time=dt.datetime(2021, 1, 16, 5, tzinfo=UTC)
    )
    [daily] = daily_schedule.evaluate_tick(tick).run_requests
    assert daily.partition_key == "2021-01-15"
    assert daily_schedule.cron_schedule == "0 5 * * *"

    tick = dg.build_schedule_context(
        instance, scheduled_execution_time=dt.datetime(2021, 2, 1, 5, tzinfo=UTC)
    )
    [monthly] = monthly_schedule.evaluate_tick(tick).run_requests
    assert monthly.partition_key == "2021-01"
    assert monthly_schedule.cron_schedule == "0 5 1 * *"
    assert (
        daily_schedule.default_status == monthly_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    )


def new_month_tick(instance: dg.DagsterInstance, server: SourceServer, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=location(),
        resources={"taxi_source": server.source()},
    )
    return new_month_sensor(context)


def requested(result: dg.SensorResult) -> list[tuple[str, str]]:
    for r in result.run_requests:
        assert r.job_name == f"{r.asset_selection[0].path[0]}_monthly_trips"
    return [(r.asset_selection[0].path[0], r.partition_key) for r in result.run_requests]


def test_new_month_sensor_requests_published_months_and_explains_the_rest(
    instance: dg.DagsterInstance, source_server: SourceServer, sinks: Sinks
) -> None:
    for month in ("2021-01", "2021-02", "2021-03"):
        source_server.publish("yellow", month)
    source_server.publish("green", "2021-01")
    assert materialize_month(sinks.resources, "yellow", "2021-01", instance=instance).success
    start = json.dumps({"yellow": "2020-12", "green": "2020-12", "fhv": "2020-12", "fhvhv": "2020-12"})

    first = new_month_tick(instance, source_server, start)
    assert requested(first) == [("yellow", "2021-02"), ("yellow", "2021-03"), ("green", "2021-01")]
    assert json.loads(first.cursor) == {
        "yellow": "2021-03",
        "green": "2021-01",
        "fhv": "2020-12",
        "fhvhv": "2020-12",
    }
    [yellow_feb, *_] = first.run_requests
    assert set(yellow_feb.asset_selection) == set(asset_keys("yellow", (RAW, CLEANED, REJECTED, POSTGRES)))
    assert set(source_server.faults.methods) == {"HEAD", "GET"}  # GETs are the materialisation's
    source_server.faults.methods.clear()

    second = new_month_tick(instance, source_server, first.cursor)
    assert second.run_requests == []
    assert second.skip_reason.skip_message == (
        "yellow 2021-04 not published yet; green 2021-02 not published yet; fhv 2021-01 not published yet; "
        "fhvhv 2021-01 not published yet"
    )
    assert second.cursor == first.cursor
    assert set(source_server.faults.methods) == {"HEAD"}, "the sensor never downloads"

    source_server.publish("yellow", "2021-04")
    third = new_month_tick(instance, source_server, second.cursor)
    assert requested(third) == [("yellow", "2021-04")]
    assert json.loads(third.cursor)["yellow"] == "2021-04"


def requested_partitions(result: dg.EvaluateAutomationConditionsResult) -> dict[str, list[str]]:
    """What a tick of the automation sensor asks for: asset → its partitions, in order."""
    return {
        key.to_user_string(): sorted(result.get_requested_partitions(key))
        for key in location().resolve_asset_graph().get_all_asset_keys()
        if result.get_num_requested(key)
    }


def test_a_cleaned_month_is_followed_by_postgres_and_its_days(
    instance: dg.DagsterInstance, source_server: SourceServer, sinks: Sinks
) -> None:
    """The automation conditions, evaluated as the daemon's automation sensor does."""
    source_server.publish("green", "2021-01")
    source_server.publish("green", "2021-02")
    first = dg.evaluate_automation_conditions(defs=location(), instance=instance)
    assert requested_partitions(first) == {}, "nothing is loaded yet: nothing to follow"

    materialize_month(sinks.resources, "green", "2021-01", instance=instance)  # the monthly job
    after_january = dg.evaluate_automation_conditions(defs=location(), instance=instance, cursor=first.cursor)
    january = [f"2021-01-{day:02}" for day in range(1, 32)]
    assert requested_partitions(after_january) == {
        "green/daily_trips": january,
        "green/warehouse_trips": january,
    }, "PostgreSQL was loaded in the month's own run; its days follow"

    # Only the lake's cleaned month, as a user re-running it from the UI would: PostgreSQL follows too.
    cleaned_only = dg.materialize(
        location_definitions(),
        selection=dg.AssetSelection.assets(*asset_keys("green", (RAW, CLEANED, REJECTED))),
        resources=sinks.resources,
        partition_key="2021-02",
        instance=instance,
    )
    assert cleaned_only.success
    after_february = dg.evaluate_automation_conditions(
        defs=location(), instance=instance, cursor=after_january.cursor
    )
    february = [f"2021-02-{day:02}" for day in range(1, 29)]
    assert requested_partitions(after_february) == {
        "green/postgres_trips": ["2021-02"],
        "green/daily_trips": february,
        "green/warehouse_trips": february,
    }, "January's days were asked for already"


def test_the_chart_follows_the_mart_once_it_holds_a_month(instance: dg.DagsterInstance) -> None:
    """The mart's months reach back to 2009; a history that starts later is drawn all the same."""
    chart = dg.AssetKey("monthly_revenue_chart")
    first = dg.evaluate_automation_conditions(defs=location(), instance=instance)
    assert not first.get_num_requested(chart), "nothing to draw yet"

    # A month of the mart and the zones' dimension built (by their dbt run), every other month not.
    instance.report_runless_asset_event(dg.AssetMaterialization("dim_zones"))
    instance.report_runless_asset_event(
        dg.AssetMaterialization("fct_monthly_zone_revenue", partition="2019-01")
    )
    after = dg.evaluate_automation_conditions(defs=location(), instance=instance, cursor=first.cursor)
    assert after.get_num_requested(chart) == 1


def test_a_run_can_point_the_source_elsewhere_from_the_launchpad(
    source_server: SourceServer, sinks: Sinks
) -> None:
    mirror = source_server.root / "mirror"
    mirror.mkdir()
    source_server.publish("yellow", "2021-01").rename(mirror / "yellow_tripdata_2021-01.csv.gz")
    template = f"{source_server.base_url}/mirror/{{service}}_tripdata_{{month}}.csv.gz"
    result = dg.materialize(
        location_definitions(),
        selection=dg.AssetSelection.assets(asset_key("yellow", RAW)),
        resources=sinks.resources,
        partition_key="2021-01",
        run_config={"resources": {"taxi_source": {"config": {"url_template": template}}}},
    )
    [materialization] = result.asset_materializations_for_node("yellow__raw_trips")
    assert materialization.metadata["source_url"].value == template.format(service="yellow", month="2021-01")


def report_days(instance: dg.DagsterInstance, service: str, month: str) -> None:
    """The month's days in the warehouse, as a day run's materialisations would record them."""
    for day in days_of(month):
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key(service, WAREHOUSE), partition=str(day))
        )


def test_a_month_s_models_go_as_one_request_once_every_service_s_days_are_in(
    instance: dg.DagsterInstance,
) -> None:
    """Yellow's days land while green's month is still on its way: the month's models wait for green
    (a run for yellow's staging view alone, then one for green's, then the facts, was three runs
    where one does), then go together in one tick.
    """
    first = dg.evaluate_automation_conditions(defs=location(), instance=instance)
    instance.report_runless_asset_event(dg.AssetMaterialization("dim_zones"))
    report_days(instance, "yellow", "2019-01")
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key("green", CLEANED), partition="2019-01")
    )

    green_landing = dg.evaluate_automation_conditions(defs=location(), instance=instance, cursor=first.cursor)
    requested = requested_partitions(green_landing)
    assert requested["green/warehouse_trips"] == [str(day) for day in days_of("2019-01")]
    assert not [key for key in requested if not key.startswith("green/")], requested

    report_days(instance, "green", "2019-01")
    both_in = dg.evaluate_automation_conditions(
        defs=location(), instance=instance, cursor=green_landing.cursor
    )
    assert requested_partitions(both_in) == {
        model: ["2019-01"]
        for model in (
            "stg_yellow_tripdata",
            "stg_green_tripdata",
            "int_trips_unioned",
            "fct_trips",
            "fct_monthly_zone_revenue",
        )
    }
