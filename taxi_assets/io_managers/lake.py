"""The lake's IO managers: monthly files, months read as chunks, and the daily dataset; every one
writes and reads a batch at a time."""

from collections.abc import Iterator

import dagster as dg

from taxi_assets.batches import Batches, Seen
from taxi_assets.chunks import MonthChunk, MonthChunks
from taxi_assets.errors import reported
from taxi_assets.metadata import descriptions_of, preview_metadata, rows_metadata, run_rows, written_files
from taxi_assets.months import Months, teller
from taxi_assets.partitions import by_month, days_in, days_of
from taxi_assets.resources.lake import Lake
from taxi_assets.schema import PICKUP_DATE


class LakeFilesIOManager(dg.ConfigurableIOManager):
    """Each month of a monthly asset as one parquet file, `{service}/{stage}/YYYY-MM.parquet`, written
    and read a batch at a time; a run's months are moved into place together.
    """

    lake: dg.ResourceDependency[Lake]

    @reported
    def handle_output(self, context: dg.OutputContext, months: Months) -> None:
        tell = teller(context, months)
        seen: dict[str, Seen] = {}

        def counted() -> Iterator[tuple[str, Batches]]:
            for month, rows in months:
                seen[month] = Seen(rows)
                yield month, seen[month].batches()

        written = self.lake.write_months(context.asset_key.path, counted())
        descriptions = descriptions_of(context.definition_metadata)
        where = self.lake.uri(context.asset_key.path)
        for month, (uri, size) in written.items():
            tell(month, {**rows_metadata(seen[month], descriptions), **written_files(where, {uri: size})})

    @reported
    def load_input(self, context: dg.InputContext) -> Months:
        # Each month's file found now (a missing month fails here, naming it), read when asked for.
        found = [
            (month, self.lake.read_month(context.asset_key.path, month))
            for month in context.asset_partition_keys
        ]
        return Months(lambda: found)


@dg.input_manager(required_resource_keys={"lake"})
@reported
def lake_months(context: dg.InputContext) -> MonthChunks:
    """The monthly files a range of days needs, each read a batch at a time when asked for."""
    lake: Lake = context.resources.lake
    parts = context.asset_key.path
    return MonthChunks(
        tuple(
            MonthChunk(tuple(days_of(month)), lake.read_month(parts, month))
            for month in context.asset_partition_keys
        )
    )


class LakeDaysIOManager(dg.ConfigurableIOManager):
    """The daily dataset: each day of the run's window a hive folder of its own (by `pickup_date`),
    replaced whole.
    """

    lake: dg.ResourceDependency[Lake]

    @reported
    def handle_output(self, context: dg.OutputContext, obj: MonthChunks) -> None:
        parts = context.asset_key.path
        owned = set(days_in(context.asset_partitions_time_window))
        written: dict[str, int] = {}
        rows, shown = 0, None
        for chunk in obj:
            seen = Seen(chunk.rows)
            written |= self.lake.replace_days(
                parts, PICKUP_DATE, seen.batches(), [d for d in chunk.days if d in owned]
            )
            rows += seen.count
            if shown is None or (not shown.count and seen.count):
                shown = seen  # the preview: the first month with rows
        metadata = preview_metadata(shown, descriptions_of(context.definition_metadata)) if shown else {}
        context.add_output_metadata(
            {**metadata, **run_rows(rows, len(owned)), **written_files(self.lake.uri(parts), written)}
        )

    @reported
    def load_input(self, context: dg.InputContext) -> MonthChunks:
        parts = context.asset_key.path
        days = days_in(context.asset_partitions_time_window)
        return MonthChunks(
            tuple(
                MonthChunk(tuple(month), self.lake.read_days(parts, PICKUP_DATE, month))
                for month in by_month(days)
            )
        )
