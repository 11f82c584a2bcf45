"""The warehouse table's IO manager: a window of days replaced month by month."""

import dagster as dg
import pyarrow as pa

from taxi_assets.batches import Seen
from taxi_assets.chunks import MonthChunks
from taxi_assets.constants import warehouse_table
from taxi_assets.errors import reported
from taxi_assets.keys import service_of
from taxi_assets.metadata import run_rows, table_descriptions
from taxi_assets.partitions import span
from taxi_assets.resources.warehouse import Warehouse
from taxi_assets.schema import PICKUP_DATE


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Each month of the window in one atomic replace, read a batch at a time whatever the range.

    A failure keeps every month whole: those before it are new, it and those after it as they were.
    """

    warehouse: dg.ResourceDependency[Warehouse]

    @reported
    def handle_output(self, context: dg.OutputContext, obj: MonthChunks) -> None:
        service = service_of(context.asset_key)
        table, rows, evolved = warehouse_table(service), 0, None
        for chunk in obj:
            # Months may differ in columns (one a load added under evolve): the table gains each
            # month's, once per layout seen.
            if chunk.rows.schema != evolved:
                described = table_descriptions(service, chunk.rows.schema)
                self.warehouse.evolve_table(table, chunk.rows.schema, PICKUP_DATE, described)
                evolved = chunk.rows.schema
            seen = Seen(chunk.rows)
            self.warehouse.replace_days(table, PICKUP_DATE, seen.batches(), *span(chunk.days))
            rows += seen.count
        context.add_output_metadata(
            {
                **run_rows(rows, len(context.asset_partition_keys)),
                "warehouse": self.warehouse.table_name(table),
            }
        )

    def load_input(self, context: dg.InputContext) -> None:
        raise NotImplementedError("nothing reads the warehouse table back through Dagster")


class WarehouseModelIOManager(dg.ConfigurableIOManager):
    """The analytics models' tables (dbt writes them): nothing to store, and each loaded whole by
    the asset that reads it (a chart of every month), by the name dbt gives it, its key's last part.
    """

    warehouse: dg.ResourceDependency[Warehouse]

    def handle_output(self, context: dg.OutputContext, obj: None) -> None:
        # dbt wrote the table in its own run; the output carries no rows.
        pass

    @reported
    def load_input(self, context: dg.InputContext) -> pa.Table:
        return self.warehouse.read_table(context.asset_key.path[-1])
