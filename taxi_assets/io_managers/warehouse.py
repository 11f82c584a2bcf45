"""The warehouse table's IO manager: a window of days replaced month by month, and read back so."""

import dagster as dg
import pyarrow as pa

from taxi_assets.batches import CountedRows
from taxi_assets.constants import warehouse_table
from taxi_assets.errors import as_dagster_failure
from taxi_assets.keys import service_of
from taxi_assets.metadata import run_rows, table_descriptions
from taxi_assets.months import MonthRows, Months
from taxi_assets.partitions import by_month, days_in, span
from taxi_assets.resources.warehouse import Warehouse
from taxi_assets.schema import PICKUP_DATE, SCHEMAS


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Each month of the window in one atomic replace, read a batch at a time whatever the range.

    A failure keeps every month whole: those before it are new, it and those after it as they were.
    """

    warehouse: dg.ResourceDependency[Warehouse]

    @as_dagster_failure
    def handle_output(self, context: dg.OutputContext, window: Months) -> None:
        service = service_of(context.asset_key)
        table, rows, evolved = warehouse_table(service), 0, None
        for month in window:
            # Months may differ in columns (one a load added under evolve): the table gains each
            # month's, once per layout seen.
            if month.rows.schema != evolved:
                described = table_descriptions(service, month.rows.schema)
                self.warehouse.evolve_table(table, month.rows.schema, PICKUP_DATE, described)
                evolved = month.rows.schema
            counted = CountedRows(month.rows)
            self.warehouse.replace_days(table, PICKUP_DATE, counted.batches(), *span(month.days))
            rows += counted.count
        context.add_output_metadata(
            {
                **run_rows(rows, len(context.asset_partition_keys)),
                "warehouse": self.warehouse.table_name(table),
            }
        )

    @as_dagster_failure
    def load_input(self, context: dg.InputContext) -> Months:
        # The window's days month by month, as the lake's daily dataset is loaded: each month's rows
        # streamed a batch at a time when asked for, typed as the lake's.
        service = service_of(context.asset_key)
        table, lake_types = warehouse_table(service), SCHEMAS[service].cleaned_arrow_schema
        found = [
            MonthRows(
                f"{days[0]:%Y-%m}",
                self.warehouse.read_days(table, PICKUP_DATE, *span(days)).typed_as(lake_types),
                days,
            )
            for days in by_month(days_in(context.asset_partitions_time_window))
        ]
        return Months(lambda: found)


class WarehouseModelIOManager(dg.ConfigurableIOManager):
    """The analytics models' tables (dbt writes them): nothing to store, and each loaded whole by
    the asset that reads it (a chart of every month), by the name dbt gives it, its key's last part.
    """

    warehouse: dg.ResourceDependency[Warehouse]

    def handle_output(self, context: dg.OutputContext, obj: None) -> None:
        # dbt wrote the table in its own run; the output carries no rows.
        pass

    @as_dagster_failure
    def load_input(self, context: dg.InputContext) -> pa.Table:
        return self.warehouse.read_table(context.asset_key.path[-1])
