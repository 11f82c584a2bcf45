"""The lake IO manager on its own: a daily asset's rows land in their day's file, whatever their order."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.dataset as ds

from taxi_assets.resources.lake import ParquetLake


def test_days_in_any_row_order_land_in_their_own_files(tmp_path: Path) -> None:
    days = dg.DailyPartitionsDefinition(start_date="2021-01-01", end_date="2021-01-04")

    @dg.asset(partitions_def=days, metadata={"partition_expr": "pickup_date"})
    def trips() -> pd.DataFrame:
        # Not in day order, as a hand-made or pandas-built frame may be.
        return pd.DataFrame(
            {
                "trip": [5, 1, 4, 2, 3],
                "pickup_date": [dt.date(2021, 1, d) for d in (3, 1, 3, 2, 2)],
            }
        )

    result = dg.materialize(
        [trips],
        resources={"io_manager": ParquetLake(base_uri=str(tmp_path))},
        tags={
            "dagster/asset_partition_range_start": "2021-01-01",
            "dagster/asset_partition_range_end": "2021-01-03",
        },
    )
    assert result.success
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet"))
    assert files == [f"trips/pickup_date=2021-01-0{d}/part-0.parquet" for d in (1, 2, 3)]
    written = ds.dataset(tmp_path / "trips", partitioning="hive").to_table().to_pandas()
    per_day = written.groupby(written["pickup_date"].astype(str))["trip"].apply(sorted).to_dict()
    assert per_day == {"2021-01-01": [1], "2021-01-02": [2, 3], "2021-01-03": [4, 5]}
