"""Cleaned trips of a month, and the rows cleaning dropped (with the reason), plus their checks."""

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from taxi_assets.batches import Batches
from taxi_assets.defs.assets import for_every_service
from taxi_assets.keys import CLEANED, RAW, REJECTED, asset_key, op_name
from taxi_assets.metadata import column_schema
from taxi_assets.months import Months
from taxi_assets.partitions import MONTHLY_BACKFILL, month_bounds, monthly_partitions
from taxi_assets.schema import (
    KNOWN_VENDORS,
    PASSENGER_COUNT,
    REJECT_REASON,
    TRIP_DISTANCE,
    VENDOR_ID,
    TripSchema,
)
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
            pa.array(sorted(KNOWN_VENDORS), schema.cleaned_arrow_schema.field(VENDOR_ID).type)
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

    @property
    def metered(self) -> bool:
        return self._known is not None


@dataclass(frozen=True)
class _MonthCleaned:
    """One month of a run being cleaned: its raw rows, the cleaning, and the checks' tally."""

    raw: Batches
    cleaning: CleanedBatches
    tally: _CheckTally

    @property
    def raw_rows(self) -> int:
        """The raw file's own count (its footer) where known: not what cleaning says it read."""
        return self.raw.num_rows if self.raw.num_rows is not None else self.cleaning.raw_rows

    @property
    def unaccounted(self) -> int:
        """Raw rows that are neither kept nor rejected (or rows more than the raw file had)."""
        return abs(self.raw_rows - self.tally.rows - sum(self.cleaning.reject_counts.values()))


def _check_results(key: dg.AssetKey, months: Mapping[str, _MonthCleaned]) -> Iterator[dg.AssetCheckResult]:
    """Each check's answer for a run's months: Dagster takes one per check and run, so a run of
    several months passes where every month does, and says how many rows failed in each.
    """
    tallies = [m.tally for m in months.values()]

    def answer(
        name: str,
        failing: Callable[[_MonthCleaned], int],
        metadata: Mapping[str, object],
        severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    ) -> dg.AssetCheckResult:
        by_month = {month: failing(cleaned) for month, cleaned in months.items()}
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=name,
            passed=not any(by_month.values()),
            severity=severity,
            metadata={**metadata, **({"failing_by_month": by_month} if len(months) > 1 else {})},
        )

    if tallies[0].metered:
        yield answer(
            "passengers_and_distance_positive",
            lambda m: m.tally.not_positive,
            {"rows_failing": sum(t.not_positive for t in tallies)},
        )
    yield answer(
        "pickups_inside_partition",
        lambda m: m.tally.outside,
        {
            "rows_failing": sum(t.outside for t in tallies),
            "window": f"[{tallies[0].start}, {tallies[-1].end})",
        },
    )
    # Every month of a service has the same reasons, each counted from 0.
    reasons = next(iter(months.values())).cleaning.reject_counts
    rejected = {r: sum(m.cleaning.reject_counts[r] for m in months.values()) for r in reasons}
    yield answer(
        "reconciles_with_raw",
        lambda m: m.unaccounted,
        {
            "raw_rows": sum(m.raw_rows for m in months.values()),
            "cleaned_rows": sum(t.rows for t in tallies),
            "rejected_rows": sum(rejected.values()),
            # Where the rejected rows went, known once the month is read (after it is written).
            "rejected_by_reason": dg.MetadataValue.json(rejected),
        },
    )
    if tallies[0].metered:
        yield answer(
            "known_vendor_ids",
            lambda m: m.tally.unknown_vendors,
            {
                "rows_failing": sum(t.unknown_vendors for t in tallies),
                "unknown_ids": sorted(set().union(*(t.unknown_ids for t in tallies))),
            },
            dg.AssetCheckSeverity.WARN,
        )


def build_cleaned_trips(schema: TripSchema) -> dg.AssetsDefinition:
    service = schema.service
    key, raw_key, rejected_key = (asset_key(service, stage) for stage in (CLEANED, RAW, REJECTED))
    descriptions = schema.descriptions(snake=True)

    @dg.multi_asset(
        name=op_name(key),
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
    def clean_trips_asset(context: dg.AssetExecutionContext, raw: Months) -> Iterator:
        # Each output is written (by its IO manager) before the next is yielded: the kept rows of
        # each month, then the dropped ones, each a pass over the raw month, and the checks count
        # as they go.
        months: dict[str, _MonthCleaned] = {}

        def clean(month: str, rows: Batches) -> Batches:
            start, end = month_bounds(month)
            # The service's layout plus any column the raw month's load added under evolve.
            cleaning = CleanedBatches(rows, schema.as_stored(rows.schema, snake=False), start, end)
            months[month] = _MonthCleaned(rows, cleaning, _CheckTally(schema, start, end))
            return cleaning.cleaned.map(months[month].tally.see)

        yield dg.Output(raw.map(clean).told_by(context, key), output_name="cleaned")
        rejected = Months(lambda: [(month, m.cleaning.rejected) for month, m in months.items()])
        yield dg.Output(rejected.told_by(context, rejected_key), output_name="rejected")
        yield from _check_results(key, months)

    return clean_trips_asset


@dg.definitions
def cleaned_trips() -> dg.Definitions:
    return for_every_service(build_cleaned_trips)
