"""The code location loads, and its graph reads like the data flow."""

import dagster as dg
import pytest

from taxi_assets.constants import SERVICES


@pytest.fixture
def defs(clean_env: None) -> dg.Definitions:
    from taxi_assets.definitions import defs

    return defs


def test_definitions_load(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)


def test_each_service_is_a_group_with_a_prefix_per_stage(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for service in SERVICES:
        keys = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).group_name == service}
        stages = ("raw", "cleaned", "rejected", "daily", "warehouse")
        assert keys == {f"{stage}/{service}_trips" for stage in stages} | {f"postgres/{service}_cab_data"}


def test_upstream_of_the_warehouse_is_the_whole_flow(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    upstream = dg.AssetSelection.assets(dg.AssetKey(["warehouse", "yellow_trips"])).upstream().resolve(graph)
    assert {k.to_user_string() for k in upstream} == {
        "raw/yellow_trips",
        "cleaned/yellow_trips",
        "daily/yellow_trips",
        "warehouse/yellow_trips",
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
            (f"cleaned/{service}_trips", "passengers_and_distance_positive"),
            (f"cleaned/{service}_trips", "pickups_inside_partition"),
            (f"cleaned/{service}_trips", "reconciles_with_raw"),
            (f"cleaned/{service}_trips", "known_vendor_ids"),
            (f"warehouse/{service}_trips", "matches_lake"),
        } <= checks


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, clean_env: None) -> None:
    from taxi_assets.resources import build_resources

    monkeypatch.setenv("TAXI_LAKE_URI", "/srv/lake")
    resources = build_resources()
    assert isinstance(resources["io_manager"].base_uri, dg.EnvVar)
    assert resources["io_manager"].base_uri.get_value() == "/srv/lake"
    monkeypatch.delenv("TAXI_LAKE_URI")
    assert build_resources()["io_manager"].base_uri == "data/lake"
