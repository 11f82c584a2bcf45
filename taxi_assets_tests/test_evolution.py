"""Tables evolve: a PostgreSQL, DuckDB or BigQuery table made from a 2021 month by an earlier version
of the project (18 yellow columns) takes a 2025 month: it gains the new columns with their
descriptions, the 2021 rows keep nulls there, and re-running 2021 leaves 2025 alone.
"""

from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from taxi_assets.keys import CLEANED, RAW, REJECTED, asset_keys
from taxi_assets.schema import YELLOW
from taxi_assets_tests.support.materialize import location_definitions
from taxi_assets_tests.support.sinks import Sinks, rows, with_warehouse
from taxi_assets_tests.support.source_server import SourceServer
from taxi_assets_tests.support.stores import Store

NEW_COLUMNS = ["airport_fee", "cbd_congestion_fee"]  # what 2021 tables made before the TLC eras lack
OLD_NAMES = [n for n in YELLOW.cleaned_arrow_schema.names if n not in NEW_COLUMNS]


def cleaned_month(resources: dict[str, Any], sinks: Sinks, month: str) -> pa.Table:
    """The current cleaning of ``month``, read from the lake (no sink written)."""
    selection = asset_keys("yellow", (RAW, CLEANED, REJECTED))
    assert dg.materialize(
        location_definitions(),
        selection=dg.AssetSelection.assets(*selection),
        resources=resources,
        partition_key=month,
    ).success
    return pq.read_table(sinks.lake_dir / "yellow" / CLEANED / f"{month}.parquet")


def test_a_2021_table_takes_a_2025_month_and_2021_again(
    store: Store, source_server: SourceServer, tlc_server: SourceServer, sinks: Sinks
) -> None:
    source_server.publish("yellow", "2021-01")
    tlc_server.publish("yellow", "2025-01")
    mirror = {**sinks.resources, "taxi_source": source_server.source()}
    tlc = {**sinks.resources, "taxi_source": tlc_server.source()}
    if store.warehouse is not None:
        mirror, tlc = (with_warehouse(r, store.warehouse) for r in (mirror, tlc))

    january_2021 = cleaned_month(mirror, sinks, "2021-01")
    store.create_old(january_2021.select(OLD_NAMES), "2021-01")
    assert store.columns() == OLD_NAMES

    store.load(tlc, "2025-01")
    january_2025 = pq.read_table(sinks.lake_dir / "yellow" / CLEANED / "2025-01.parquet")
    assert store.columns() == OLD_NAMES + NEW_COLUMNS, "new columns added at the end, none dropped"
    for column in NEW_COLUMNS:
        assert store.description(column) == YELLOW.descriptions(snake=True)[column]
    assert rows(store.read_month("2025-01"), YELLOW) == rows(january_2025, YELLOW)
    assert january_2025.column("cbd_congestion_fee").null_count < january_2025.num_rows
    old_rows = store.read_month("2021-01")
    assert rows(old_rows, YELLOW) == rows(january_2021, YELLOW), "2021 reads back, nulls in the new columns"
    assert all(old_rows.column(c).null_count == old_rows.num_rows for c in NEW_COLUMNS)

    before = rows(store.read_month("2025-01"), YELLOW)
    store.load(mirror, "2021-01")
    assert rows(store.read_month("2025-01"), YELLOW) == before, "re-running 2021 leaves 2025 alone"
    assert rows(store.read_month("2021-01"), YELLOW) == rows(january_2021, YELLOW)
