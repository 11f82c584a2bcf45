"""A backfill's run of several months: each month lands as a run of its own would land it, with its
own rows, file and metadata, and a bad month fails the run naming it and leaves every month as it was.
"""

import hashlib
import re
from typing import Any

import dagster as dg

from taxi_assets.keys import CLEANED, POSTGRES, RAW, REJECTED, asset_key, op_name
from taxi_assets_tests.support.materialize import (
    failure_message,
    load_zones,
    location_definitions,
    materialize_month,
)
from taxi_assets_tests.support.oracle import course_cleaning
from taxi_assets_tests.support.sinks import Sinks, postgres_months, snapshot
from taxi_assets_tests.support.source_server import SourceServer

MONTHS = ["2021-01", "2021-02", "2021-03"]


def materialize_months(
    resources: dict[str, Any], first: str, last: str, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """raw → cleaned + rejected → PostgreSQL for yellow's months ``first`` … ``last`` in one run, as
    a backfill launches them.
    """
    selection = dg.AssetSelection.assets(
        *(asset_key("yellow", s) for s in (RAW, CLEANED, REJECTED, POSTGRES))
    )
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    return dg.materialize(
        location_definitions(), selection=selection, resources=resources, tags=tags, **kwargs
    )


def materialized(result: dg.ExecuteInProcessResult, stage: str) -> dict[str, dict[str, Any]]:
    """Each month's materialisation metadata of ``stage``, as the UI shows a partition's."""
    key = asset_key("yellow", stage)
    node = op_name(key if stage != REJECTED else asset_key("yellow", CLEANED))
    return {
        m.partition: {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(node)
        if m.asset_key == key
    }


def lake_file_hash(sinks: Sinks, stage: str, month: str) -> str:
    return hashlib.sha256((sinks.lake_dir / "yellow" / stage / f"{month}.parquet").read_bytes()).hexdigest()


def test_each_month_of_a_run_lands_as_a_run_of_its_own_would(
    source_server: SourceServer, sinks: Sinks
) -> None:
    source_server.publish_zones()
    load_zones(sinks.resources)
    published = {
        m: source_server.publish("yellow", m, rows=1_500 + 500 * i, seed=i) for i, m in enumerate(MONTHS)
    }

    result = materialize_months(sinks.resources, MONTHS[0], MONTHS[-1])

    assert result.success, failure_message(result)
    expected = {m: len(course_cleaning(path, "yellow", m)) for m, path in published.items()}
    assert {m: rows for m, (rows, _) in postgres_months(sinks.postgres, "yellow").items()} == expected
    raw, cleaned, stored = (materialized(result, stage) for stage in (RAW, CLEANED, POSTGRES))
    assert list(raw) == list(cleaned) == list(stored) == MONTHS
    for month in MONTHS:
        assert raw[month]["source_url"].endswith(f"yellow_tripdata_{month}.csv.gz")
        assert raw[month]["dagster/partition_row_count"] == 1_500 + 500 * MONTHS.index(month)
        assert cleaned[month]["dagster/partition_row_count"] == expected[month]
        assert stored[month]["dagster/partition_row_count"] == expected[month]
        assert (
            cleaned[month]["files"].count(".parquet") == 1 and f"{month}.parquet" in cleaned[month]["files"]
        )
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert all(c.passed for c in checks.values()), {
        n: (c.description, c.metadata) for n, c in checks.items() if not c.passed
    }
    reconciled = checks["reconciles_with_raw"].metadata
    assert reconciled["raw_rows"].value == sum(raw[m]["dagster/partition_row_count"] for m in MONTHS)
    assert reconciled["cleaned_rows"].value == sum(expected.values())
    assert checks["pickups_inside_partition"].metadata["failing_by_month"].value == dict.fromkeys(MONTHS, 0)

    # February on its own, as the UI or the new-month sensor runs it: the same rows and files.
    before = postgres_months(sinks.postgres, "yellow"), [lake_file_hash(sinks, CLEANED, m) for m in MONTHS]
    assert materialize_month(sinks.resources, "yellow", "2021-02").success
    assert (
        postgres_months(sinks.postgres, "yellow"),
        [lake_file_hash(sinks, CLEANED, m) for m in MONTHS],
    ) == before


def test_a_bad_month_fails_its_run_naming_it_and_leaves_every_month_as_it_was(
    source_server: SourceServer, sinks: Sinks
) -> None:
    for i, month in enumerate(MONTHS):
        source_server.publish("yellow", month, rows=1_000, seed=i)
    assert materialize_months(sinks.resources, MONTHS[0], MONTHS[-1]).success
    before = snapshot(sinks)

    # January re-published with other trips (a run that wrote it would change it), February gone.
    source_server.publish("yellow", "2021-01", rows=1_200, seed=7)
    source_server.fail("yellow", "2021-02", 404)
    result = materialize_months(sinks.resources, MONTHS[0], MONTHS[-1], raise_on_error=False)

    assert not result.success
    first_line = failure_message(result).splitlines()[0]
    assert re.search(r"month not published: \S*/yellow_tripdata_2021-02\.csv\.gz answered 404", first_line), (
        first_line
    )
    assert snapshot(sinks) == before
    assert materialized(result, RAW) == {}
