"""Cleaned trips of a month, and the rows cleaning dropped (with the reason), plus their checks."""

import dataclasses
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
from taxi_assets.months import MonthRows, Months
from taxi_assets.partitions import MONTHLY_BACKFILL, month_bounds, monthly_partitions
from taxi_assets.schema import (
    PASSENGER_COUNT,
    REJECT_REASON,
    TRIP_DISTANCE,
    VENDOR_ID,
    TripSchema,
    known_vendors,
)
from taxi_assets.transform import CleanedBatches, PickupTally, reject_reasons


def _count_false(mask: pa.Array | pa.ChunkedArray) -> int:
    return len(mask) - (pc.sum(mask).as_py() or 0)


def _metered(schema: TripSchema) -> bool:
    """Taxi trips (yellow, green) carry the meter's passenger count, distance and vendor; FHV not."""
    return schema.has(PASSENGER_COUNT)


class _CheckTally:
    """What the checks ask of the cleaned rows, counted batch by batch as they are written."""

    def __init__(self, schema: TripSchema, start: dt.datetime, end: dt.datetime) -> None:
        # The pickups inside the month, counted as the raw asset counts them in the published file.
        self.pickups = PickupTally(schema.pickup_snake, start, end)
        self.not_positive = self.unknown_vendors = 0
        self.unknown_ids: set[int] = set()
        self._known = (
            pa.array(sorted(known_vendors(start)), schema.cleaned_arrow_schema.field(VENDOR_ID).type)
            if _metered(schema)
            else None
        )

    def see(self, cleaned: pa.RecordBatch) -> pa.RecordBatch:
        self.pickups.see(cleaned)
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
    def rows(self) -> int:
        return self.pickups.rows

    @property
    def outside(self) -> int:
        """Cleaned rows picked up outside the month (none, if cleaning did its work)."""
        return self.pickups.rows - self.pickups.inside

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
            "window": f"[{tallies[0].pickups.start}, {tallies[-1].pickups.end})",
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


class _CleaningRun:
    """A run's months through cleaning, in the order its outputs depend on one another: the cleaned
    rows (a pass over each raw month; the checks count as they are written), then the rejected rows
    (a second pass, counting each reason), then the checks, which need both counts.

    Dagster has the IO manager store each output the asset yields before it asks the asset for the
    next (``core_dagster_event_sequence_for_step`` in ``dagster/_core/execution/plan/execute_step.py``);
    each stage here asks that the one before it was written, so yielding them in another order fails
    at once instead of reporting counts of rows not yet read.
    """

    def __init__(self, schema: TripSchema, raw: Months) -> None:
        self._schema, self._raw = schema, raw
        self._months: dict[str, _MonthCleaned] = {}
        self._written: set[str] = set()

    def cleaned(self) -> Months:
        """Each raw month's kept rows, counted for the checks as the IO manager writes them."""

        def clean(month: MonthRows) -> Batches:
            start, end = month_bounds(month.month)
            rows = month.rows
            # The service's layout plus any column the raw month's load added under evolve.
            cleaning = CleanedBatches(rows, self._schema.as_stored(rows.schema, snake=False), start, end)
            self._months[month.month] = _MonthCleaned(rows, cleaning, _CheckTally(self._schema, start, end))
            return cleaning.cleaned.map(self._months[month.month].tally.see)

        return self._written_as("cleaned", self._raw.map(clean))

    def rejected(self) -> Months:
        """Each month's dropped rows, once the kept ones are written."""
        self._after("cleaned", "rejected")
        months = self._months
        return self._written_as(
            "rejected", Months(lambda: [MonthRows.whole(m, c.cleaning.rejected) for m, c in months.items()])
        )

    def check_results(self, key: dg.AssetKey) -> Iterator[dg.AssetCheckResult]:
        """The checks' answers, once the kept and the dropped rows are written and counted."""
        self._after("rejected", "checks")
        return _check_results(key, self._months)

    def _written_as(self, stage: str, months: Months) -> Months:
        """``months``, ``stage`` noted as written once the IO manager has read every month of it."""

        def each() -> Iterator[MonthRows]:
            yield from months
            self._written.add(stage)

        return dataclasses.replace(months, each=each)

    def _after(self, stage: str, later: str) -> None:
        if stage not in self._written:
            raise RuntimeError(
                f"{self._schema.service}: the {later} need the {stage} rows written first; yield the "
                f"{stage} output before the {later}"
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
        run = _CleaningRun(schema, raw)
        yield dg.Output(run.cleaned().with_partition_metadata(context, key), output_name="cleaned")
        yield dg.Output(run.rejected().with_partition_metadata(context, rejected_key), output_name="rejected")
        yield from run.check_results(key)

    return clean_trips_asset


@dg.definitions
def cleaned_trips() -> dg.Definitions:
    return for_every_service(build_cleaned_trips)
