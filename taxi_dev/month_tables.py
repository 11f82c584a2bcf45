"""Whole months in memory, for tests and benchmarks that compare them: the package only streams."""

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from taxi_assets.batches import Batches
from taxi_assets.publishers import Publisher
from taxi_assets.schema import FREEZE, TripSchema
from taxi_assets.source import SourceFile
from taxi_assets.transform import CleanedBatches
from taxi_assets.trip_files import canonical_batches, read_plan


def whole(batches: Batches) -> pa.Table:
    """Every row of ``batches`` in one table."""
    return pa.Table.from_batches(list(batches), schema=batches.schema)


def read_trips(source: SourceFile, schema: TripSchema, contract: str = FREEZE) -> pa.Table:
    """A downloaded month in the service's canonical layout (under the schema ``contract``), every row."""
    plan = read_plan(source, schema, contract)
    return pa.Table.from_batches(list(canonical_batches(source, plan)), schema=plan.schema.raw_arrow_schema)


@dataclass(frozen=True)
class CleanedMonth:
    """The rows kept, the rows dropped (with why), and how many were dropped for each reason."""

    cleaned: pa.Table
    rejected: pa.Table
    reject_counts: dict[str, int]


def clean_trips(
    raw: pa.Table | pa.RecordBatch, schema: TripSchema, start: dt.datetime, end: dt.datetime
) -> CleanedMonth:
    """The project's cleaning (``CleanedBatches``) of rows in memory."""
    month = CleanedBatches(Batches.of(raw), schema, start, end)
    cleaned, rejected = whole(month.cleaned), whole(month.rejected)
    return CleanedMonth(cleaned, rejected, dict(month.reject_counts))


def months_of(publisher: Publisher, service: str, today: dt.date | None = None) -> list[str]:
    """Every month of ``service`` the publisher has, oldest first."""
    first, last = (
        pd.Period(publisher.first_month(service), "M"),
        pd.Period(publisher.newest_month(today), "M"),
    )
    return [p.strftime("%Y-%m") for p in pd.period_range(first, last, freq="M")]
