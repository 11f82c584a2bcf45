"""The dbt project's models as assets, in the group ``analytics``, and its tests as their checks.

``@dbt_assets`` with a translator rather than dg's dbt project component: the models need what
this project's other assets have in Python (the services' months as partitions, the automation
condition, the warehouse pool, the target the loader chose), which a translator subclass states
beside the asset in one module; the component would need the same translator and a YAML file
besides. dbt's sources name the assets that load them (``meta.dagster.asset_key`` in
``analytics/models/staging/sources.yml``), so the graph runs from the published file to the marts.

Two definitions: the zones' dimension follows the zone lookup (unpartitioned, like it), and every
other model is partitioned by month. A month's run passes its window to dbt
(``--event-time-start/--event-time-end``): the incremental models (dbt's microbatch) replace that
month's rows and nothing else, and the views and tests read that month through them.
"""

import functools
import json
import operator
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from taxi_assets import temp_folders
from taxi_assets.analytics_project import prepared
from taxi_assets.constants import warehouse_table
from taxi_assets.defs.automation import FOLLOWS_UPSTREAM
from taxi_assets.io_managers import WAREHOUSE_MODELS_IO_MANAGER
from taxi_assets.keys import ANALYTICS_GROUP, CLEANED, WAREHOUSE, asset_key
from taxi_assets.partitions import monthly_partitions
from taxi_assets.publishers import configured_services
from taxi_assets.resources.duckdb_warehouse import DuckDBWarehouse
from taxi_assets.resources.warehouse import Warehouse

ZONES_MODEL = "dim_zones"
WINDOW_FORMAT = "%Y-%m-%d"


def analytics_partitions() -> dg.MonthlyPartitionsDefinition:
    """The months of the earliest configured service (yellow): the marts' months, of every service."""
    return monthly_partitions(configured_services()[0])


class TaxiDbtTranslator(DagsterDbtTranslator):
    """The models in their own group, following their sources as the other assets do."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return ANALYTICS_GROUP

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition:
        if dbt_resource_props["name"] == ZONES_MODEL:
            return dg.AutomationCondition.eager()
        landing = another_service_landing(services_read(dbt_resource_props))
        return FOLLOWS_UPSTREAM if landing is None else FOLLOWS_UPSTREAM & ~landing

    def get_partition_mapping(
        self, dbt_resource_props: Mapping[str, Any], dbt_parent_resource_props: Mapping[str, Any]
    ) -> dg.PartitionMapping | None:
        # A month reads its days of each service's warehouse table; a service that begins later
        # (green in 2013-08, high-volume FHV in 2019-02) has no days in the earlier months.
        return dg.TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True)


def services_read(dbt_resource_props: Mapping[str, Any]) -> set[str]:
    """The services whose warehouse tables a model reads as dbt sources (a staging model's one)."""
    tables = {warehouse_table(service): service for service in configured_services()}
    nodes = dbt_resource_props.get("depends_on", {}).get("nodes", [])
    sources = (node.split(".")[-1] for node in nodes if node.startswith("source."))
    return {tables[table] for table in sources if table in tables}


def another_service_landing(services: set[str]) -> dg.AutomationCondition | None:
    """True while another service's month is on its way to the warehouse: its cleaned month being
    made or just made (its days are requested in that tick), or its days being loaded. A staging
    model waits for it, so that a month's models go as one run once every service's days are in,
    instead of a run per service's staging view as each lands and then one for the facts (each
    run a worker's and dbt's start, the facts queued behind the views in the warehouse pool). A
    month another service has no partition for (green before 2013-08) maps to none: no wait.
    """
    others = [other for other in configured_services() if other not in services] if services else []
    if not others:
        return None  # not a model over one service's trips, or no other service
    landing = (
        dg.AutomationCondition.asset_matches(
            asset_key(other, CLEANED),
            dg.AutomationCondition.in_progress() | dg.AutomationCondition.newly_updated(),
        )
        | dg.AutomationCondition.asset_matches(
            asset_key(other, WAREHOUSE), dg.AutomationCondition.in_progress()
        )
        for other in others
    )
    return functools.reduce(operator.or_, landing).with_label("another service's month is landing")


TRANSLATOR = TaxiDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def dbt_target_args(warehouse: Warehouse) -> list[str]:
    """The loader's warehouse, for dbt: its target, and where the resource's settings put it (the
    run's own configuration included). DuckDB's file as an absolute path: dbt runs in the
    project's folder, where the loader's relative path would name another file.
    """
    if isinstance(warehouse, DuckDBWarehouse):
        target = "duckdb"
        settings = {
            "duckdb_database": str(Path(warehouse.database).resolve()),
            "duckdb_schema": warehouse.schema_name,
        }
    else:
        target = "bigquery"
        settings = {
            "bigquery_project": warehouse.project,
            "bigquery_dataset": warehouse.dataset,
            "bigquery_location": warehouse.location or None,  # none: where the dataset is
        }
    return ["--target", target, "--vars", json.dumps(settings)]


# The failing rows shown for each failed dbt test (its query's answer: the values and their counts).
FAILING_ROWS_SHOWN = 20


def dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, args: Sequence[str]) -> Iterator:
    """``dbt build`` of the run's selection, its events as Dagster's, each failed test's check with
    the rows its query found (``dbt show``: the values it does not accept, and how many); dbt's
    artifacts and log in a temporary folder that goes with the run (in the project's target
    folder they would pile up, a folder per run, in the installed package).
    """
    temp_folders.remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=temp_folders.folder_prefix()) as target:
        build = dbt.cli(["build", *args], context=context, target_path=Path(target), raise_on_error=False)
        failed: list[dg.AssetCheckResult] = []
        for event in build.stream():
            if isinstance(event, dg.AssetCheckResult) and not event.passed:
                failed.append(event)  # answered once dbt has let go of the warehouse
            else:
                yield event
        for check in failed:
            yield explained(context, dbt, check, args, Path(target))
        if not build.is_successful():
            raise build.get_error() or dg.Failure(f"dbt build failed: {build.get_error()}")


def explained(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    check: dg.AssetCheckResult,
    args: Sequence[str],
    target: Path,
) -> dg.AssetCheckResult:
    """``check`` with the rows its failed dbt test found, which the run's log names too."""
    test = str(check.metadata["unique_id"].value).split(".")[2]
    target_args = list(args[args.index("--target") :])
    show = dbt.cli(
        ["show", "--select", test, "--output", "json", "--limit", str(FAILING_ROWS_SHOWN), *target_args],
        target_path=target / "show",
        raise_on_error=False,
    )
    rows = [
        json.loads(raw.raw_event["data"]["preview"])
        for raw in show.stream_raw_events()
        if raw.raw_event["info"]["name"] == "ShowNode"
    ]
    failing = rows[0] if rows else []
    model = "/".join(check.asset_key.path) if check.asset_key else "?"
    context.log.error(f"dbt test {test} failed on model {model}: {json.dumps(failing)}")
    return dg.AssetCheckResult(
        asset_key=check.asset_key,
        check_name=check.check_name,
        passed=False,
        severity=check.severity,
        description=f"Failed on {model}: {json.dumps(failing)}",
        metadata={**check.metadata, "failing_rows": dg.MetadataValue.json(failing)},
    )


def build_analytics() -> list[dg.AssetsDefinition]:
    project = prepared()
    # What both definitions share: the project, the models' IO manager, the translator, and one
    # warehouse run at a time (dagster.yaml's pools: DuckDB has one writer).
    shared: dict[str, Any] = {
        "manifest": project.manifest_path,
        "project": project,
        "io_manager_key": WAREHOUSE_MODELS_IO_MANAGER,
        "dagster_dbt_translator": TRANSLATOR,
        "pool": "warehouse",
    }

    @dbt_assets(**shared, select=ZONES_MODEL, name="analytics_zones")
    def analytics_zones(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse
    ) -> Iterator:
        # Its own tests only: a test that also reads a fact table runs with that table's month.
        yield from dbt_build(context, dbt, ["--indirect-selection", "cautious", *dbt_target_args(warehouse)])

    @dbt_assets(
        **shared,
        exclude=ZONES_MODEL,
        name="analytics_months",
        partitions_def=analytics_partitions(),
        # A range of months is one dbt invocation: dbt replaces it a month at a time.
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def analytics_months(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse
    ) -> Iterator:
        window = context.partition_time_window
        args = [
            "--event-time-start",
            window.start.strftime(WINDOW_FORMAT),
            "--event-time-end",
            window.end.strftime(WINDOW_FORMAT),
            *dbt_target_args(warehouse),
        ]
        yield from dbt_build(context, dbt, args)

    return [analytics_zones, analytics_months]


@dg.definitions
def analytics() -> dg.Definitions:
    return dg.Definitions(assets=build_analytics())
