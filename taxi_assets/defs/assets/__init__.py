"""Every service's assets and checks, a module per stage: raw → cleaned (+ rejected) → PostgreSQL,
daily lake → warehouse. Each module's ``@dg.definitions`` builds its stage for every service.
"""

import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg

from taxi_assets.defs.automation import FOLLOWS_UPSTREAM
from taxi_assets.errors import as_dagster_failure
from taxi_assets.keys import asset_key
from taxi_assets.metadata import column_schema, counts_agree
from taxi_assets.partitions import DAILY_BACKFILL, MONTHLY_BACKFILL, daily_partitions, monthly_partitions
from taxi_assets.publishers import configured_services
from taxi_assets.schema import SCHEMAS, TripSchema

Built = dg.AssetsDefinition | dg.AssetChecksDefinition


@contextmanager
def chosen_beta_apis() -> Iterator[None]:
    """Two APIs Dagster marks beta, used on purpose, whose warnings users need not see on every
    load (any other beta warning still shows):
    - ``backfill_policy``: a few months per run and a range of days in one run are this project's
      backfills, and the CLI's ``--partition-range`` requires the single-run policy;
    - ``observable_source_asset``: the published zone lookup, observed for changes.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy`", category=dg.BetaWarning)
        warnings.filterwarnings(
            "ignore", message=r"Function `observable_source_asset`", category=dg.BetaWarning
        )
        yield


def for_every_service(build: Callable[[TripSchema], Built | Iterable[Built]]) -> dg.Definitions:
    """The definitions ``build`` makes for each service's schema."""
    built: list[Built] = []
    with chosen_beta_apis():
        for schema in (SCHEMAS[service] for service in configured_services()):
            made = build(schema)
            built += [made] if isinstance(made, Built) else list(made)
    return dg.Definitions(
        assets=[d for d in built if not isinstance(d, dg.AssetChecksDefinition)],
        asset_checks=[d for d in built if isinstance(d, dg.AssetChecksDefinition)],
    )


def downstream_of_cleaned(
    schema: TripSchema, stage: str, *, daily: bool, table: str | None = None
) -> dict[str, Any]:
    """What each asset after the cleaned month declares alike: its key and group, its calendar and
    how it is backfilled, the automation that keeps it in step, its columns (and its table).
    """
    service = schema.service
    columns = column_schema(schema.cleaned_arrow_schema, schema.descriptions(snake=True))
    return {
        "key": asset_key(service, stage),
        "group_name": service,
        "partitions_def": daily_partitions(service) if daily else monthly_partitions(service),
        "backfill_policy": DAILY_BACKFILL if daily else MONTHLY_BACKFILL,
        "automation_condition": FOLLOWS_UPSTREAM,
        "metadata": {"dagster/column_schema": columns, **({"dagster/table_name": table} if table else {})},
    }


# A store's rows per day and the lake's, over the window a run loaded: (store's, lake's).
DayCounts = Callable[[Any, Any, dg.TimeWindow], tuple[dict[str, int], dict[str, int]]]


def matches_lake(
    key: dg.AssetKey, store: str, description: str, counts: DayCounts
) -> dg.AssetChecksDefinition:
    """The check that ``store`` (a resource key) holds, each day of the window just loaded, as many
    rows as the lake. Unpartitioned: a range run evaluates it once, so the UI shows one answer.
    """

    @dg.asset_check(
        asset=key, name="matches_lake", description=description, required_resource_keys={store, "lake"}
    )
    @as_dagster_failure
    def check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        resources = context.resources
        in_store, in_lake = counts(getattr(resources, store), resources.lake, context.partition_time_window)
        return counts_agree(in_store, in_lake, store)

    return check
