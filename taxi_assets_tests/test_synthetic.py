"""The synthetic source: the published layout with the real files' quirks, deterministic by seed."""

import gzip
from pathlib import Path

import pandas as pd
import pytest

from taxi_assets.schema import SCHEMAS
from taxi_assets.synthetic import main, write_month

ROWS = 10_000


def read_as_published(path: Path, service: str) -> pd.DataFrame:
    schema = SCHEMAS[service]
    return pd.read_csv(path, parse_dates=[schema.pickup_column, schema.dropoff_column], keep_default_na=True)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = write_month(tmp_path / "a", "yellow", "2021-01", 2_000, seed=7)
    b = write_month(tmp_path / "b", "yellow", "2021-01", 2_000, seed=7)
    c = write_month(tmp_path / "c", "yellow", "2021-01", 2_000, seed=8)
    assert gzip.decompress(a.read_bytes()) == gzip.decompress(b.read_bytes())
    assert gzip.decompress(a.read_bytes()) != gzip.decompress(c.read_bytes())


@pytest.mark.parametrize("service", ["yellow", "green"])
def test_file_has_the_published_header_and_requested_rows(tmp_path: Path, service: str) -> None:
    path = write_month(tmp_path, service, "2020-02", ROWS)
    assert path.name == f"{service}_tripdata_2020-02.csv.gz"
    with gzip.open(path, "rt") as f:
        assert f.readline().rstrip("\n").split(",") == SCHEMAS[service].names
    assert len(read_as_published(path, service)) == ROWS


@pytest.mark.parametrize("service", ["yellow", "green"])
def test_file_carries_the_real_quirks(tmp_path: Path, service: str) -> None:
    schema = SCHEMAS[service]
    frame = read_as_published(write_month(tmp_path, service, "2021-03", ROWS), service)
    unknown = frame["VendorID"].isna()
    assert 0.05 < unknown.mean() < 0.09
    for column in ("passenger_count", "RatecodeID", "payment_type", "store_and_fwd_flag"):
        assert frame.loc[unknown, column].isna().all()
    assert (frame["passenger_count"] == 0).any()
    assert (frame["trip_distance"] == 0).any()
    assert (frame["trip_distance"] > 10_000).any()
    assert (frame["RatecodeID"] == 99).any()
    assert (frame["total_amount"] < 0).any()
    pickups = frame[schema.pickup_column]
    outside = (pickups < "2021-03-01") | (pickups >= "2021-04-01")
    assert outside.any()
    assert (pickups.dt.year < 2020).any(), "some pickups should be years before the file's month"
    if service == "green":
        assert frame["ehail_fee"].isna().all()


def test_cli_writes_each_service_and_month(tmp_path: Path) -> None:
    main(["--out", str(tmp_path), "--month", "2021-01", "--month", "2021-02", "--rows", "100"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "green_tripdata_2021-01.csv.gz",
        "green_tripdata_2021-02.csv.gz",
        "yellow_tripdata_2021-01.csv.gz",
        "yellow_tripdata_2021-02.csv.gz",
    ]
