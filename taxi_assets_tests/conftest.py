"""Services the tests talk to: a local HTTP server publishing synthetic TLC files, the machine's
PostgreSQL, GCS and BigQuery emulators on loopback, and per-test storage (lake folder, DuckDB file,
Postgres schema, BigQuery dataset). Nothing reaches the internet.
"""

import asyncio
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from taxi_assets.defs.resources import io_managers
from taxi_assets.publishers import MIRROR, PUBLISHERS, TLC
from taxi_assets.resources.contract import SchemaContract
from taxi_assets.resources.duckdb_warehouse import DuckDBWarehouse
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.sql import quote_ident
from taxi_assets.source import TaxiSource
from taxi_assets.zones import ZONES_FILE
from taxi_assets_tests.session import materialize_days, materialize_month, snapshot
from taxi_dev.local_postgres import server_reachable, start_local_postgres
from taxi_dev.synthetic import source_file_name, write_month, write_zone_lookup

MONTH_ROWS = 4_000
# How long a trickling answer lasts at most, so that no test's server thread outlives it by much.
TRICKLE_SECONDS = 120
_SESSION_TMP = pytest.StashKey[str]()
# The sinks behind one interface, with their ``store`` fixture, for every test module that needs them.
pytest_plugins = ["taxi_assets_tests.stores"]


@pytest.hookimpl(tryfirst=True)  # before pytest's own tmp_path factory reads --basetemp
def pytest_configure(config: pytest.Config) -> None:
    """Every temporary file of the session goes in one folder, removed when the session ends:
    pytest's own (``tmp_path``), and what the processes the tests start leave in TMPDIR (the
    sockets of Dagster's code servers, bqemulator's uploads, embedded PostgreSQL's lock).

    ``tmp_path`` is kept short (``{folder}/t/``, and ``popen-gwN/`` under it in pytest-xdist's
    workers, which take the path from the main process): a Unix socket's path holds at most
    107 bytes, and podman's API socket and embedded PostgreSQL's live in test folders.
    """
    folder = tempfile.mkdtemp(prefix="taxi-tests-")
    config.stash[_SESSION_TMP] = folder
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = None  # tempfile reads TMPDIR again
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = str(Path(folder) / "t")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash[_SESSION_TMP], ignore_errors=True)


@dataclass
class Faults:
    """Answers the server gives instead of a file: per path, a queue of status codes, 'truncate'
    (half the body, then the connection closes), 'drop' (the connection closes, no answer) or
    'trickle' (a byte every 0.1 s).
    """

    queued: dict[str, list[int | str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_for(self, path: str, method: str = "GET") -> int | str | None:
        with self.lock:
            self.requests.append(path)
            self.methods.append(method)
            queue = self.queued.get(path)
            return queue.pop(0) if queue else None


class SourceServer:
    """A publisher-like file server on 127.0.0.1 (or ``address``) that can fail on purpose: the
    mirror's CSV.gz files, or the TLC's parquet ones, as the synthetic source writes them.
    """

    def __init__(
        self, root: Path, publisher: str = MIRROR, address: tuple[str, int] = ("127.0.0.1", 0)
    ) -> None:
        self.root = root
        self.publisher = publisher
        self.format = PUBLISHERS[publisher].file_name.split(".", 1)[1]
        self.faults = Faults()
        # Set, every request without exactly this Authorization header is answered 401.
        self.required_authorization: str | None = None
        faults, server = self.faults, self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(root), **kwargs)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def refused(self) -> bool:
                required = server.required_authorization
                if required is None or self.headers.get("Authorization") == required:
                    return False
                self.send_error(HTTPStatus.UNAUTHORIZED)
                return True

            def do_HEAD(self) -> None:
                fault = faults.next_for(self.file_path, "HEAD")
                if self.refused():
                    return
                if isinstance(fault, int):
                    self.send_error(fault)
                    return
                super().do_HEAD()

            @property
            def file_path(self) -> str:
                """The request's path without its query string (a signed URL's signature)."""
                return self.path.partition("?")[0]

            def do_GET(self) -> None:
                fault = faults.next_for(self.file_path)
                if self.refused():
                    return
                if fault == "drop":
                    self.close_connection = True
                    return
                if fault == "truncate":
                    body = (root / self.file_path.lstrip("/")).read_bytes()
                    self.send_response(HTTPStatus.OK)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                    return
                if fault == "trickle":
                    self._trickle((root / self.file_path.lstrip("/")).read_bytes())
                    return
                if isinstance(fault, int):
                    self.send_error(fault)
                    return
                super().do_GET()

            def _trickle(self, body: bytes) -> None:
                """The whole file announced, then a byte every 0.1 s: never a read timeout."""
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                give_up = time.monotonic() + TRICKLE_SECONDS
                try:
                    for i in range(len(body)):
                        if time.monotonic() > give_up:
                            break
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(0.1)
                except OSError:
                    pass  # the client gave up, as it should
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(address, Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url_template(self) -> str:
        return f"{self.base_url}/{source_file_name('{service}', '{month}', self.format)}"

    def file_name(self, service: str, month: str) -> str:
        return source_file_name(service, month, self.format)

    def url(self, service: str, month: str) -> str:
        return f"{self.base_url}/{self.file_name(service, month)}"

    def source(self) -> TaxiSource:
        """The source resource a run gets when it reads from this server."""
        return TaxiSource(
            url_template=self.url_template, zones_url=f"{self.base_url}/{ZONES_FILE}", backoff_seconds=0.01
        )

    def publish_zones(self, zones: int = 263) -> Path:
        """Publish a taxi zone lookup: ``zones`` zones, then the unknown ones (264, 265)."""
        return write_zone_lookup(self.root / ZONES_FILE, zones)

    def publish(self, service: str, month: str, rows: int = MONTH_ROWS, seed: int = 0, **layout: Any) -> Path:
        """Publish a synthetic month in this publisher's layout of that month (or ``layout=``)."""
        return write_month(
            self.root, service, month, rows, seed, publisher=self.publisher, fmt=self.format, **layout
        )

    def fail(self, service: str, month: str, *answers: int | str) -> None:
        self.faults.queued["/" + self.file_name(service, month)] = list(answers)


def _serve(root: Path, publisher: str) -> Iterator[SourceServer]:
    server = SourceServer(root, publisher)
    server.root.mkdir()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def source_server(tmp_path: Path) -> Iterator[SourceServer]:
    """The course's mirror: CSV.gz files."""
    yield from _serve(tmp_path / "published", MIRROR)


@pytest.fixture
def tlc_server(tmp_path: Path) -> Iterator[SourceServer]:
    """The TLC's own site: parquet files in each era's layout."""
    yield from _serve(tmp_path / "tlc", TLC)


SERVER = PostgresResource(host="127.0.0.1", port=5432, dbname="postgres", user="postgres", connect_timeout=3)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> PostgresResource:
    """The machine's PostgreSQL on 127.0.0.1:5432. In CI its absence is a failure; on a
    developer's machine without one, a throwaway server is started instead, and said so.
    """
    if server_reachable(SERVER):
        return SERVER
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is not reachable at {SERVER.where}; .ci/run should have started it")
    settings = start_local_postgres(tmp_path_factory.mktemp("postgres") / "pgdata", keep=False)
    print(f"no PostgreSQL at {SERVER.where}: using a throwaway server at {settings['POSTGRES_HOST']}")
    return PostgresResource(host=settings["POSTGRES_HOST"], port=int(settings["POSTGRES_PORT"]))


@pytest.fixture
def postgres(postgres_server: PostgresResource, request: pytest.FixtureRequest) -> Iterator[PostgresResource]:
    """A schema of this test's own, dropped afterwards, so runs never collide."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield PostgresResource(**{**dict(postgres_server), "schema_name": schema})
    with postgres_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")


@pytest.fixture
def dagster_database(postgres_server: PostgresResource) -> Iterator[str]:
    """A fresh database for a Dagster instance on PostgreSQL, dropped afterwards."""
    name = f"dagster_{uuid.uuid4().hex[:10]}"
    # CREATE/DROP DATABASE cannot run inside a transaction block.
    with postgres_server.connect(autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {quote_ident(name)}")
    yield name
    with postgres_server.connect(autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")


@dataclass
class Sinks:
    """Where one test's pipeline writes: its own lake folder, DuckDB file and Postgres schema."""

    lake_dir: Path
    duckdb_path: Path
    postgres: PostgresResource
    resources: dict[str, Any]


def resources_for(
    source: TaxiSource, lake: Lake, warehouse: Any, postgres: PostgresResource
) -> dict[str, Any]:
    """Every resource and IO manager a run needs, as the code location builds them."""
    return {
        "taxi_source": source,
        "schema_contract": SchemaContract(),
        "lake": lake,
        "warehouse": warehouse,
        "postgres": postgres,
        **io_managers(lake, warehouse, postgres),
    }


@pytest.fixture
def sinks(tmp_path: Path, source_server: SourceServer, postgres: PostgresResource) -> Sinks:
    lake_dir, duckdb_path = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    return Sinks(
        lake_dir=lake_dir,
        duckdb_path=duckdb_path,
        postgres=postgres,
        resources=resources_for(
            source_server.source(),
            Lake(base_uri=str(lake_dir)),
            DuckDBWarehouse(database=str(duckdb_path), schema_name="ny_taxi"),
            postgres,
        ),
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


@pytest.fixture
def gcs() -> Iterator[GcsEmulator]:
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket="taxi-lake")
    server.start()
    yield GcsEmulator(endpoint=f"http://127.0.0.1:{port}", bucket="taxi-lake")
    server.stop()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No project setting leaks in from the developer's shell (the emulator endpoints stay)."""
    for name in list(os.environ):
        if name.startswith(("TAXI_", "DUCKDB_", "DAGSTER_", "GCP_", "GOOGLE_", "BIGQUERY_DATASET", "GCS_")):
            monkeypatch.delenv(name)


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


@pytest.fixture
def january_done(source_server: SourceServer, sinks: Sinks) -> dict[str, object]:
    """A user's sinks with yellow 2021-01 fully materialised, as a snapshot of every sink."""
    source_server.publish("yellow", "2021-01")
    assert materialize_month(sinks.resources, "yellow", "2021-01").success
    assert materialize_days(sinks.resources, "yellow", "2021-01-01", "2021-01-31").success
    return snapshot(sinks)
