"""The lake's IO managers: monthly files, months read as chunks, and the daily dataset."""

from collections.abc import Sequence

import dagster as dg
import pyarrow as pa

from taxi_assets.chunks import MonthChunk, MonthChunks
from taxi_assets.errors import reported
from taxi_assets.metadata import day_column, descriptions_of, frame_metadata, written_files
from taxi_assets.partitions import by_month, days_in
from taxi_assets.resources.lake import Lake


class LakeFilesIOManager(dg.ConfigurableIOManager):
    """A month of a monthly asset as one parquet file, ``{service}/{stage}/YYYY-MM.parquet``."""

    lake: dg.ResourceDependency[Lake]

    @reported
    def handle_output(self, context: dg.OutputContext, obj: pa.Table) -> None:
        # Not context.partition_key: a backfill's run of one month is tagged with a range of one
        # partition, on which an output context's partition_key raises.
        [month] = context.asset_partition_keys
        written = self.lake.write_month(context.asset_key.path, month, obj)
        context.add_output_metadata(written_files(self.lake.uri(context.asset_key.path), written))

    @reported
    def load_input(self, context: dg.InputContext) -> pa.Table:
        [month] = context.asset_partition_keys
        return self.lake.read_month(context.asset_key.path, month)


@dg.input_manager(required_resource_keys={"lake"})
@reported
def lake_months(context: dg.InputContext) -> MonthChunks:
    """The monthly files a range of days needs, as chunks read one month at a time."""
    lake: Lake = context.resources.lake
    parts = context.asset_key.path
    window = context.asset_partitions_def.time_window_for_partition_key
    return MonthChunks(
        tuple(
            MonthChunk(tuple(days_in(window(month))), lambda month=month: lake.read_month(parts, month))
            for month in context.asset_partition_keys
        )
    )


class LakeDaysIOManager(dg.ConfigurableIOManager):
    """The daily dataset: each day of the run's window a hive folder of its own, replaced whole."""

    lake: dg.ResourceDependency[Lake]

    @reported
    def handle_output(self, context: dg.OutputContext, obj: MonthChunks) -> None:
        parts, column = context.asset_key.path, day_column(context.definition_metadata)
        owned = set(days_in(context.asset_partitions_time_window))
        written: dict[str, int] = {}
        rows, metadata = 0, {}
        for days, month in obj.tables():
            written |= self.lake.replace_days(parts, column, month, [d for d in days if d in owned])
            if not metadata or (rows == 0 and len(month)):
                metadata = frame_metadata(month, descriptions_of(context.definition_metadata))
            rows += len(month)
            del month  # before the next month loads, not after
        context.add_output_metadata(
            {**metadata, "dagster/partition_row_count": rows, **written_files(self.lake.uri(parts), written)}
        )

    @reported
    def load_input(self, context: dg.InputContext) -> MonthChunks:
        parts = context.asset_key.path
        column = day_column(context.upstream_output.definition_metadata if context.upstream_output else {})
        days = days_in(context.asset_partitions_time_window)

        def read(month: Sequence) -> MonthChunk:
            return MonthChunk(tuple(month), lambda: self.lake.read_days(parts, column, month))

        return MonthChunks(tuple(read(month) for month in by_month(days)))
