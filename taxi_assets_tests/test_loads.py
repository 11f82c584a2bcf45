"""Every store read back through its IO manager, as an asset downstream of it reads it: a window of
months (or days) holds the lake's rows, typed as the lake's."""

from collections.abc import Callable
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_assets.keys import CLEANED, DAILY, POSTGRES, RAW, WAREHOUSE, asset_key
from taxi_assets.partitions import daily_partitions, monthly_partitions
from taxi_assets.resources.bigquery_warehouse import BigQueryWarehouse
from taxi_assets.schema import YELLOW
from taxi_assets_tests.support.google import BigQueryEmulator
from taxi_assets_tests.support.materialize import (
    failure_message,
    location_definitions,
    materialize_days,
    materialize_month,
)
from taxi_assets_tests.support.sinks import Sinks, rows, with_warehouse
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.month_tables import whole

MONTHS = ("2021-01", "2021-02")
# Days across the months' boundary: the window is loaded month by month.
FIRST_DAY, LAST_DAY = "2021-01-30", "2021-02-02"
WINDOW_DAYS = ("2021-01-30", "2021-01-31", "2021-02-01", "2021-02-02")


def _in_window(table: pa.Table) -> pa.Table:
    days = pa.array([str(d) for d in table.column("pickup_date").to_pylist()])
    return table.filter(pa.compute.is_in(days, value_set=pa.array(WINDOW_DAYS)))


def _loaded(resources: dict[str, Any], upstream: dg.AssetKey, daily: bool, first: str, last: str) -> pa.Table:
    """What an asset downstream of ``upstream`` is handed for ``[first, last]``, read whole."""
    got: list[pa.Table] = []

    @dg.asset(
        key=["reads", *upstream.path],
        ins={"trips": dg.AssetIn(key=upstream)},
        partitions_def=daily_partitions("yellow") if daily else monthly_partitions("yellow"),
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def reads(trips: Any) -> dg.MaterializeResult:
        # The months of the window, each read here, in the run.
        got.append(pa.concat_tables(whole(month.rows) for month in trips))
        return dg.MaterializeResult()

    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    result = dg.materialize(
        [*location_definitions(), reads],
        selection=dg.AssetSelection.assets(reads),
        resources=resources,
        tags=tags,
    )
    assert result.success, failure_message(result)
    return got[0]


def _lake_month(sinks: Sinks, stage: str) -> pa.Table:
    return pa.concat_tables(pq.read_table(sinks.lake_dir / "yellow" / stage / f"{m}.parquet") for m in MONTHS)


def _lake_days(sinks: Sinks) -> pa.Table:
    return _in_window(_lake_month(sinks, CLEANED))


@pytest.fixture
def two_months(source_server: SourceServer, sinks: Sinks) -> Sinks:
    """Yellow January and February 2021 through raw, cleaned and PostgreSQL."""
    for month in MONTHS:
        source_server.publish("yellow", month)
        result = materialize_month(sinks.resources, "yellow", month)
        assert result.success, failure_message(result)
    return sinks


def _same_rows(loaded: pa.Table, lake: pa.Table) -> None:
    assert loaded.schema.remove_metadata().types == YELLOW.cleaned_arrow_schema.types
    assert loaded.num_rows == lake.num_rows > 0
    assert rows(loaded, YELLOW) == rows(lake, YELLOW)


def test_the_raw_and_cleaned_months_read_back_as_the_lake_holds_them(two_months: Sinks) -> None:
    for stage in (RAW, CLEANED):
        loaded = _loaded(two_months.resources, asset_key("yellow", stage), False, *MONTHS)
        assert loaded.equals(_lake_month(two_months, stage), check_metadata=False)


def test_postgres_months_read_back_as_the_lake_s_cleaned_months(two_months: Sinks) -> None:
    loaded = _loaded(two_months.resources, asset_key("yellow", POSTGRES), False, *MONTHS)
    _same_rows(loaded, _lake_month(two_months, CLEANED))


def _duckdb(sinks: Sinks, request: pytest.FixtureRequest) -> dict[str, Any]:
    return sinks.resources


def _bigquery(sinks: Sinks, request: pytest.FixtureRequest) -> dict[str, Any]:
    bq: BigQueryEmulator = request.getfixturevalue("bigquery")
    return with_warehouse(sinks.resources, BigQueryWarehouse(project=bq.project, dataset=bq.dataset))


WAREHOUSES: dict[str, Callable[[Sinks, pytest.FixtureRequest], dict[str, Any]]] = {
    "duckdb": _duckdb,
    "bigquery": _bigquery,
}


@pytest.mark.parametrize("warehouse", WAREHOUSES)
def test_a_window_of_days_reads_back_from_the_daily_lake_and_the_warehouse_as_the_lake_holds_it(
    two_months: Sinks, request: pytest.FixtureRequest, warehouse: str
) -> None:
    resources = WAREHOUSES[warehouse](two_months, request)
    days = materialize_days(resources, "yellow", FIRST_DAY, LAST_DAY)
    assert days.success, failure_message(days)
    lake = _lake_days(two_months)
    for stage in (DAILY, WAREHOUSE):
        _same_rows(_loaded(resources, asset_key("yellow", stage), True, FIRST_DAY, LAST_DAY), lake)
