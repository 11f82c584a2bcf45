"""The UI lists exactly the months the configured publisher has, per service: the web server's
GraphQL API asked for every asset's partition keys, once per publisher setting.
"""

import sys
from pathlib import Path

import pandas as pd
import pytest

from taxi_assets.keys import DAILY_STAGES, MONTHLY_STAGES
from taxi_assets.publishers import MIRROR, PUBLISHERS, TLC
from taxi_assets_tests.support.cli import env_for, wait_until_loaded
from taxi_assets_tests.support.graphql import graphql
from taxi_assets_tests.support.processes import free_port, start, stop_group
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.month_tables import months_of

pytestmark = pytest.mark.processes

MODULE = "taxi_assets.definitions"
PARTITIONS_QUERY = "{ assetNodes { assetKey { path } partitionKeysByDimension { partitionKeys } } }"


def days_of(months: list[str]) -> list[str]:
    first, last = pd.Period(months[0], "M"), pd.Period(months[-1], "M")
    return [
        d.strftime("%Y-%m-%d") for d in pd.date_range(first.start_time, last.end_time.normalize(), freq="D")
    ]


@pytest.mark.parametrize("publisher", [TLC, MIRROR])
def test_the_ui_lists_the_publisher_s_months_per_service(
    tmp_path: Path, source_server: SourceServer, publisher: str
) -> None:
    env = {**env_for(tmp_path, source_server), "TAXI_PUBLISHER": publisher}
    port = free_port()
    log = tmp_path / "webserver.log"
    webserver = start(
        [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port), "-m", MODULE],
        env,
        log,
    )
    try:
        wait_until_loaded(port, webserver, log)
        nodes = graphql(port, PARTITIONS_QUERY)["assetNodes"]
    finally:
        stop_group(webserver, grace=30)

    listed = {
        "/".join(n["assetKey"]["path"]): [
            k for d in n["partitionKeysByDimension"] for k in d["partitionKeys"]
        ]
        for n in nodes
    }
    # The taxi zones are one lookup, not partitioned: listed with no partitions.
    assert listed["zones/taxi_zones"] == listed["zones/taxi_zone_lookup_file"] == []
    assert {key.split("/")[0] for key in listed} >= set(PUBLISHERS[publisher].services)
    assert ("fhvhv/raw_trips" in listed) == (publisher == TLC), "the mirror has no high-volume FHV"
    for service in PUBLISHERS[publisher].services:
        months = months_of(PUBLISHERS[publisher], service)
        for stage in MONTHLY_STAGES:
            assert listed[f"{service}/{stage}"] == months, (service, stage)
        for stage in DAILY_STAGES:
            assert listed[f"{service}/{stage}"] == days_of(months), (service, stage)
    if publisher == MIRROR:
        assert listed["fhv/raw_trips"][0] == "2019-01" and listed["fhv/raw_trips"][-1] == "2021-07"
        assert len(listed["yellow/raw_trips"]) == 31
    else:
        assert listed["yellow/raw_trips"][0] == "2009-01"
        assert listed["green/raw_trips"][0] == "2013-08"
        assert listed["fhv/raw_trips"][0] == "2015-01"
        assert listed["fhvhv/raw_trips"][0] == "2019-02"
        assert listed["fhvhv/daily_trips"][0] == "2019-02-01"
        assert listed["fhvhv/raw_trips"][-1] == PUBLISHERS[TLC].newest_month()
