"""The code location loads, and its graph reads like the data flow."""

import json

import dagster as dg
import pytest

from taxi_assets.constants import SERVICES
from taxi_assets.keys import POSTGRES, WAREHOUSE, asset_key
from taxi_assets_tests.support.environment import in_a_fresh_process


@pytest.fixture
def defs(clean_env: None) -> dg.Definitions:
    from taxi_assets.definitions import defs

    return defs()


def test_definitions_load(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)


def test_each_service_is_a_group_and_a_prefix_with_a_key_per_stage(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for service in SERVICES:
        keys = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).group_name == service}
        stages = ("raw", "cleaned", "rejected", "postgres", "daily", "warehouse")
        assert keys == {f"{service}/{stage}_trips" for stage in stages}


def test_the_course_s_table_names_are_kept(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for service in SERVICES:
        assert graph.get(asset_key(service, POSTGRES)).metadata["dagster/table_name"] == f"{service}_cab_data"
        assert graph.get(asset_key(service, WAREHOUSE)).metadata["dagster/table_name"] == f"{service}_trips"


def test_upstream_of_the_warehouse_is_the_whole_flow(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    upstream = dg.AssetSelection.assets(asset_key("yellow", WAREHOUSE)).upstream().resolve(graph)
    assert {k.to_user_string() for k in upstream} == {
        "zones/taxi_zone_shapes",  # yellow 2009-2010 are placed in the zones' shapes
        "yellow/raw_trips",
        "yellow/cleaned_trips",
        "yellow/daily_trips",
        "yellow/warehouse_trips",
    }


def test_columns_shown_in_the_ui_carry_descriptions(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        columns = graph.get(key).metadata["dagster/column_schema"].columns
        assert columns and all(c.description for c in columns), key


def test_checks_are_attached_to_what_they_check(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    for service in SERVICES:
        assert {
            (f"{service}/cleaned_trips", "pickups_inside_partition"),
            (f"{service}/cleaned_trips", "reconciles_with_raw"),
            (f"{service}/warehouse_trips", "matches_lake"),
        } <= checks
        metered = {
            (f"{service}/cleaned_trips", "passengers_and_distance_positive"),
            (f"{service}/cleaned_trips", "known_vendor_ids"),
        }
        # FHV and high-volume FHV records have no passenger count, distance or vendor to check.
        assert (metered <= checks) == (service in ("yellow", "green"))


@pytest.mark.processes
def test_settings_come_from_the_environment() -> None:
    shown = """
        import dagster as dg
        from taxi_assets.defs.resources import environment_resources

        lake = environment_resources()["lake"]
        with dg.build_resources({"lake": lake}) as built:
            shown = getattr(lake.base_uri, "env_var_name", lake.base_uri)  # what the UI shows
            print(type(lake.base_uri).__name__, shown, built.lake.base_uri)
    """
    set_ = in_a_fresh_process({"TAXI_LAKE_URI": "/srv/lake"}, shown)
    assert set_.stdout.split() == ["EnvVar", "TAXI_LAKE_URI", "/srv/lake"], set_.stderr[-2000:]
    unset = in_a_fresh_process({}, shown)
    assert unset.stdout.split() == ["str", "data/lake", "data/lake"], unset.stderr[-2000:]


@pytest.mark.processes
def test_a_run_config_that_sets_some_fields_keeps_the_environment_s_others() -> None:
    """The launchpad's partial override: only timeout and retries for the source, only the port
    for PostgreSQL; every other field keeps what the environment says, not the built-in value.
    """
    probe = """
        import json
        import dagster as dg
        from taxi_assets.defs.resources import environment_resources
        from taxi_assets.resources.postgres import PostgresResource
        from taxi_assets.source import TaxiSource

        seen = {}

        @dg.asset
        def probe(taxi_source: TaxiSource, postgres: PostgresResource) -> None:
            seen.update(url=taxi_source.url_template, timeout=taxi_source.timeout_seconds)
            seen.update(host=postgres.host, port=postgres.port, schema=postgres.schema_name)

        resources = environment_resources()
        run_config = {
            "resources": {
                "taxi_source": {"config": {"timeout_seconds": 5, "retries": 1}},
                "postgres": {"config": {"port": 6543}},
            }
        }
        dg.materialize(
            [probe],
            resources={"taxi_source": resources["taxi_source"], "postgres": resources["postgres"]},
            run_config=run_config,
        )
        print(json.dumps(seen))
    """
    env = {
        "TAXI_SOURCE_URL_TEMPLATE": "http://127.0.0.1:9/{service}_{month}.csv.gz",
        "POSTGRES_HOST": "db.internal",
        "POSTGRES_SCHEMA": "taxi",
    }
    ran = in_a_fresh_process(env, probe)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert json.loads(ran.stdout.splitlines()[-1]) == {
        "url": "http://127.0.0.1:9/{service}_{month}.csv.gz",
        "timeout": 5,
        "host": "db.internal",
        "port": 6543,
        "schema": "taxi",
    }


@pytest.mark.processes
def test_a_whole_number_setting_that_is_not_one_is_named() -> None:
    loaded = in_a_fresh_process({"POSTGRES_PORT": "abc"}, "import taxi_assets.defs.resources")
    assert loaded.returncode != 0
    assert loaded.stderr.strip().splitlines()[-1].endswith("POSTGRES_PORT 'abc' is not a whole number")
