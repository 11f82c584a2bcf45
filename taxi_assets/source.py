"""The published monthly trip files: download (streamed, retried, checksummed) and strict parsing."""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import requests
import urllib3
from isal import igzip, isal_zlib
from pydantic import Field
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from taxi_assets import scratch
from taxi_assets.constants import DEFAULT_SOURCE_URL_TEMPLATE
from taxi_assets.errors import TaxiError
from taxi_assets.schema import Column, TripSchema

_CHUNK = 1 << 20
# A month's file is 20-130 MB: minutes on a slow link; half an hour means the server is stuck.
DEFAULT_DEADLINE_SECONDS = 1800
_RETRY_STATUSES = (500, 502, 503, 504)


class SourceError(TaxiError):
    """A source file could not be fetched or does not match the published schema."""


class MonthNotPublished(SourceError):
    """The source has no file for this month (yet)."""


class DeadlinePassed(SourceError):
    """A download took longer than its total deadline (``TAXI_SOURCE_DEADLINE_SECONDS``)."""


@dataclass(frozen=True)
class SourceFile:
    """A downloaded trip file on local disk, with what we know of where it came from."""

    url: str
    path: Path
    size_bytes: int
    sha256: str


def _file_path(url: str) -> Path:
    return Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))


class _Deadline:
    """The moment a whole download (every attempt, every retry's wait) must be over by."""

    def __init__(self, seconds: float | None, url: str) -> None:
        self.seconds, self.url = seconds, url
        self.at = time.monotonic() + seconds if seconds else None
        self.received = 0

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    def check(self) -> None:
        left = self.remaining()
        if left is not None and left <= 0:
            raise DeadlinePassed(
                f"TAXI_SOURCE_DEADLINE_SECONDS: downloading {self.url} took longer than "
                f"{self.seconds:g} s (got {self.received:,} bytes); raise the deadline or try later"
            )

    def timeout(self, per_read: float) -> float:
        """A read timeout that ends no later than the deadline."""
        left = self.remaining()
        return per_read if left is None else max(0.05, min(per_read, left))


def _copy_hashing(
    src, dst, expected: int | None, url: str, deadline: _Deadline | None = None
) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    # read1 returns what has arrived: a server trickling bytes cannot hold one read (and the
    # deadline check after it) for the time a whole chunk takes to come.
    read = src.read1 if deadline is not None and hasattr(src, "read1") else src.read
    while chunk := read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if dst is not None:
            dst.write(chunk)
        if deadline is not None:
            deadline.received += len(chunk)
            deadline.check()
    if expected is not None and size != expected:
        raise requests.ConnectionError(f"{url}: body ended after {size} of {expected} bytes")
    return size, digest.hexdigest()


def _session(retries: int, backoff_seconds: float) -> requests.Session:
    # urllib3 retries connection errors and 5xx with exponential backoff before we see them.
    retry = Retry(
        total=retries,
        backoff_factor=backoff_seconds,
        status_forcelist=_RETRY_STATUSES,
        allowed_methods=("GET", "HEAD"),
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


@contextmanager
def download(
    url: str,
    *,
    timeout: float = 60,
    retries: int = 4,
    backoff_seconds: float = 1.0,
    deadline_seconds: float | None = None,
) -> Iterator[SourceFile]:
    """Stream ``url`` (http, https or file) to a temporary file that is removed afterwards.

    The body never sits in memory whole. A 404 is :class:`MonthNotPublished`; connection errors,
    truncated bodies and 5xx answers are retried with backoff, then raised as :class:`SourceError`.
    ``timeout`` bounds each read; ``deadline_seconds`` bounds the whole download, retries
    included (:class:`DeadlinePassed`), so a server trickling bytes cannot hold a run for ever.
    """
    scheme = urllib.parse.urlparse(url).scheme
    if scheme == "file":
        path = _file_path(url)
        if not path.is_file():
            raise MonthNotPublished(f"month not published: no file at {url}")
        with path.open("rb") as f:
            size, sha = _copy_hashing(f, None, None, url)
        yield SourceFile(url, path, size, sha)
        return
    if scheme not in ("http", "https"):
        raise SourceError(f"unsupported source URL scheme {scheme!r} in {url} (use http, https or file)")

    deadline = _Deadline(deadline_seconds, url)
    scratch.remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=scratch.folder_prefix()) as tmp:
        path = Path(tmp) / Path(urllib.parse.urlparse(url).path).name
        session = _session(retries, backoff_seconds)
        # urllib3 retries what fails before the body; a body cut short is retried here.
        for attempt in range(retries + 1):
            try:
                deadline.check()
                with session.get(url, stream=True, timeout=deadline.timeout(timeout)) as response:
                    if response.status_code == 404:
                        raise MonthNotPublished(f"month not published: {url} answered 404 Not Found")
                    if response.status_code >= 400:
                        raise SourceError(
                            f"{url} answered {response.status_code} {response.reason}"
                            + (f" after {retries} retries" if response.status_code >= 500 else "")
                        )
                    length = response.headers.get("Content-Length")
                    expected = int(length) if length and "Content-Encoding" not in response.headers else None
                    response.raw.decode_content = False
                    with path.open("wb") as out:
                        size, sha = _copy_hashing(response.raw, out, expected, url, deadline)
                break
            except (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError) as exc:
                deadline.check()  # a read cut short by the deadline is the deadline's error
                if attempt == retries:
                    raise SourceError(
                        f"could not download {url} after {retries + 1} attempts: {exc}"
                    ) from exc
                pause = backoff_seconds * 2**attempt
                left = deadline.remaining()
                time.sleep(pause if left is None else max(0.0, min(pause, left)))
        yield SourceFile(url, path, size, sha)


_CSV_ERROR = re.compile(
    r"CSV column #(\d+): (?:Row #(\d+): )?CSV conversion error to (\w+): invalid value '(.*)'"
)


def read_header(source: SourceFile) -> list[str]:
    try:
        with igzip.open(source.path, "rt", newline="") as f:
            line = f.readline()
    except (OSError, EOFError, zlib.error, isal_zlib.error, UnicodeDecodeError) as exc:
        raise SourceError(f"{source.url}: not a readable gzip CSV file ({exc})") from exc
    return [name.strip().strip('"') for name in line.rstrip("\r\n").split(",")]


def check_header(header: list[str], schema: TripSchema, url: str) -> None:
    """Schema drift is an error that names every missing and unexpected column."""
    missing = [c for c in schema.names if c not in header]
    unexpected = [c for c in header if c not in schema.names]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append("missing column(s) " + ", ".join(repr(c) for c in missing))
        if unexpected:
            parts.append("unexpected column(s) " + ", ".join(repr(c) for c in unexpected))
        raise SourceError(f"{url}: header does not match the {schema.service} schema: {'; '.join(parts)}")


def read_trips(source: SourceFile, schema: TripSchema) -> pa.Table:
    """Parse a downloaded file into the schema's types, or fail naming the URL and the column."""
    header = read_header(source)
    check_header(header, schema, source.url)
    # Integers are read as float64 first: some published files write them as "1.0".
    column_types = {c.name: (pa.float64() if c.is_integer else c.type) for c in schema.columns}
    try:
        # ISA-L inflates about 3× faster than zlib; pyarrow's gzip stream is zlib.
        with igzip.open(source.path, "rb") as stream:
            table = pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=16 << 20),
                convert_options=pacsv.ConvertOptions(
                    column_types=column_types,
                    strings_can_be_null=True,
                    # Arrow's own ISO 8601 parser reads the TLC's "2021-01-01 00:30:10" several times
                    # faster than strptime; strptime stays as the fallback, so the same values parse.
                    timestamp_parsers=[pacsv.ISO8601, "%Y-%m-%d %H:%M:%S"],
                ),
            )
    except pa.ArrowInvalid as exc:
        raise _conversion_error(exc, header, source.url) from exc
    except (OSError, EOFError, zlib.error, isal_zlib.error) as exc:
        raise SourceError(f"{source.url}: corrupt gzip data ({exc})") from exc

    def typed(column: Column) -> pa.ChunkedArray:
        values = table.column(column.name)
        return _to_integer(values, column.name, source.url) if column.is_integer else values

    # Arrow's casts release the GIL: the integer columns convert side by side.
    with ThreadPoolExecutor() as pool:
        columns = list(pool.map(typed, schema.columns))
    return pa.Table.from_arrays(columns, schema=schema.raw_arrow_schema)


def _conversion_error(exc: pa.ArrowInvalid, header: list[str], url: str) -> SourceError:
    message = str(exc)
    match = _CSV_ERROR.search(message)
    if match:
        index, row, type_name, value = match.groups()
        column = header[int(index)] if int(index) < len(header) else f"#{index}"
        where = f" (data row {row})" if row else ""
        return SourceError(f"{url}: column {column!r}{where}: cannot read {value!r} as {type_name}")
    if "gzip" in message.lower() or "zlib" in message.lower() or "decompress" in message.lower():
        return SourceError(f"{url}: corrupt gzip data ({message})")
    return SourceError(f"{url}: {message}")


def _to_integer(values: pa.ChunkedArray, name: str, url: str) -> pa.ChunkedArray:
    try:
        return pc.cast(values, pa.int64(), safe=True)
    except pa.ArrowInvalid as exc:
        fractional = pc.filter(values, pc.not_equal(values, pc.floor(values)))
        example = fractional[0].as_py() if len(fractional) else "?"
        raise SourceError(f"{url}: column {name!r}: non-integer value {example!r}") from exc


class TaxiSource(dg.ConfigurableResource):
    """Where the monthly trip files are published, and how patiently to fetch them."""

    url_template: str = Field(
        default=DEFAULT_SOURCE_URL_TEMPLATE,
        description="URL of one month's file, with {service} and {month} (YYYY-MM) placeholders. "
        "http(s):// or file://. Env: TAXI_SOURCE_URL_TEMPLATE.",
    )
    timeout_seconds: float = Field(default=60, description="Per-request connect/read timeout.")
    retries: int = Field(default=4, description="Retries on connection errors and 5xx answers.")
    backoff_seconds: float = Field(default=1.0, description="First retry delay; doubles each time.")
    deadline_seconds: int = Field(
        default=DEFAULT_DEADLINE_SECONDS,
        description="Total seconds a download may take, every attempt and retry included; 0 for none. "
        "Env: TAXI_SOURCE_DEADLINE_SECONDS.",
    )

    def url(self, service: str, month: str) -> str:
        # Checked here, not by a validator: at definition time the field holds the EnvVar's name.
        missing = [p for p in ("{service}", "{month}") if p not in self.url_template]
        if missing:
            raise SourceError(f"TAXI_SOURCE_URL_TEMPLATE {self.url_template!r} lacks {' and '.join(missing)}")
        return self.url_template.format(service=service, month=month)

    def published(self, service: str, month: str) -> bool:
        """Whether the month's file is there, asked without downloading it (a HEAD request)."""
        url = self.url(service, month)
        if urllib.parse.urlparse(url).scheme == "file":
            return _file_path(url).is_file()
        session = _session(self.retries, self.backoff_seconds)
        response = session.head(url, allow_redirects=True, timeout=self.timeout_seconds)
        if response.status_code == 404:
            return False
        if response.status_code >= 400:
            raise SourceError(f"{url} answered {response.status_code} {response.reason} to HEAD")
        return True

    @contextmanager
    def fetch(self, service: str, month: str) -> Iterator[SourceFile]:
        with download(
            self.url(service, month),
            timeout=self.timeout_seconds,
            retries=self.retries,
            backoff_seconds=self.backoff_seconds,
            deadline_seconds=self.deadline_seconds or None,
        ) as source:
            yield source
