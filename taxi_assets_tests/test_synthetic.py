"""The synthetic source: the published layout with the real files' quirks, deterministic by seed."""

import datetime as dt
import gzip
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from taxi_assets.publishers import MIRROR
from taxi_assets.schema import SCHEMAS
from taxi_dev import synthetic
from taxi_dev.synthetic import generate_parts, main, write_month

ROWS = 10_000


def read_as_published(path: Path, service: str) -> pd.DataFrame:
    frame = pd.read_csv(path, keep_default_na=True)
    for name in frame.columns:
        if name.lower().endswith("_datetime"):
            frame[name] = pd.to_datetime(frame[name])
    return frame


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = write_month(tmp_path / "a", "yellow", "2021-01", 2_000, seed=7, publisher=MIRROR)
    b = write_month(tmp_path / "b", "yellow", "2021-01", 2_000, seed=7, publisher=MIRROR)
    c = write_month(tmp_path / "c", "yellow", "2021-01", 2_000, seed=8, publisher=MIRROR)
    assert gzip.decompress(a.read_bytes()) == gzip.decompress(b.read_bytes())
    assert gzip.decompress(a.read_bytes()) != gzip.decompress(c.read_bytes())


@pytest.mark.parametrize("service", ["yellow", "green", "fhv"])
def test_file_has_the_published_header_and_requested_rows(tmp_path: Path, service: str) -> None:
    path = write_month(tmp_path, service, "2020-02", ROWS, publisher=MIRROR)
    assert path.name == f"{service}_tripdata_2020-02.csv.gz"
    with gzip.open(path, "rt") as f:
        header = f.readline().rstrip("\n").split(",")
        first = f.readline().rstrip("\n").split(",")
    assert header == SCHEMAS[service].layout(MIRROR, "2020-02").arrow_schema.names
    if service != "fhv":
        assert first[header.index("passenger_count")] in {f"{n}.0" for n in range(7)}, "2020: ints as floats"
    assert len(read_as_published(path, service)) == ROWS


@pytest.mark.parametrize("service", ["yellow", "green"])
def test_file_carries_the_real_quirks(tmp_path: Path, service: str) -> None:
    schema = SCHEMAS[service]
    frame = read_as_published(write_month(tmp_path, service, "2021-03", ROWS, publisher=MIRROR), service)
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


def test_cli_writes_each_service_and_month_as_the_publisher_does(tmp_path: Path) -> None:
    main(["--out", str(tmp_path / "tlc"), "--month", "2021-01", "--month", "2025-02", "--rows", "100"])
    assert sorted(p.name for p in (tmp_path / "tlc").iterdir()) == [
        f"{service}_tripdata_{month}.parquet"
        for service in ("fhv", "fhvhv", "green", "yellow")
        for month in ("2021-01", "2025-02")
    ]
    # The mirror has no high-volume FHV.
    main(["--out", str(tmp_path / "mirror"), "--month", "2021-01", "--publisher", "mirror", "--rows", "100"])
    assert sorted(p.name for p in (tmp_path / "mirror").iterdir()) == [
        "fhv_tripdata_2021-01.csv.gz",
        "green_tripdata_2021-01.csv.gz",
        "yellow_tripdata_2021-01.csv.gz",
    ]


@pytest.mark.parametrize(
    "layout", [layout.name for layout in SCHEMAS["yellow"].layouts if layout.publisher == "tlc"]
)
def test_parquet_files_have_each_era_s_exact_names_and_types(tmp_path: Path, layout: str) -> None:
    era = next(e for e in SCHEMAS["yellow"].layouts if e.name == layout)
    path = write_month(tmp_path, "yellow", era.first, 500, layout=layout)
    assert pq.read_schema(path).remove_metadata() == era.arrow_schema


def test_a_big_month_is_made_and_written_part_by_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = list(generate_parts("yellow", "2021-02", 10_000, part_rows=2_000))
    assert [len(p) for p in parts] == [1_860] * 5 + [700]  # 9,300 trips in pickup order, then the tail
    whole = pa.concat_tables(parts)
    known = whole.slice(0, 9_300)
    assert known.column("VendorID").null_count == 0
    assert whole.slice(9_300).column("VendorID").null_count == 700
    pickups = pc.filter(
        known.column("tpep_pickup_datetime"),
        pc.greater_equal(known.column("tpep_pickup_datetime"), pa.scalar(dt.datetime(2021, 2, 1))),
    )
    assert pc.all(pc.greater_equal(pickups.slice(1), pickups.slice(0, len(pickups) - 1))).as_py()

    monkeypatch.setattr(synthetic, "PART_ROWS", 1_000)
    path = write_month(tmp_path, "fhvhv", "2019-03", 4_500)
    assert (pq.read_metadata(path).num_rows, pq.read_metadata(path).num_row_groups) == (4_500, 5)
    assert pq.read_schema(path).remove_metadata() == SCHEMAS["fhvhv"].layout("tlc", "2019-03").arrow_schema
    mirror = write_month(tmp_path, "green", "2020-02", 4_500, publisher=MIRROR)
    assert len(read_as_published(mirror, "green")) == 4_500
