"""The taxi zone lookup as a user meets it: served by the local source server (generated here, never
committed), loaded into the lake, PostgreSQL, DuckDB and BigQuery, loaded again by Dagster's
automation when the published file changes, and each cleaned month checked against it.
"""

import csv
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_assets.constants import ZONES_POSTGRES_TABLE, ZONES_WAREHOUSE_TABLE
from taxi_assets.defs.assets.zones import (
    LOOKUP_FILE,
    UNKNOWN_ZONE_SHARE_WARN,
    ZONE_CHECK,
    ZONES_KEY,
    taxi_zones,
)
from taxi_assets.resources.bigquery_warehouse import BigQueryWarehouse
from taxi_assets_tests.support.automation import loaded_again_when_changed_and_only_then
from taxi_assets_tests.support.google import BigQueryEmulator
from taxi_assets_tests.support.materialize import (
    failure_message,
    load_zones,
    location_definitions,
    materialize_month,
)
from taxi_assets_tests.support.postgres import table_rows
from taxi_assets_tests.support.sinks import Sinks, with_warehouse
from taxi_assets_tests.support.source_server import SourceServer


def published_lookup(path: Path) -> list[tuple]:
    """The lookup's rows as the CSV has them, read by the csv module (not by the project)."""
    with path.open(newline="") as f:
        return sorted(
            (int(r["LocationID"]), r["Borough"], r["Zone"], r["service_zone"]) for r in csv.DictReader(f)
        )


def stored(table: pa.Table) -> list[tuple]:
    return sorted(
        tuple(row.values())
        for row in table.select(["location_id", "borough", "zone", "service_zone"]).to_pylist()
    )


def from_server(sinks: Sinks, server: SourceServer) -> dict[str, Any]:
    return {**sinks.resources, "taxi_source": server.source()}


def test_the_lookup_lands_in_the_lake_postgres_and_duckdb(tlc_server: SourceServer, sinks: Sinks) -> None:
    expected = published_lookup(tlc_server.publish_zones())
    assert len(expected) == 265 and expected[-2][1:] == (264, "Unknown", "N/A", "N/A")[1:]
    result = load_zones(from_server(sinks, tlc_server))
    [materialized] = result.asset_materializations_for_node("zones__taxi_zones")
    assert materialized.metadata["dagster/row_count"].value == 265
    assert stored(pq.read_table(sinks.lake_dir / "zones" / "taxi_zones.parquet")) == expected
    assert stored(table_rows(sinks.postgres, ZONES_POSTGRES_TABLE)) == expected
    assert stored(sinks.resources["warehouse"].read_table(ZONES_WAREHOUSE_TABLE)) == expected

    # Published again with a zone fewer: each store holds the new lookup, not both.
    expected = published_lookup(tlc_server.publish_zones(zones=262))
    load_zones(from_server(sinks, tlc_server))
    assert stored(table_rows(sinks.postgres, ZONES_POSTGRES_TABLE)) == expected
    assert stored(sinks.resources["warehouse"].read_table(ZONES_WAREHOUSE_TABLE)) == expected
    assert len(expected) == 264


def test_the_lookup_lands_in_bigquery(
    tlc_server: SourceServer, sinks: Sinks, bigquery: BigQueryEmulator
) -> None:
    expected = published_lookup(tlc_server.publish_zones())
    warehouse = BigQueryWarehouse(project=bigquery.project, dataset=bigquery.dataset)
    load_zones(with_warehouse(from_server(sinks, tlc_server), warehouse))
    assert stored(warehouse.read_table(ZONES_WAREHOUSE_TABLE)) == expected
    table = bigquery.client().get_table(f"{bigquery.project}.{bigquery.dataset}.{ZONES_WAREHOUSE_TABLE}")
    assert [f.name for f in table.schema] == ["location_id", "borough", "zone", "service_zone"]


def test_a_lookup_without_its_id_column_fails_naming_it_and_writes_nothing(
    tlc_server: SourceServer, sinks: Sinks
) -> None:
    path = tlc_server.publish_zones()
    path.write_text(path.read_text().replace('"LocationID"', '"Location"', 1))
    result = dg.materialize(
        location_definitions(),
        selection=dg.AssetSelection.assets(ZONES_KEY),
        resources=from_server(sinks, tlc_server),
        raise_on_error=False,
    )
    assert not result.success
    assert "taxi_zone_lookup.csv: missing column(s) 'LocationID' of the taxi zone lookup" in failure_message(
        result
    )
    assert not (sinks.lake_dir / "zones").exists()


def zone_check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == ZONE_CHECK]
    return evaluation


@pytest.mark.parametrize("service", ["yellow", "fhvhv"])
def test_the_zone_check_passes_on_a_month_whose_zones_are_all_known(
    tlc_server: SourceServer, sinks: Sinks, service: str
) -> None:
    tlc_server.publish_zones()
    tlc_server.publish(service, "2023-03", 3_000)
    resources = from_server(sinks, tlc_server)
    load_zones(resources)
    result = materialize_month(resources, service, "2023-03")
    assert result.success, failure_message(result)
    check = zone_check(result)
    assert check.passed, check.metadata
    assert check.metadata["trips_with_unknown_zone"].value == 0
    assert check.metadata["trips"].value > 0


def test_the_zone_check_warns_on_a_month_with_unknown_zones(tlc_server: SourceServer, sinks: Sinks) -> None:
    tlc_server.publish_zones()
    path = tlc_server.publish("green", "2023-03", 3_000)
    table = pq.read_table(path)
    index = table.schema.get_field_index("PULocationID")
    ids = table.column(index).to_pylist()
    for row in range(0, len(ids), 100):  # 1% of trips picked up in a zone the lookup lacks
        ids[row] = 300
    pq.write_table(table.set_column(index, "PULocationID", pa.array(ids, pa.int32())), path)
    resources = from_server(sinks, tlc_server)
    load_zones(resources)
    result = materialize_month(resources, "green", "2023-03")
    assert result.success, "a warning, not a failure: the month is loaded"
    check = zone_check(result)
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["unknown_ids"].value == [300]
    assert check.metadata["share"].value > UNKNOWN_ZONE_SHARE_WARN


def test_the_zone_check_warns_that_the_lookup_is_not_loaded(tlc_server: SourceServer, sinks: Sinks) -> None:
    tlc_server.publish("yellow", "2023-03", 1_000)
    result = materialize_month(from_server(sinks, tlc_server), "yellow", "2023-03")
    assert result.success
    check = zone_check(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.description == "The taxi zone lookup is not loaded: materialise zones/taxi_zones."


def test_the_zones_load_again_when_the_published_lookup_changes_and_only_then(
    tlc_server: SourceServer, sinks: Sinks
) -> None:
    loaded_again_when_changed_and_only_then(
        LOOKUP_FILE,
        taxi_zones,
        from_server(sinks, tlc_server),
        publish=tlc_server.publish_zones,
        change=lambda: tlc_server.publish_zones(zones=262),
    )
