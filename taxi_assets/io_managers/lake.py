"""The lake's IO managers: monthly files, months read as chunks, and the daily dataset; every one
writes and reads a batch at a time."""

import dagster as dg
import pyarrow as pa

from taxi_assets.batches import Batches, Seen
from taxi_assets.chunks import MonthChunk, MonthChunks
from taxi_assets.errors import reported
from taxi_assets.metadata import descriptions_of, preview_metadata, rows_metadata, run_rows, written_files
from taxi_assets.partitions import by_month, days_in
from taxi_assets.resources.lake import Lake
from taxi_assets.schema import PICKUP_DATE


class LakeFilesIOManager(dg.ConfigurableIOManager):
    """A month of a monthly asset as one parquet file, `{service}/{stage}/YYYY-MM.parquet`, written
    and read a batch at a time.
    """

    lake: dg.ResourceDependency[Lake]

    @reported
    def handle_output(self, context: dg.OutputContext, obj: Batches | pa.Table) -> None:
        # Not context.partition_key: a backfill's run of one month is tagged with a range of one
        # partition, on which an output context's partition_key raises.
        [month] = context.asset_partition_keys
        seen = Seen(Batches.of(obj))
        written = self.lake.write_month(context.asset_key.path, month, seen.batches())
        context.add_output_metadata(
            {
                **rows_metadata(seen, descriptions_of(context.definition_metadata)),
                **written_files(self.lake.uri(context.asset_key.path), written),
            }
        )

    @reported
    def load_input(self, context: dg.InputContext) -> Batches:
        [month] = context.asset_partition_keys
        return self.lake.read_month(context.asset_key.path, month)


@dg.input_manager(required_resource_keys={"lake"})
@reported
def lake_months(context: dg.InputContext) -> MonthChunks:
    """The monthly files a range of days needs, each read a batch at a time when asked for."""
    lake: Lake = context.resources.lake
    parts = context.asset_key.path
    window = context.asset_partitions_def.time_window_for_partition_key
    return MonthChunks(
        tuple(
            MonthChunk(tuple(days_in(window(month))), lake.read_month(parts, month))
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
