"""A publisher-like HTTP server on loopback serving synthetic TLC files, which can fail on purpose."""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from taxi_assets.publishers import MIRROR, PUBLISHERS, TLC
from taxi_assets.source import TaxiSource
from taxi_assets.zone_shapes import SHAPES_FILE
from taxi_assets.zones import ZONES_FILE
from taxi_dev.synthetic import source_file_name, write_month, write_zone_lookup
from taxi_dev.synthetic_zones import ZONES, SyntheticZone, write_zone_shapes

MONTH_ROWS = 4_000

# How long a trickling answer lasts at most, so that no test's server thread outlives it by much.
TRICKLE_SECONDS = 120


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
            url_template=self.url_template,
            zones_url=f"{self.base_url}/{ZONES_FILE}",
            zone_shapes_url=f"{self.base_url}/{SHAPES_FILE}",
            backoff_seconds=0.01,
        )

    def publish_zones(self, zones: int = 263) -> Path:
        """Publish a taxi zone lookup: ``zones`` zones, then the unknown ones (264, 265)."""
        return write_zone_lookup(self.root / ZONES_FILE, zones)

    def publish_zone_shapes(self, zones: tuple[SyntheticZone, ...] = ZONES) -> Path:
        """Publish synthetic taxi zone shapes (a zipped shapefile in State Plane feet)."""
        return write_zone_shapes(self.root / SHAPES_FILE, zones)

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
