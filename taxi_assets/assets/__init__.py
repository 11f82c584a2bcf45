"""Every asset and check, per service: raw → cleaned (+ rejected) → Postgres, daily lake → warehouse."""

import dagster as dg

from taxi_assets.assets.cleaned import build_cleaned_trips
from taxi_assets.assets.daily import build_daily_trips
from taxi_assets.assets.postgres import build_postgres_trips
from taxi_assets.assets.raw import build_raw_trips
from taxi_assets.assets.warehouse import build_warehouse_trips
from taxi_assets.schema import SCHEMAS


def service_definitions() -> list[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    out: list[dg.AssetsDefinition | dg.AssetChecksDefinition] = []
    for schema in SCHEMAS.values():
        out += [build_raw_trips(schema), build_cleaned_trips(schema), build_postgres_trips(schema)]
        out += [build_daily_trips(schema)]
        out += build_warehouse_trips(schema)
    return out
