"""Raw trips: one month of a service's published file, typed, as published."""

from collections.abc import Iterator

import dagster as dg
import pyarrow as pa
from pydantic import Field

from taxi_assets.batches import Batches
from taxi_assets.defs.assets import for_every_service
from taxi_assets.errors import as_dagster_failure
from taxi_assets.keys import RAW, SHAPES_KEY, asset_key, op_name
from taxi_assets.metadata import column_schema
from taxi_assets.months import MonthRows, Months
from taxi_assets.partitions import MONTHLY_BACKFILL, month_bounds, monthly_partitions
from taxi_assets.placement import ZonePlacer, needs_placing
from taxi_assets.resources.contract import SchemaContract
from taxi_assets.resources.lake import Lake
from taxi_assets.schema import DISCARD, PICKUP_POINT, TripSchema
from taxi_assets.source import SourceError, SourceFile, TaxiSource
from taxi_assets.transform import PickupTally
from taxi_assets.trip_files import Plan, canonical_batches, read_plan


class RawTripsConfig(dg.Config):
    accept_implausible_month: bool = Field(
        default=False,
        description="Load the month even if its file holds no trips or mostly another month's: "
        "it then replaces that month in every sink. Off, such a file fails the run and changes nothing.",
    )


class ImplausibleMonth(SourceError):
    """A file that parses but cannot be the month it is published as."""


def build_raw_trips(schema: TripSchema) -> dg.AssetsDefinition:
    service = schema.service
    key = asset_key(service, RAW)

    @dg.asset(
        key=key,
        description=f"{schema.title} of one month, typed, as published.",
        partitions_def=monthly_partitions(service),
        backfill_policy=MONTHLY_BACKFILL,
        group_name=service,
        kinds={"csv", "pyarrow", "parquet"},
        # Yellow's 2009-2010 months are placed in the zones' shapes.
        deps=[SHAPES_KEY] if schema.has(PICKUP_POINT[0]) else [],
        metadata={
            "dagster/column_schema": column_schema(schema.raw_arrow_schema, schema.descriptions(snake=False))
        },
    )
    @as_dagster_failure
    def raw_trips(
        context: dg.AssetExecutionContext,
        config: RawTripsConfig,
        taxi_source: TaxiSource,
        schema_contract: SchemaContract,
        lake: Lake,
    ) -> dg.Output[Months]:
        contract = schema_contract.for_service(service)

        def each_month() -> Iterator[MonthRows]:
            # Yielded inside the download's block: the IO manager streams the file into the lake
            # before the next month is asked for and the download is removed.
            for month in context.partition_keys:
                with taxi_source.fetch(service, month) as source:
                    yield MonthRows.whole(
                        month, _month_of(context, config, schema, month, source, contract, lake)
                    )

        return dg.Output(Months(each_month).with_partition_metadata(context, key))

    return raw_trips


def _month_of(
    context: dg.AssetExecutionContext,
    config: RawTripsConfig,
    schema: TripSchema,
    month: str,
    source: SourceFile,
    contract: str,
    lake: Lake,
) -> Batches:
    """The downloaded month's rows, typed as the layout its header matches, checked as they are
    read; what its materialisation says of the file.
    """
    service, key = schema.service, asset_key(schema.service, RAW)
    context.log.info(f"downloaded {source.shown_url} ({source.size_bytes:,} bytes)")
    tally = PickupTally(schema.pickup_column, *month_bounds(month))
    # The file's columns against the known layouts, before any row is read: under freeze a new
    # column fails the month here, with nothing written.
    plan = read_plan(source, schema, contract)
    changes = _contract_changes(plan, contract)
    for line in changes.get("schema_changes", ()):
        context.log.warning(f"{service} {month}: {line}")
    context.add_asset_metadata(
        {
            "source_url": dg.MetadataValue.url(source.shown_url),
            "source_bytes": source.size_bytes,
            "source_sha256": source.sha256,
            **{k: dg.MetadataValue.json(v) for k, v in changes.items()},
        },
        key,
        month,
    )

    placer = _zone_placer(lake, source) if needs_placing(plan.published) else None

    def batches() -> Iterator[pa.RecordBatch]:
        rows = canonical_batches(source, plan)
        yield from map(tally.see, map(placer.place, rows) if placer else rows)
        if placer:
            context.add_asset_metadata(placer.metadata(), key, month)
        # Whether the file can be this month is known once it is read; the lake's IO manager
        # writes the run's months under temporary names, so failing here leaves the lake (and
        # everything downstream) as it was.
        problem = tally.implausible()
        if problem and not config.accept_implausible_month:
            raise ImplausibleMonth(
                f"{service} {month} ({source.shown_url}): {problem}; nothing was written. "
                f"If the file is right, run it with the config ops: {{{op_name(key)}: {{config: "
                "{accept_implausible_month: true}}}"
            )
        if problem:
            context.log.warning(f"{service} {month}: {problem}; loaded as asked (accept_implausible_month)")

    return Batches(plan.schema.raw_arrow_schema, batches)


def _zone_placer(lake: Lake, source: SourceFile) -> ZonePlacer:
    """The zones' shapes from the lake, to place a month that gives positions instead of zones."""
    shapes = lake.read_file(SHAPES_KEY.path[:-1], SHAPES_KEY.path[-1])
    if shapes is None:
        raise SourceError(
            f"{source.where}: the file gives positions, not zones, and the taxi zone shapes are not loaded: "
            f"materialise {'/'.join(SHAPES_KEY.path)} (TAXI_ZONE_SHAPES_URL), then this month; "
            "nothing was written"
        )
    return ZonePlacer(shapes)


def _contract_changes(plan: Plan, contract: str) -> dict[str, list]:
    """What the schema contract did to the file's layout, for the run's log and the asset's metadata:
    the columns added (name, type) and those left out (names), with a sentence for each.
    """
    lines = [
        f"column {c.name!r} ({c.type}) is in no known layout: added under TAXI_SCHEMA_CONTRACT={contract}, "
        "nullable, in the lake and every table, described as not in the data dictionary"
        for c in plan.added
    ]
    lines += [
        f"column {name!r} is in no known layout: left out under TAXI_SCHEMA_CONTRACT={contract}"
        + (" (typed null: empty all month, so of no type yet)" if contract != DISCARD else "")
        for name in plan.dropped
    ]
    changes: dict[str, list] = {}
    if plan.added:
        changes["columns_added"] = [[c.name, str(c.type)] for c in plan.added]
    if plan.dropped:
        changes["columns_dropped"] = list(plan.dropped)
    if lines:
        changes["schema_changes"] = lines
    return changes


@dg.definitions
def raw_trips() -> dg.Definitions:
    return for_every_service(build_raw_trips)
