"""The course's dbt models on this project's warehouse: the marts equal pandas over the cleaned lake,
a month re-run replaces that month alone, and a payment type the tests do not accept fails its check.
"""

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from taxi_assets_tests.support.materialize import (
    build_analytics,
    failure_message,
    load_zones,
    materialize_days,
    materialize_month,
)
from taxi_assets_tests.support.oracle import fhvhv_monthly_zone_trips, monthly_zone_revenue
from taxi_assets_tests.support.sinks import Sinks, read_lake_month
from taxi_assets_tests.support.source_server import SourceServer

# Every service the TLC publishes: the staging views read each one's table.
SERVICES = ("yellow", "green", "fhv", "fhvhv")


def loaded(sinks: Sinks, server: SourceServer, months: tuple[str, ...], rows: int = 3_000) -> dict[str, Any]:
    """The zones and each service's months through cleaning into the warehouse's days."""
    resources = {**sinks.resources, "taxi_source": server.source()}
    server.publish_zones()
    load_zones(resources)
    for service in SERVICES:
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
    same_rows(revenue, expected, ["pickup_zone", "revenue_month", "service_type"])

    fhvhv = warehouse_table(sinks.duckdb_path, "fct_fhvhv_monthly_zone_trips")
    same_rows(
        fhvhv,
        fhvhv_monthly_zone_trips(cleaned["fhvhv"], zones),
        ["pickup_zone", "pickup_borough", "trip_month"],
    )
