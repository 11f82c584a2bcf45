"""Cleaned trips of a month, and the rows cleaning dropped (with the reason), plus their checks."""

import datetime as dt
from collections.abc import Iterator, Mapping

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from taxi_assets.batches import Batches
from taxi_assets.defs.assets import for_every_service
from taxi_assets.keys import CLEANED, RAW, REJECTED, asset_key
from taxi_assets.metadata import column_schema
from taxi_assets.partitions import MONTHLY_BACKFILL, monthly_partitions, wall_clock
from taxi_assets.schema import PASSENGER_COUNT, REJECT_REASON, TRIP_DISTANCE, VENDOR_ID, VENDORS, TripSchema
from taxi_assets.transform import CleanedBatches, picked_up_inside, reject_reasons


def _count_false(mask: pa.Array | pa.ChunkedArray) -> int:
    return len(mask) - (pc.sum(mask).as_py() or 0)


def _metered(schema: TripSchema) -> bool:
    """Taxi trips (yellow, green) carry the meter's passenger count, distance and vendor; FHV not."""
    return schema.has(PASSENGER_COUNT)


class _CheckTally:
    """What the checks ask of the cleaned rows, counted batch by batch as they are written."""

    def __init__(self, schema: TripSchema, start: dt.datetime, end: dt.datetime) -> None:
        self.schema, self.start, self.end = schema, start, end
        self.rows = self.not_positive = self.outside = self.unknown_vendors = 0
        self.unknown_ids: set[int] = set()
        self._known = (
            pa.array(sorted(VENDORS), schema.cleaned_arrow_schema.field(VENDOR_ID).type)
            if _metered(schema)
            else None
        )

    def see(self, cleaned: pa.RecordBatch) -> pa.RecordBatch:
        self.rows += cleaned.num_rows
        pickups = cleaned.column(self.schema.pickup_snake)
        self.outside += _count_false(picked_up_inside(pickups, self.start, self.end))
        if self._known is not None:
            # Missing values fail each test, as they did when the checks were pandas comparisons.
            positive = pc.and_(
                pc.fill_null(pc.greater(cleaned.column(PASSENGER_COUNT), 0), False),
                pc.fill_null(pc.greater(cleaned.column(TRIP_DISTANCE), 0.0), False),
            )
            self.not_positive += _count_false(positive)
            vendors = pc.drop_null(cleaned.column(VENDOR_ID))
            unknown = pc.filter(vendors, pc.invert(pc.is_in(vendors, value_set=self._known)))
            self.unknown_vendors += len(unknown)
            self.unknown_ids.update(pc.unique(unknown).to_pylist())
        return cleaned

    def results(self, raw_rows: int, rejected: Mapping[str, int]) -> Iterator[dg.AssetCheckResult]:
        rejected_rows = sum(rejected.values())
        key = asset_key(self.schema.service, CLEANED)
        if self._known is not None:
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name="passengers_and_distance_positive",
                passed=self.not_positive == 0,
                metadata={"rows_failing": self.not_positive},
            )
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="pickups_inside_partition",
            passed=self.outside == 0,
            metadata={"rows_failing": self.outside, "window": f"[{self.start}, {self.end})"},
        )
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="reconciles_with_raw",
            passed=self.rows + rejected_rows == raw_rows,
            metadata={
                "raw_rows": raw_rows,
                "cleaned_rows": self.rows,
                "rejected_rows": rejected_rows,
                # Where the rejected rows went, known once the month is read (after it is written).
                "rejected_by_reason": dg.MetadataValue.json(dict(rejected)),
            },
        )
        if self._known is not None:
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name="known_vendor_ids",
                passed=self.unknown_vendors == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"rows_failing": self.unknown_vendors, "unknown_ids": sorted(self.unknown_ids)},
            )


def build_cleaned_trips(schema: TripSchema) -> dg.AssetsDefinition:
    service = schema.service
    key, raw_key, rejected_key = (asset_key(service, stage) for stage in (CLEANED, RAW, REJECTED))
    descriptions = schema.descriptions(snake=True)

    @dg.multi_asset(
        name=key.to_python_identifier(),
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
    def clean_trips_asset(context: dg.AssetExecutionContext, raw: Batches) -> Iterator:
        # Each output is written (by its IO manager) before the next is yielded: the kept rows,
        # then the dropped ones, each a pass over the raw month, and the checks count as they go.
        start, end = wall_clock(context.partition_time_window)
        # The service's layout plus any column the raw month's load added under evolve.
        month = CleanedBatches(raw, schema.as_stored(raw.schema, snake=False), start, end)
        tally = _CheckTally(schema, start, end)
        yield dg.Output(month.cleaned.map(tally.see), output_name="cleaned")
        yield dg.Output(month.rejected, output_name="rejected")
        # The raw file's own count (its footer) where known: not what cleaning says it read.
        raw_rows = raw.num_rows if raw.num_rows is not None else month.raw_rows
        yield from tally.results(raw_rows, month.reject_counts)

    return clean_trips_asset


@dg.definitions
def cleaned_trips() -> dg.Definitions:
    return for_every_service(build_cleaned_trips)
