"""A fresh ``make demo`` builds the dbt models through the daemon's automation, and the UI's graph
runs from the published file to the revenue mart.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.graphql import LINEAGE_QUERY, ask_instance, downstream_of

pytestmark = pytest.mark.processes

# The demo's own wait for the month and its models, with room for a loaded machine.
DEMO_SECONDS = 1500


def test_a_fresh_demo_builds_the_marts_and_the_graph_runs_from_the_file_to_the_mart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TAXI_", "DUCKDB_", "DAGSTER_", "POSTGRES_"))
    }
    demo = subprocess.run(
        [
            sys.executable,
            "-m",
            "taxi_dev.demo",
            "--data-dir",
            str(data),
            "--rows",
            "3000",
            "--fhvhv-rows",
            "1000",
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=DEMO_SECONDS,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    shown = demo.stdout[demo.stdout.index("analytics (dbt)") :].splitlines()
    assert "fct_monthly_zone_revenue" in shown[0]
    assert shown[1].split() == [
        "pickup_zone",
        "revenue_month",
        "service_type",
        "total_monthly_trips",
        "revenue_monthly_total_amount",
    ]
    assert "2021-01-01" in shown[2] and ("Yellow" in shown[2] or "Green" in shown[2])

    lineage = ask_instance(data / "dagster_home", env, LINEAGE_QUERY)["assetNodes"]
    reached = downstream_of(lineage, "yellow/raw_trips")
    assert {
        "yellow/warehouse_trips",
        "stg_yellow_tripdata",
        "fct_trips",
        "fct_monthly_zone_revenue",
    } <= reached
    assert {"fct_monthly_zone_revenue", "monthly_revenue_chart"} <= downstream_of(lineage, "zones/taxi_zones")
