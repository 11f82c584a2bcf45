"""Cleaned trips of a month, and the rows cleaning dropped (with the reason), plus their checks."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from taxi_assets.keys import CLEANED, RAW, REJECTED, asset_key
from taxi_assets.metadata import column_schema, frame_metadata
from taxi_assets.partitions import MONTHLY_BACKFILL, monthly_partitions, wall_clock
from taxi_assets.schema import PASSENGER_COUNT, REJECT_REASON, TRIP_DISTANCE, VENDOR_ID, VENDORS, TripSchema
from taxi_assets.transform import CleanedMonth, clean_trips, picked_up_inside, reject_reasons


def _count_false(mask: pa.ChunkedArray) -> int:
    return len(mask) - (pc.sum(mask).as_py() or 0)


def _metered(schema: TripSchema) -> bool:
    """Taxi trips (yellow, green) carry the meter's passenger count, distance and vendor; FHV not."""
    return schema.has(PASSENGER_COUNT)


def _checks(
    schema: TripSchema, result: CleanedMonth, raw: pa.Table, start: dt.datetime, end: dt.datetime
) -> Iterator[dg.AssetCheckResult]:
    key = asset_key(schema.service, CLEANED)
    cleaned = result.cleaned
    if _metered(schema):
        # Missing values fail each test, as they did when the checks were pandas comparisons.
        positive = pc.and_(
            pc.fill_null(pc.greater(cleaned.column(PASSENGER_COUNT), 0), False),
            pc.fill_null(pc.greater(cleaned.column(TRIP_DISTANCE), 0.0), False),
        )
        not_positive = _count_false(positive)
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="passengers_and_distance_positive",
            passed=not_positive == 0,
            metadata={"rows_failing": not_positive},
        )
    outside = _count_false(picked_up_inside(cleaned.column(schema.pickup_snake), start, end))
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="pickups_inside_partition",
        passed=outside == 0,
        metadata={"rows_failing": outside, "window": f"[{start}, {end})"},
    )
    total = len(cleaned) + len(result.rejected)
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="reconciles_with_raw",
        passed=total == len(raw),
        metadata={"raw_rows": len(raw), "cleaned_rows": len(cleaned), "rejected_rows": len(result.rejected)},
    )
    if not _metered(schema):
        return
    vendors = pc.drop_null(cleaned.column(VENDOR_ID))
    known = pa.array(sorted(VENDORS), vendors.type)
    unknown = pc.filter(vendors, pc.invert(pc.is_in(vendors, value_set=known)))
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="known_vendor_ids",
        passed=len(unknown) == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows_failing": len(unknown), "unknown_ids": sorted(pc.unique(unknown).to_pylist())},
    )


def build_cleaned_trips(schema: TripSchema) -> dg.AssetsDefinition:
    service = schema.service
    key, raw_key, rejected_key = (asset_key(service, stage) for stage in (CLEANED, RAW, REJECTED))
    descriptions = schema.descriptions(snake=True)

    @dg.multi_asset(
        name=f"{service}_clean_trips",
        outs={
            "cleaned": dg.AssetOut(
                key=key,
                description=f"{schema.title} of one month that pass cleaning "
                f"({', '.join(reject_reasons(service))} rejected), picked up in that month; snake_case "
                "columns and pickup_date.",
                metadata={"dagster/column_schema": column_schema(schema.cleaned_arrow_schema, descriptions)},
                kinds={"parquet", "pyarrow"},
            ),
            "rejected": dg.AssetOut(
                key=rejected_key,
                description=f"{schema.title}: the rows cleaning dropped, each with its reject_reason.",
                metadata={
                    "dagster/column_schema": column_schema(
                        schema.rejected_arrow_schema,
                        {**descriptions, REJECT_REASON: "Why cleaning dropped the row."},
                    )
                },
                kinds={"parquet", "pyarrow"},
            ),
        },
        ins={"raw": dg.AssetIn(key=raw_key)},
        partitions_def=monthly_partitions(service),
        backfill_policy=MONTHLY_BACKFILL,
        group_name=service,
        check_specs=[
            *(
                [
                    dg.AssetCheckSpec(
                        "passengers_and_distance_positive",
                        asset=key,
                        blocking=True,
                        description="No trip with passenger_count or trip_distance ≤ 0 or missing.",
                    )
                ]
                if _metered(schema)
                else []
            ),
            dg.AssetCheckSpec(
                "pickups_inside_partition",
                asset=key,
                blocking=True,
                description="Every pickup falls inside the partition's month.",
            ),
            dg.AssetCheckSpec(
                "reconciles_with_raw",
                asset=key,
                blocking=True,
                additional_deps=[raw_key, rejected_key],
                description="Cleaned rows + rejected rows = raw rows: nothing is lost.",
            ),
            *(
                [
                    dg.AssetCheckSpec(
                        "known_vendor_ids",
                        asset=key,
                        description="vendor_id is one the TLC data dictionary knows.",
                    )
                ]
                if _metered(schema)
                else []
            ),
        ],
    )
    def clean_trips_asset(context: dg.AssetExecutionContext, raw: pa.Table) -> Iterator:
        start, end = wall_clock(context.partition_time_window)
        result = clean_trips(raw, schema, start, end)
        yield dg.Output(
            result.cleaned, output_name="cleaned", metadata=frame_metadata(result.cleaned, descriptions)
        )
        yield dg.Output(
            result.rejected,
            output_name="rejected",
            metadata={
                **frame_metadata(result.rejected, descriptions),
                "rejected_by_reason": dg.MetadataValue.json(result.reject_counts),
                **{f"rejected_{reason}": n for reason, n in result.reject_counts.items()},
            },
        )
        yield from _checks(schema, result, raw, start, end)

    return clean_trips_asset
