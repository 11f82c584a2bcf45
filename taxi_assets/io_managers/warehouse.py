"""The warehouse table's IO manager: a window of days replaced month by month, read back as Arrow."""

import dagster as dg
import pyarrow as pa

from taxi_assets.batches import Seen
from taxi_assets.chunks import MonthChunks
from taxi_assets.errors import reported
from taxi_assets.metadata import day_column, descriptions_of, run_rows, table_name
from taxi_assets.partitions import span
from taxi_assets.resources.warehouse import Warehouse


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Each month of the window in one atomic replace, read a batch at a time whatever the range.

    A failure keeps every month whole: those before it are new, it and those after it as they were.
    """

    warehouse: dg.ResourceDependency[Warehouse]

    @reported
    def handle_output(self, context: dg.OutputContext, obj: MonthChunks) -> None:
        metadata = context.definition_metadata
        table, column = table_name(metadata), day_column(metadata)
        rows, evolved = 0, None
        for chunk in obj:
            # Months may differ in columns (one a load added under evolve): the table gains each
            # month's, once per layout seen.
            if chunk.rows.schema != evolved:
                described = descriptions_of(metadata, chunk.rows.schema)
                self.warehouse.evolve_table(table, chunk.rows.schema, column, described)
                evolved = chunk.rows.schema
            seen = Seen(chunk.rows)
            self.warehouse.replace_days(table, column, seen.batches(), *span(chunk.days))
            rows += seen.count
        context.add_output_metadata(
            {
                **run_rows(rows, len(context.asset_partition_keys)),
                "dagster/table_name": self.warehouse.table_name(table),
            }
        )

    @reported
    def load_input(self, context: dg.InputContext) -> pa.Table:
        metadata = context.upstream_output.definition_metadata if context.upstream_output else {}
        window = context.asset_partitions_time_window
        return self.warehouse.read_days(
            table_name(metadata), day_column(metadata), window.start.date(), window.end.date()
        )
