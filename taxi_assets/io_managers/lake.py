"""The lake's IO managers: monthly files and the daily dataset; each writes and reads a batch at a
time."""

from collections.abc import Iterator

import dagster as dg

from taxi_assets.batches import Batches, CountedRows
from taxi_assets.errors import as_dagster_failure
from taxi_assets.metadata import (
    descriptions_of,
    preview_metadata,
    rows_metadata,
    run_rows,
    written_files,
)
from taxi_assets.months import MonthRows, Months
from taxi_assets.partitions import by_month, days_in
from taxi_assets.resources.lake import Lake
from taxi_assets.schema import PICKUP_DATE


class LakeFilesIOManager(dg.ConfigurableIOManager):
    """Each month of a monthly asset as one parquet file, `{service}/{stage}/YYYY-MM.parquet`, written
    and read a batch at a time; a run's months are moved into place together.
    """

    lake: dg.ResourceDependency[Lake]

    @as_dagster_failure
    def handle_output(self, context: dg.OutputContext, months: Months) -> None:
        partitions = months.partition_metadata_for(context)
        counted: dict[str, CountedRows] = {}

        def each_counted() -> Iterator[tuple[str, Batches]]:
            for month in months:
                counted[month.month] = CountedRows(month.rows)
                yield month.month, counted[month.month].batches()

        written = self.lake.write_months(context.asset_key.path, each_counted())
        descriptions = descriptions_of(context.definition_metadata)
        where = self.lake.uri(context.asset_key.path)
        for month, (uri, size) in written.items():
            partitions.add(
                month,
                {**rows_metadata(counted[month], descriptions), **written_files(where, {uri: size})},
            )

    @as_dagster_failure
    def load_input(self, context: dg.InputContext) -> Months:
        # Each month's file found now (a missing month fails here, naming it), read when asked for.
        # A range of days downstream is handed the months it touches, whole.
        found = [
            MonthRows.whole(month, self.lake.read_month(context.asset_key.path, month))
            for month in context.asset_partition_keys
        ]
        return Months(lambda: found)


class LakeDaysIOManager(dg.ConfigurableIOManager):
    """The daily dataset: each day of the run's window a hive folder of its own (by `pickup_date`),
    replaced whole.
    """

    lake: dg.ResourceDependency[Lake]

    @as_dagster_failure
    def handle_output(self, context: dg.OutputContext, window: Months) -> None:
        parts = context.asset_key.path
        owned = set(days_in(context.asset_partitions_time_window))
        written: dict[str, int] = {}
        rows, shown = 0, None
        for month in window:
            counted = CountedRows(month.rows)
            written |= self.lake.replace_days(
                parts, PICKUP_DATE, counted.batches(), [d for d in month.days if d in owned]
            )
            rows += counted.count
            if shown is None or (not shown.count and counted.count):
                shown = counted  # the preview: the first month with rows
        metadata = preview_metadata(shown, descriptions_of(context.definition_metadata)) if shown else {}
        context.add_output_metadata(
            {**metadata, **run_rows(rows, len(owned)), **written_files(self.lake.uri(parts), written)}
        )

    @as_dagster_failure
    def load_input(self, context: dg.InputContext) -> Months:
        parts = context.asset_key.path
        found = [
            MonthRows(f"{days[0]:%Y-%m}", self.lake.read_days(parts, PICKUP_DATE, days), days)
            for days in by_month(days_in(context.asset_partitions_time_window))
        ]
        return Months(lambda: found)
