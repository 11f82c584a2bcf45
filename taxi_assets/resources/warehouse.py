"""What a warehouse does for the assets: trips tables partitioned by day, a window replaced at once.

DuckDB (``duckdb_warehouse.py``) and BigQuery (``bigquery_warehouse.py``) implement it; the
warehouse IO manager and the warehouse check only ever call these methods.
"""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from collections.abc import Mapping

import dagster as dg
import pyarrow as pa

from taxi_assets.batches import Batches


class Warehouse(dg.ConfigurableResource):
    """Tables of trips partitioned by day, in some warehouse."""

    @abstractmethod
    def table_name(self, table: str) -> str:
        """The table as a user names it in SQL (``ny_taxi.yellow_trips``)."""

    @abstractmethod
    def check(self) -> tuple[str, str]:
        """Where the warehouse is and what it answered to a query; else an error naming the setting."""

    @abstractmethod
    def evolve_table(
        self, table: str, schema: pa.Schema, day_column: str, descriptions: Mapping[str, str]
    ) -> None:
        """Create ``table`` from ``schema``, partitioned by ``day_column``, or add the columns it lacks."""

    @abstractmethod
    def replace_days(
        self, table: str, day_column: str, rows: pa.Table | Batches, first: dt.date, end: dt.date
    ) -> None:
        """Make the days ``[first, end)`` of ``table`` hold exactly ``rows`` (read a batch at a time),
        at once: readers see the old days or the new ones, and a failure keeps the old ones.
        """

    @abstractmethod
    def replace_table(self, table: str, rows: pa.Table, descriptions: Mapping[str, str]) -> None:
        """Make ``table`` (unpartitioned; made from ``rows``' schema if missing) hold exactly ``rows``,
        at once. For a small table (a lookup).
        """

    @abstractmethod
    def read_table(self, table: str) -> pa.Table:
        """Every row of ``table``."""

    @abstractmethod
    def day_counts(self, table: str, day_column: str, first: dt.date, end: dt.date) -> dict[str, int]:
        """Rows per day (``2021-01-15``) of ``[first, end)``, counted by the warehouse; none if no table."""

    @abstractmethod
    def read_days(self, table: str, day_column: str, first: dt.date, end: dt.date) -> Batches:
        """The rows of ``[first, end)``, read a batch at a time each time they are iterated; the
        table must exist now.
        """
