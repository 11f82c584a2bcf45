"""Every asset and check, per service: raw → cleaned (+ rejected) → Postgres, daily lake → warehouse."""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from taxi_assets.assets.cleaned import build_cleaned_trips
from taxi_assets.assets.daily import build_daily_trips
from taxi_assets.assets.postgres import build_postgres_trips
from taxi_assets.assets.raw import build_raw_trips
from taxi_assets.assets.warehouse import build_warehouse_trips
from taxi_assets.assets.zones import build_zone_check, build_zone_lookup_file, taxi_zones
from taxi_assets.publishers import configured_services
from taxi_assets.schema import SCHEMAS


@contextmanager
def _chosen_beta_and_preview_apis() -> Iterator[None]:
    """Two APIs Dagster marks beta/preview, used on purpose, whose warnings users need not see on
    every load:
    - ``backfill_policy`` (beta): a month per run and a range of days in one run are this
      project's backfills, and the CLI's ``--partition-range`` requires the single-run policy;
    - ``partitions_def`` on an asset check (preview): the PostgreSQL and warehouse checks compare
      one month or window of days, the one just loaded, not the whole table;
    - ``observable_source_asset`` (beta): the published zone lookup, observed for changes.
    Any other beta or preview warning still shows.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy`", category=dg.BetaWarning)
        warnings.filterwarnings("ignore", message=r"Specifying a partitions_def on an AssetCheckSpec")
        warnings.filterwarnings(
            "ignore", message=r"Function `observable_source_asset`", category=dg.BetaWarning
        )
        yield


def service_definitions() -> list[dg.AssetsDefinition | dg.AssetChecksDefinition | dg.SourceAsset]:
    """Each service's assets and checks, and the taxi zones they are checked against."""
    out: list[dg.AssetsDefinition | dg.AssetChecksDefinition] = []
    with _chosen_beta_and_preview_apis():
        for schema in (SCHEMAS[service] for service in configured_services()):
            out += [build_raw_trips(schema), build_cleaned_trips(schema), *build_postgres_trips(schema)]
            out += [build_daily_trips(schema)]
            out += build_warehouse_trips(schema)
            out += [build_zone_check(schema.service)]
        zones = [build_zone_lookup_file(), taxi_zones]
    return [*zones, *out]
