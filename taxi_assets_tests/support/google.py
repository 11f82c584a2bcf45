"""Google's services without Google: gcp-storage-emulator and bqemulator in this process, on loopback."""

import asyncio
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from taxi_assets.resources.lake import Lake
from taxi_assets_tests.support.processes import free_port
from taxi_assets_tests.support.sinks import (
    Sinks,
    resources_for,
)


@dataclass(kw_only=True)
class _GoogleEmulator:
    """An emulator of a Google service, on a loopback port."""

    endpoint: str
    project: str = "taxi-test"

    def _client(self, client_class: type) -> Any:
        """A ``client_class`` client of the emulator, with the anonymous credentials it takes."""
        from google.auth.credentials import AnonymousCredentials

        return client_class(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )


@dataclass(kw_only=True)
class GcsEmulator(_GoogleEmulator):
    """gcp-storage-emulator, in this process, on a loopback port, with one bucket."""

    bucket: str

    def client(self) -> Any:
        from google.cloud import storage

        return self._client(storage.Client)

    def objects(self, prefix: str = "") -> list[str]:
        return sorted(blob.name for blob in self.client().list_blobs(self.bucket, prefix=prefix))


@contextmanager
def _storage_emulator() -> Iterator[str]:
    """gcp-storage-emulator on a loopback port, its address."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[str]:
    """One emulator per test process, its address: stopping one takes half a second (its serve
    loop's poll), which each test paid when it had one of its own.
    """
    with _storage_emulator() as endpoint:
        yield endpoint


@pytest.fixture
def gcs(gcs_server: str) -> GcsEmulator:
    """The emulator with a bucket of this test's own."""
    emulator = GcsEmulator(endpoint=gcs_server, bucket=f"taxi-lake-{uuid.uuid4().hex[:12]}")
    emulator.client().create_bucket(emulator.bucket)
    return emulator


@dataclass(kw_only=True)
class BigQueryEmulator(_GoogleEmulator):
    """bqemulator in this process, on a loopback port, with one dataset of this test's own."""

    dataset: str

    def client(self) -> Any:
        from google.cloud import bigquery

        return self._client(bigquery.Client)

    def query(self, sql: str) -> list[tuple]:
        return [tuple(row.values()) for row in self.client().query(sql).result()]

    def environment(self) -> dict[str, str]:
        """What points a process's Google client at the emulator, as the bigquery fixture does here."""
        return {"BIGQUERY_EMULATOR_HOST": self.endpoint, "NO_GCE_CHECK": "true"}


class _BigQueryServer:
    """bqemulator's server on a thread with its own event loop, as its test runner does, without
    importing its pytest plugin (which needs testcontainers).
    """

    def __init__(self) -> None:
        from bqemulator.config import LogLevel, Settings
        from bqemulator.server import EmulatorServer

        _make_bqemulator_work_offline()
        self.port = free_port()
        settings = Settings(
            rest_port=self.port,
            grpc_port=free_port(),
            default_project_id="taxi-test",
            log_level=LogLevel.ERROR,
        )
        self.server = EmulatorServer(settings)
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.error: BaseException | None = None
        threading.Thread(target=self._run, name="bqemulator", daemon=True).start()
        if not self.started.wait(90) or self.error:
            raise RuntimeError(f"bqemulator did not start: {self.error or 'timed out after 90 s'}")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self.error = exc
        self.started.set()
        if self.error is None:
            self.loop.run_forever()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)


def _make_bqemulator_work_offline() -> None:
    """The two things bqemulator 1.4.0 needs here (see NOTES): its DuckDB spatial extension is
    downloaded at start-up (no network here; the project uses no GEOGRAPHY), and its upload route
    refuses google-cloud-bigquery's ``*/*`` media type for small multipart loads.
    """
    import bqemulator.api.routes.upload as upload
    from bqemulator.storage.engine import DuckDBEngine

    load_spatial = DuckDBEngine._load_spatial

    def spatial_if_available(engine: Any) -> None:
        try:
            load_spatial(engine)
        except Exception:
            logging.getLogger(__name__).info("bqemulator without DuckDB spatial (offline)")

    DuckDBEngine._load_spatial = spatial_if_available
    if "*/*" not in upload._PERMITTED_MEDIA_CONTENT_TYPES:
        upload._PERMITTED_MEDIA_CONTENT_TYPES = (*upload._PERMITTED_MEDIA_CONTENT_TYPES, "*/*")


@pytest.fixture(scope="session")
def bigquery_server() -> Iterator[_BigQueryServer]:
    server = _BigQueryServer()
    yield server
    server.stop()


@pytest.fixture
def bigquery(bigquery_server: _BigQueryServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[BigQueryEmulator]:
    """A dataset of this test's own; google-cloud-bigquery pointed at the emulator."""
    emulator = BigQueryEmulator(
        endpoint=f"http://127.0.0.1:{bigquery_server.port}", dataset=f"test_{uuid.uuid4().hex[:12]}"
    )
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", emulator.endpoint)
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_SERVICE_ACC_KEY_FILEPATH", "GCP_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    emulator.client().create_dataset(emulator.dataset)
    yield emulator
    emulator.client().delete_dataset(emulator.dataset, delete_contents=True, not_found_ok=True)


def on_gcs(sinks: Sinks, gcs: GcsEmulator, uri: str | None = None, **settings: str) -> dict:
    lake = Lake(
        base_uri=uri or f"gs://{gcs.bucket}/lake",
        gcs_endpoint=gcs.endpoint,
        gcp_project=gcs.project,
        **settings,
    )
    resources = sinks.resources
    return resources_for(resources["taxi_source"], lake, resources["warehouse"], resources["postgres"])
