"""The taxi zone lookup: the published CSV observed for changes, the lookup in the lake, PostgreSQL
and the warehouse, and a check of each service's cleaned month against it.

Refreshing: the published file is an observable source asset whose data version is the hash of its
bytes (a 12 KB file: hashing it is exact whatever caching headers the CDN sends, where an ETag or
Last-Modified may change without the content, or be missing behind a mirror). A daily schedule
observes it; the lookup asset is ``eager``, so the automation sensor (``automation.py``)
materialises it when it is missing and each time an observation finds new content, and never
otherwise.
"""

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from taxi_assets.constants import ZONES_POSTGRES_TABLE, ZONES_WAREHOUSE_TABLE
from taxi_assets.defs.assets.observed_files import loaded_into_lake, observed_file
from taxi_assets.defs.resources import warehouse_kind
from taxi_assets.errors import as_dagster_failure
from taxi_assets.keys import CLEANED, LOOKUP_FILE_KEY, ZONES_GROUP, ZONES_KEY, asset_key
from taxi_assets.metadata import column_schema
from taxi_assets.partitions import months_in
from taxi_assets.publishers import configured_services
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.warehouse import Warehouse
from taxi_assets.source import TaxiSource
from taxi_assets.zones import (
    LOCATION_ID,
    ZONE_COLUMNS,
    read_zone_lookup,
    zone_descriptions,
    zones_arrow_schema,
)

ZONE_CHECK = "zone_ids_known"
# A trip whose zone id is not in the lookup is a data error, not an unknown place: the TLC writes
# 264/265 for those, so the published months should carry none. This tolerance lets a few corrupt
# records of a multi-million-row month pass (under 1 in 10,000), while a systematic fault (zones
# renumbered, a shifted column, a lookup missing new zones) shows at once as a share in per cent.
UNKNOWN_ZONE_SHARE_WARN = 0.0001
_IDS_LISTED = 20


@dg.asset(
    key=ZONES_KEY,
    deps=[LOOKUP_FILE_KEY],
    group_name=ZONES_GROUP,
    description="The TLC's taxi zones (id, borough, name, service zone): in the lake "
    f"(zones/taxi_zones.parquet), PostgreSQL ({ZONES_POSTGRES_TABLE}) and the warehouse "
    f"({ZONES_WAREHOUSE_TABLE}); loaded again when the published file changes.",
    kinds={"csv", "parquet", "postgres", warehouse_kind()},
    automation_condition=dg.AutomationCondition.eager(),
    metadata={
        "dagster/column_schema": column_schema(zones_arrow_schema(), zone_descriptions()),
        "dagster/table_name": ZONES_POSTGRES_TABLE,
    },
)
@as_dagster_failure
def taxi_zones(
    context: dg.AssetExecutionContext,
    taxi_source: TaxiSource,
    lake: Lake,
    postgres: PostgresResource,
    warehouse: Warehouse,
) -> dg.MaterializeResult:
    zones, loaded = loaded_into_lake(context, taxi_source.fetch_zones(), read_zone_lookup, lake, ZONES_KEY)
    postgres.replace_table(ZONES_POSTGRES_TABLE, zones, zone_descriptions())
    warehouse.replace_table(ZONES_WAREHOUSE_TABLE, zones, zone_descriptions())
    return dg.MaterializeResult(
        metadata={
            **loaded,
            "postgres": f"{postgres.where} table {postgres.schema_name}.{ZONES_POSTGRES_TABLE}",
            "warehouse": warehouse.table_name(ZONES_WAREHOUSE_TABLE),
        },
    )


def _published_schema() -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type) for c in ZONE_COLUMNS])


def _published_descriptions() -> dict[str, str]:
    return {c.name: c.description for c in ZONE_COLUMNS}


load_taxi_zones_job = dg.define_asset_job(
    "load_taxi_zones",
    selection=dg.AssetSelection.assets(ZONES_KEY),
    description="Loads the taxi zone lookup into the lake, PostgreSQL and the warehouse now.",
)

LOOKUP_FILE = observed_file(
    LOOKUP_FILE_KEY,
    TaxiSource.fetch_zones,
    description="The TLC's taxi_zone_lookup.csv as published (TAXI_ZONES_URL); its data version is "
    "the SHA-256 of its bytes.",
    metadata={"dagster/column_schema": column_schema(_published_schema(), _published_descriptions())},
    what="taxi zone lookup",
    cron_schedule="0 6 * * *",
)


class ZoneTally:
    """Trips whose pickup or drop-off zone id the lookup lacks, counted a batch at a time (an empty
    zone is not an id, and is counted apart).
    """

    def __init__(self, lookup: pa.Table) -> None:
        self.known = lookup.column(LOCATION_ID).cast(pa.int64())
        self.trips = self.unknown = self.no_pickup_zone = self.no_dropoff_zone = 0
        self.unknown_ids: set[int] = set()
        # The TLC's ids for no known place, in the lookup: 264 no position, 265 outside NYC (and
        # what the placement of 2009-2010 positions gives points no zone holds).
        self.unplaced = {f"{end}_{code}": 0 for end in ("pickups", "dropoffs") for code in (264, 265)}

    def see(self, pickup: pa.Array, dropoff: pa.Array) -> None:
        pickup, dropoff = pickup.cast(pa.int64()), dropoff.cast(pa.int64())
        pu_unknown = pc.fill_null(pc.invert(pc.is_in(pickup, value_set=self.known)), False)
        do_unknown = pc.fill_null(pc.invert(pc.is_in(dropoff, value_set=self.known)), False)
        self.trips += len(pickup)
        self.unknown += pc.sum(pc.or_(pu_unknown, do_unknown)).as_py() or 0
        self.no_pickup_zone += pickup.null_count
        self.no_dropoff_zone += dropoff.null_count
        for ids, mask in ((pickup, pu_unknown), (dropoff, do_unknown)):
            self.unknown_ids.update(pc.unique(pc.filter(ids, mask)).to_pylist())
        for end, ids in (("pickups", pickup), ("dropoffs", dropoff)):
            for code in (264, 265):
                self.unplaced[f"{end}_{code}"] += pc.sum(pc.equal(ids, code)).as_py() or 0

    def result(self) -> dg.AssetCheckResult:
        share = self.unknown / self.trips if self.trips else 0.0
        return dg.AssetCheckResult(
            passed=share <= UNKNOWN_ZONE_SHARE_WARN,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "trips": self.trips,
                "trips_with_unknown_zone": self.unknown,
                "share": share,
                "threshold": UNKNOWN_ZONE_SHARE_WARN,
                "unknown_ids": sorted(self.unknown_ids)[:_IDS_LISTED],
                "trips_without_pickup_zone": self.no_pickup_zone,
                "trips_without_dropoff_zone": self.no_dropoff_zone,
                **self.unplaced,
            },
        )


def build_zone_check(service: str) -> dg.AssetChecksDefinition:
    cleaned_key = asset_key(service, CLEANED)

    @dg.asset_check(
        asset=cleaned_key,
        name=ZONE_CHECK,
        additional_deps=[ZONES_KEY],
        description="Few trips (at most 1 in 10,000) have a pickup or drop-off zone id that the "
        "TLC's taxi zone lookup lacks (264/265, its unknown zones, are in it); warns otherwise.",
    )
    @as_dagster_failure
    def zone_ids_known(context: dg.AssetCheckExecutionContext, lake: Lake) -> dg.AssetCheckResult:
        lookup = lake.read_file(ZONES_KEY.path[:-1], ZONES_KEY.path[-1])
        if lookup is None:
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                description="The taxi zone lookup is not loaded: materialise zones/taxi_zones.",
            )
        tally = ZoneTally(lookup)
        # The run's months, from its window: a backfill's run holds a few.
        for month in months_in(context.partition_time_window):
            for batch in lake.read_month(cleaned_key.path, month, ["pu_location_id", "do_location_id"]):
                tally.see(batch.column(0), batch.column(1))
        return tally.result()

    return zone_ids_known


@dg.definitions
def zones() -> dg.Definitions:
    return dg.Definitions(
        assets=[LOOKUP_FILE.asset, taxi_zones],
        asset_checks=[build_zone_check(service) for service in configured_services()],
        jobs=[LOOKUP_FILE.job, load_taxi_zones_job],
        schedules=[LOOKUP_FILE.schedule],
    )
