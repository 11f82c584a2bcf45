"""A month in every published layout of every service, served over HTTP, through every stage: the
cleaned month in the lake, PostgreSQL, the daily lake and DuckDB (BigQuery for each service's
newest layout) all hold the same rows, whatever year's layout the month came in.
"""

import datetime as dt
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from taxi_assets.constants import postgres_table, warehouse_table
from taxi_assets.defs.assets.zones import ZONE_CHECK
from taxi_assets.keys import CLEANED
from taxi_assets.partitions import days_of, span
from taxi_assets.placement import needs_placing
from taxi_assets.publishers import MIRROR, PUBLISHERS, TLC
from taxi_assets.resources.bigquery_warehouse import BigQueryWarehouse
from taxi_assets.schema import PICKUP_DATE, SCHEMAS, Layout, TripSchema
from taxi_assets_tests.support.google import BigQueryEmulator
from taxi_assets_tests.support.materialize import failure_message, materialize_days, materialize_month
from taxi_assets_tests.support.sinks import Sinks, rows, with_warehouse
from taxi_assets_tests.support.source_files import ROWS, as_the_era_has_it
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.month_tables import whole

# Yellow's 2009-2010 layouts give positions, placed in zones: test_yellow_2009.py sends them through
# every sink against an oracle of its own.
LAYOUTS = [
    (schema, layout)
    for schema in SCHEMAS.values()
    for layout in schema.layouts
    if not needs_placing({schema.published_as(f.name).name: f.name for f in layout.fields})
]


def expected_cleaned(schema: TripSchema, layout: Layout, month: str) -> pa.Table:
    """The course's rules applied to the generated month, independently of transform.py: pickup in
    the month and, for taxis, passengers and distance above zero, for high-volume FHV drop-off not
    before pickup and miles and seconds not below zero; pickup order; snake_case names.
    """
    trips = as_the_era_has_it(schema, layout, month)
    first, end = span(days_of(month))
    pickup = trips.column(schema.pickup_column)
    keep = pc.and_(
        pc.greater_equal(pickup, pa.scalar(dt.datetime.combine(first, dt.time()), pickup.type)),
        pc.less(pickup, pa.scalar(dt.datetime.combine(end, dt.time()), pickup.type)),
    )
    if schema.has("passenger_count"):
        keep = pc.and_(keep, pc.greater(trips.column("passenger_count"), 0))
        keep = pc.and_(keep, pc.greater(trips.column("trip_distance"), 0.0))
    keep = pc.fill_null(keep, False)
    if schema.service == "fhvhv":
        # The data dictionary's impossibilities; a missing value proves nothing and is kept.
        dropoff = trips.column(schema.dropoff_column)
        for possible in (
            pc.greater_equal(dropoff, pickup),
            pc.greater_equal(trips.column("trip_miles"), 0.0),
            pc.greater_equal(trips.column("trip_time"), 0),
        ):
            keep = pc.and_(keep, pc.fill_null(possible, True))
    kept = trips.filter(keep)
    kept = kept.take(pc.sort_indices(kept.column(schema.pickup_column)))  # Arrow's sort is stable
    kept = kept.rename_columns([schema.renames[n] for n in kept.column_names])
    return kept.append_column(PICKUP_DATE, pc.cast(kept.column(schema.pickup_snake), pa.date32()))


@pytest.fixture
def servers(source_server: SourceServer, tlc_server: SourceServer) -> dict[str, SourceServer]:
    return {MIRROR: source_server, TLC: tlc_server}


def from_server(sinks: Sinks, server: SourceServer) -> dict[str, Any]:
    return {**sinks.resources, "taxi_source": server.source()}


@pytest.mark.parametrize(
    ("schema", "layout"), LAYOUTS, ids=[f"{s.service}-{layout.name}" for s, layout in LAYOUTS]
)
def test_a_month_in_each_layout_lands_the_same_rows_in_every_sink(
    servers: dict[str, SourceServer], sinks: Sinks, schema: TripSchema, layout: Layout
) -> None:
    service, month, server = schema.service, layout.first, servers[layout.publisher]
    server.publish(service, month, ROWS, layout=layout.name, row_group_size=1_000)
    resources = from_server(sinks, server)
    result = materialize_month(resources, service, month)
    assert result.success, failure_message(result)
    # The zone lookup is not loaded here (test_zones.py checks months against it).
    assert all(e.passed for e in result.get_asset_check_evaluations() if e.check_name != ZONE_CHECK)

    cleaned = pq.read_table(sinks.lake_dir / service / CLEANED / f"{month}.parquet")
    assert cleaned.schema.remove_metadata() == schema.cleaned_arrow_schema
    assert cleaned.equals(expected_cleaned(schema, layout, month))

    first, end = span(days_of(month))
    in_postgres = whole(sinks.postgres.read_days(postgres_table(service), PICKUP_DATE, first, end))
    assert rows(in_postgres, schema) == rows(cleaned, schema)

    days = materialize_days(resources, service, str(first), str(end - dt.timedelta(days=1)))
    assert days.success, failure_message(days)
    in_duckdb = whole(resources["warehouse"].read_days(warehouse_table(service), PICKUP_DATE, first, end))
    assert rows(in_duckdb, schema) == rows(cleaned, schema)


@pytest.mark.parametrize("service", SCHEMAS)
def test_the_newest_layout_lands_the_same_rows_in_bigquery(
    tlc_server: SourceServer, sinks: Sinks, bigquery: BigQueryEmulator, service: str
) -> None:
    schema = SCHEMAS[service]
    layout = schema.layout(TLC, "2025-02")
    tlc_server.publish(service, "2025-02", ROWS)
    warehouse = BigQueryWarehouse(project=bigquery.project, dataset=bigquery.dataset)
    resources = with_warehouse(from_server(sinks, tlc_server), warehouse)
    assert materialize_month(resources, service, "2025-02").success
    days = materialize_days(resources, service, "2025-02-01", "2025-02-28")
    assert days.success, failure_message(days)
    first, end = span(days_of("2025-02"))
    in_bigquery = whole(warehouse.read_days(warehouse_table(service), PICKUP_DATE, first, end))
    assert rows(in_bigquery, schema) == rows(expected_cleaned(schema, layout, "2025-02"), schema)
    table = bigquery.client().get_table(f"{bigquery.project}.{bigquery.dataset}.{warehouse_table(service)}")
    assert [f.name for f in table.schema] == schema.cleaned_arrow_schema.names


@pytest.mark.parametrize("service", PUBLISHERS[MIRROR].services)
def test_the_same_month_from_the_mirror_and_from_the_tlc_cleans_to_the_same_rows(
    source_server: SourceServer, tlc_server: SourceServer, sinks: Sinks, service: str
) -> None:
    """2020-03 as the mirror's CSV.gz (integers written 1.0, FHV's 2020 spelling) and as the TLC's
    parquet (doubles, int64 zones, null-typed columns): one canonical month.
    """
    cleaned = {}
    for server in (source_server, tlc_server):
        server.publish(service, "2020-03")
        result = materialize_month(from_server(sinks, server), service, "2020-03")
        assert result.success, failure_message(result)
        cleaned[server.publisher] = pq.read_table(sinks.lake_dir / service / CLEANED / "2020-03.parquet")
    assert source_server.file_name(service, "2020-03").endswith(".csv.gz")
    assert tlc_server.file_name(service, "2020-03").endswith(".parquet")
    assert cleaned[MIRROR].num_rows > 0
    assert cleaned[MIRROR].equals(cleaned[TLC])
