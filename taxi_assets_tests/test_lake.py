"""The lake on its own: a day's rows land in their day's file whatever their order, and nothing else."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from taxi_assets.batches import Batches
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.lake_files import LakeError
from taxi_dev.month_tables import whole

DAYS = [dt.date(2021, 1, d) for d in (1, 2, 3)]


def test_days_in_any_row_order_land_in_their_own_files(tmp_path: Path) -> None:
    # Not in day order, as a hand-made table may be.
    rows = pa.table({"trip": [5, 1, 4, 2, 3], "pickup_date": [dt.date(2021, 1, d) for d in (3, 1, 3, 2, 2)]})
    Lake(base_uri=str(tmp_path)).replace_days(["trips"], "pickup_date", rows, DAYS)

    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet"))
    assert files == [f"trips/pickup_date=2021-01-0{d}/part-0.parquet" for d in (1, 2, 3)]
    written = ds.dataset(tmp_path / "trips", partitioning="hive").to_table().to_pandas()
    per_day = written.groupby(written["pickup_date"].astype(str))["trip"].apply(sorted).to_dict()
    assert per_day == {"2021-01-01": [1], "2021-01-02": [2, 3], "2021-01-03": [4, 5]}
    assert Lake(base_uri=str(tmp_path)).day_counts(["trips"], "pickup_date", DAYS) == {
        "2021-01-01": 1,
        "2021-01-02": 2,
        "2021-01-03": 2,
    }


def test_rows_of_a_day_the_write_does_not_own_change_nothing(tmp_path: Path) -> None:
    lake = Lake(base_uri=str(tmp_path))
    lake.replace_days(["trips"], "pickup_date", pa.table({"trip": [0], "pickup_date": DAYS[:1]}), DAYS)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.parquet")}
    # Good rows in the first batches (written, under temporary names), the stray day in the last.
    good = pa.table({"trip": [1, 2], "pickup_date": [dt.date(2021, 1, 1), dt.date(2021, 1, 2)]})
    stray = pa.table({"trip": [3], "pickup_date": [dt.date(2021, 1, 9)]})
    rows = Batches(good.schema, lambda: iter([*good.to_batches(), *good.to_batches(), *stray.to_batches()]))
    with pytest.raises(LakeError, match="outside 2021-01-01 … 2021-01-03"):
        lake.replace_days(["trips"], "pickup_date", rows, DAYS)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.parquet")} == before
    assert [p.name for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".parquet"] == []


def test_days_read_back_as_any_hive_reader_gives_them_even_from_an_earlier_layout(tmp_path: Path) -> None:
    lake = Lake(base_uri=str(tmp_path))
    old = pa.table({"trip": [1], "pickup_date": DAYS[:1]})
    new = pa.table({"trip": [2, 3], "fee": [0.5, None], "pickup_date": DAYS[1:2] * 2})
    lake.replace_days(["trips"], "pickup_date", old, DAYS[:1])
    lake.replace_days(["trips"], "pickup_date", new, DAYS[1:2])
    read = whole(lake.read_days(["trips"], "pickup_date", DAYS[1:2] + DAYS[:1]))
    assert read.column_names == ["trip", "fee", "pickup_date"]
    assert sorted(read.to_pylist(), key=lambda r: r["trip"]) == [
        {"trip": 1, "fee": None, "pickup_date": DAYS[0]},
        {"trip": 2, "fee": 0.5, "pickup_date": DAYS[1]},
        {"trip": 3, "fee": None, "pickup_date": DAYS[1]},
    ]


def test_a_month_file_is_replaced_whole_and_read_back(tmp_path: Path) -> None:
    lake = Lake(base_uri=str(tmp_path))
    lake.write_months(["yellow", "raw_trips"], [("2021-01", pa.table({"trip": [1, 2, 3]}))])
    lake.write_months(["yellow", "raw_trips"], [("2021-01", pa.table({"trip": [7]}))])
    assert whole(lake.read_month(["yellow", "raw_trips"], "2021-01")).column("trip").to_pylist() == [7]
    assert [p.name for p in (tmp_path / "yellow" / "raw_trips").iterdir()] == ["2021-01.parquet"]
    with pytest.raises(LakeError, match=r"yellow/raw_trips 2021-02 is not in the lake yet"):
        lake.read_month(["yellow", "raw_trips"], "2021-02")


def test_months_written_together_are_all_replaced_or_none(tmp_path: Path) -> None:
    """A backfill run writes several months; one that fails to be read leaves every month as it was."""
    lake, parts = Lake(base_uri=str(tmp_path)), ["yellow", "raw_trips"]
    lake.write_months(parts, [("2021-01", pa.table({"trip": [1]})), ("2021-02", pa.table({"trip": [2]}))])

    def unreadable() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch({"trip": [30]})
        raise ValueError("the download was cut off")

    months = [
        ("2021-01", pa.table({"trip": [10]})),
        ("2021-02", Batches(pa.schema([("trip", pa.int64())]), unreadable)),
    ]
    with pytest.raises(ValueError, match="cut off"):
        lake.write_months(parts, months)
    assert [whole(lake.read_month(parts, m)).column("trip").to_pylist() for m in ("2021-01", "2021-02")] == [
        [1],
        [2],
    ]
    assert sorted(p.name for p in (tmp_path / "yellow" / "raw_trips").iterdir()) == [
        "2021-01.parquet",
        "2021-02.parquet",
    ]

    written = lake.write_months(parts, [months[0], ("2021-03", pa.table({"trip": [3, 4]}))])
    assert list(written) == ["2021-01", "2021-03"]
    assert [whole(lake.read_month(parts, m)).column("trip").to_pylist() for m in ("2021-01", "2021-03")] == [
        [10],
        [3, 4],
    ]
