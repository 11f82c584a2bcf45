"""The lake on gs://, against gcp-storage-emulator on loopback (a real GCS API server; no mock)."""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from taxi_assets.keys import DAILY
from taxi_assets.resources.lake import Lake
from taxi_assets_tests.support.google import GcsEmulator, on_gcs
from taxi_assets_tests.support.materialize import failure_message, materialize_days, materialize_month
from taxi_assets_tests.support.oracle import course_cleaning, rows_per_pickup_day
from taxi_assets_tests.support.sinks import Sinks, postgres_months, warehouse_rows_per_day
from taxi_assets_tests.support.source_server import SourceServer

JANUARY = [f"2021-01-{d:02d}" for d in range(1, 32)]


def gcs_filesystem(gcs: GcsEmulator) -> pafs.GcsFileSystem:
    host = gcs.endpoint.removeprefix("http://")
    return pafs.GcsFileSystem(anonymous=True, scheme="http", endpoint_override=host, project_id=gcs.project)


def test_a_month_on_gs_flows_through_every_stage(
    source_server: SourceServer, sinks: Sinks, gcs: GcsEmulator
) -> None:
    published = source_server.publish("yellow", "2021-01")
    resources = on_gcs(sinks, gcs)
    assert materialize_month(resources, "yellow", "2021-01").success
    days = materialize_days(resources, "yellow", "2021-01-01", "2021-01-31")
    assert days.success
    assert [e.passed for e in days.get_asset_check_evaluations()] == [True]

    assert gcs.objects() == sorted(
        [
            "lake/yellow/raw_trips/2021-01.parquet",
            "lake/yellow/cleaned_trips/2021-01.parquet",
            "lake/yellow/rejected_trips/2021-01.parquet",
            *(f"lake/yellow/daily_trips/pickup_date={d}/part-0.parquet" for d in JANUARY),
        ]
    )
    expected = course_cleaning(published, "yellow", "2021-01")
    blob = gcs.client().bucket(gcs.bucket).blob("lake/yellow/cleaned_trips/2021-01.parquet")
    cleaned = pq.read_table(pa.BufferReader(blob.download_as_bytes()))
    assert cleaned.num_rows == len(expected)

    dataset = ds.dataset(
        f"{gcs.bucket}/lake/yellow/daily_trips",
        filesystem=gcs_filesystem(gcs),
        format="parquet",
        partitioning="hive",
    )
    per_day = dataset.to_table().to_pandas().groupby("pickup_date").size()
    oracle = rows_per_pickup_day(expected, "yellow")
    assert {str(k)[:10]: int(v) for k, v in per_day.items()} == oracle
    assert warehouse_rows_per_day(sinks.duckdb_path, "yellow") == oracle

    [daily] = [m for m in days.get_asset_materialization_events() if m.asset_key.path[-1] == DAILY][:1]
    metadata = daily.materialization.metadata
    assert metadata["lake_uri"].value == f"gs://{gcs.bucket}/lake/yellow/daily_trips"
    assert metadata["files_written"].value == 31 and metadata["bytes_written"].value > 0
    assert (
        f"gs://{gcs.bucket}/lake/yellow/daily_trips/pickup_date=2021-01-01/part-0.parquet"
        in metadata["files"].value
    )


def test_rewriting_days_leaves_exactly_one_file_per_day(
    source_server: SourceServer, sinks: Sinks, gcs: GcsEmulator
) -> None:
    source_server.publish("green", "2021-01")
    resources = on_gcs(sinks, gcs)
    materialize_month(resources, "green", "2021-01")
    materialize_days(resources, "green", "2021-01-01", "2021-01-31")
    day = "lake/green/daily_trips/pickup_date=2021-01-05"
    # What re-running the course's write_to_dataset leaves: another file beside the first.
    bucket = gcs.client().bucket(gcs.bucket)
    bucket.blob(f"{day}/5d1c0e2f-0.parquet").upload_from_string(
        bucket.blob(f"{day}/part-0.parquet").download_as_bytes()
    )
    before = bucket.blob(f"{day}/part-0.parquet").download_as_bytes()

    for _ in range(2):
        assert materialize_days(resources, "green", "2021-01-05", "2021-01-06").success
    for d in ("2021-01-05", "2021-01-06"):
        assert gcs.objects(f"lake/green/daily_trips/pickup_date={d}/") == [
            f"lake/green/daily_trips/pickup_date={d}/part-0.parquet"
        ]
    assert bucket.blob(f"{day}/part-0.parquet").download_as_bytes() == before
    assert len(gcs.objects("lake/green/daily_trips/")) == 31


@pytest.mark.parametrize(
    ("uri", "settings", "expected"),
    [
        (
            "gs://Taxi_Lake!/lake",
            {},
            r"TAXI_LAKE_URI 'gs://Taxi_Lake!/lake': 'Taxi_Lake!' is not a valid GCS bucket name",
        ),
        (
            "gs://no-such-bucket/lake",
            {},
            r"TAXI_LAKE_URI 'gs://no-such-bucket/lake': bucket 'no-such-bucket' does not exist",
        ),
        (
            None,
            {"gcs_key_path": "/nowhere/key.json"},
            r"GOOGLE_SERVICE_ACC_KEY_FILEPATH: no key file at '/nowhere/key.json'",
        ),
    ],
    ids=["bad-bucket-name", "missing-bucket", "bad-credentials-path"],
)
def test_bad_gcs_settings_fail_naming_the_setting_and_write_nothing(
    source_server: SourceServer,
    sinks: Sinks,
    gcs: GcsEmulator,
    uri: str | None,
    settings: dict,
    expected: str,
) -> None:
    source_server.publish("yellow", "2021-01")
    result = materialize_month(on_gcs(sinks, gcs, uri, **settings), "yellow", "2021-01", raise_on_error=False)
    assert not result.success
    assert re.search(expected, failure_message(result)), failure_message(result)
    assert gcs.objects() == []
    assert postgres_months(sinks.postgres, "yellow") == {}


def test_a_key_file_that_is_not_a_key_names_the_setting(tmp_path, gcs: GcsEmulator, monkeypatch) -> None:
    key = tmp_path / "key.json"
    key.write_text('{"type": "service_account", "project_id": "x"}')
    monkeypatch.delenv("GOOGLE_SERVICE_ACC_KEY_FILEPATH", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    lake = Lake(base_uri=f"gs://{gcs.bucket}/lake", gcs_endpoint=gcs.endpoint)
    with pytest.raises(
        Exception,
        match=r"GOOGLE_APPLICATION_CREDENTIALS: .*key.json' is not a usable Google credentials file",
    ):
        lake.open()


@pytest.mark.processes
def test_a_key_file_the_process_cannot_read_says_whose_it_is(tmp_path) -> None:
    """The compose case: `gcloud iam service-accounts keys create` wrote the key with mode 0600 for
    its maker, and the container's user is someone else. Here the key belongs to uid 1000 and the
    reader is this process's user without the capability to read others' files (setpriv drops it
    from root; a user who is not root cannot read a mode-0000 file of their own either).
    """
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    folder.chmod(0o755)
    key = folder / "gcp-key.json"
    key.write_text('{"type": "service_account", "project_id": "x"}')
    reader = [sys.executable]
    if os.getuid() == 0:
        os.chown(key, 1000, 1000)
        key.chmod(0o600)
        drop = "-dac_override,-dac_read_search"
        reader = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", "--", sys.executable]
    else:
        key.chmod(0o000)
    opens_the_lake = (
        "import sys; from taxi_assets.resources.lake import Lake; "
        "Lake(base_uri='gs://taxi-lake/lake', gcs_endpoint='http://127.0.0.1:9', "
        "gcs_key_path=sys.argv[1]).open()"
    )
    result = subprocess.run(
        [*reader, "-c", opens_the_lake, str(key)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    owner = "1000" if os.getuid() == 0 else str(os.getuid())
    assert re.search(
        rf"GOOGLE_SERVICE_ACC_KEY_FILEPATH: '{re.escape(str(key))}' cannot be read by this process's user "
        rf"\(uid {os.getuid()}\): it belongs to uid {owner} with mode 0{'600' if owner == '1000' else '000'}",
        result.stderr,
    ), result.stderr


def test_a_write_failing_midway_leaves_the_previous_day_readable(
    source_server: SourceServer, sinks: Sinks, gcs: GcsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mock stands in for the network failing mid-upload (no real part can fail on cue): the
    parquet writer writes half a batch's rows to the path it is given, then raises. On GCS such an
    upload is still published when its stream closes, which is why the lake writes aside and
    moves into place.
    """
    source_server.publish("yellow", "2021-01")
    resources = on_gcs(sinks, gcs)
    materialize_month(resources, "yellow", "2021-01")
    materialize_days(resources, "yellow", "2021-01-01", "2021-01-31")
    day = "lake/yellow/daily_trips/pickup_date=2021-01-07/part-0.parquet"
    before = gcs.client().bucket(gcs.bucket).blob(day).download_as_bytes()
    objects = gcs.objects()

    import taxi_assets.resources.lake_files as lake_module

    class UploadCutOff(pq.ParquetWriter):
        def write_batch(self, batch: pa.RecordBatch, row_group_size: int | None = None) -> None:
            super().write_batch(batch.slice(0, batch.num_rows // 2))
            raise ConnectionError("connection reset by peer")

    monkeypatch.setattr(lake_module.pq, "ParquetWriter", UploadCutOff)
    result = materialize_days(resources, "yellow", "2021-01-07", "2021-01-07", raise_on_error=False)
    assert not result.success
    assert "connection reset by peer" in failure_message(result)
    assert gcs.client().bucket(gcs.bucket).blob(day).download_as_bytes() == before
    assert gcs.objects() == objects
