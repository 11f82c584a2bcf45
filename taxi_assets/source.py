"""The published monthly trip files: download (streamed, retried, checksummed); trip_files.py reads them."""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import requests
import urllib3
from pydantic import Field
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from taxi_assets import temp_folders
from taxi_assets.errors import TaxiError
from taxi_assets.publishers import configured_publisher
from taxi_assets.redact import redact_http_logs, redacted, shown_url, url_secrets
from taxi_assets.resources.settings import setting

_CHUNK = 1 << 20
# A month's file is 20-130 MB: minutes on a slow link; half an hour means the server is stuck.
DEFAULT_DEADLINE_SECONDS = 1800
_RETRY_STATUSES = (500, 502, 503, 504)
_REFUSED_STATUSES = (401, 403)


class SourceError(TaxiError):
    """A source file could not be fetched or does not match the published schema."""


class MonthNotPublished(SourceError):
    """The source has no file for this month (yet)."""


class DeadlinePassed(SourceError):
    """A download took longer than its total deadline (``TAXI_SOURCE_DEADLINE_SECONDS``)."""


@dataclass(frozen=True)
class SourceFile:
    """A downloaded trip file on local disk, with what we know of where it came from."""

    url: str  # whole, a mirror's password or signature included: shown only as shown_url
    path: Path
    size_bytes: int
    sha256: str
    service: str | None = None
    month: str | None = None

    @property
    def shown_url(self) -> str:
        """The URL as logs, errors and metadata show it: no password or query string."""
        return shown_url(self.url)

    @property
    def where(self) -> str:
        """How errors name the file: its URL, and the service and month it holds."""
        of = " ".join(part for part in (self.service, self.month) if part)
        return f"{self.shown_url} ({of})" if of else self.shown_url

    @property
    def format(self) -> str:
        """``parquet``, ``csv.gz`` or ``csv``: the format follows the file's name."""
        return file_format(self.url)


# The formats the reader knows, by the end of the file's name.
FORMATS = ("parquet", "csv.gz", "csv")


def file_format(url: str) -> str:
    """The format of the file at ``url``, from its name; an unknown ending is a SourceError."""
    name = urllib.parse.urlparse(url).path.lower()
    for fmt in FORMATS:
        if name.endswith("." + fmt):
            return fmt
    raise SourceError(
        f"{shown_url(url)}: the file name ends in none of {', '.join('.' + f for f in FORMATS)}; "
        "set TAXI_SOURCE_URL_TEMPLATE to a URL of one of these formats"
    )


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
            # from None: the HTTP library's exception this may interrupt names the full URL.
            raise DeadlinePassed(
                f"TAXI_SOURCE_DEADLINE_SECONDS: downloading {self.url} took longer than "
                f"{self.seconds:g} s (got {self.received:,} bytes); raise the deadline or try later"
            ) from None

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


def _session(retries: int, backoff_seconds: float, token: str | None) -> requests.Session:
    # urllib3 retries connection errors and 5xx with exponential backoff before we see them.
    retry = Retry(
        total=retries,
        backoff_factor=backoff_seconds,
        status_forcelist=_RETRY_STATUSES,
        allowed_methods=("GET", "HEAD"),
        raise_on_status=False,
    )
    redact_http_logs()
    session = requests.Session()
    if token:
        # requests drops it on a redirect to another host (a mirror's CDN gets no token).
        session.headers["Authorization"] = f"Bearer {token}"
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
    token: str | None = None,
) -> Iterator[SourceFile]:
    """Stream ``url`` (http, https or file) to a temporary file that is removed afterwards.

    The body never sits in memory whole. A 404 is :class:`MonthNotPublished`; connection errors,
    truncated bodies and 5xx answers are retried with backoff, then raised as :class:`SourceError`.
    ``timeout`` bounds each read; ``deadline_seconds`` bounds the whole download, retries
    included (:class:`DeadlinePassed`), so a server trickling bytes cannot hold a run for ever.
    ``token``, if given, is sent as ``Authorization: Bearer``. Errors show the URL without its
    password and query string, and never the token.
    """
    shown, scheme = shown_url(url), urllib.parse.urlparse(url).scheme
    if scheme == "file":
        path = _file_path(url)
        if not path.is_file():
            raise MonthNotPublished(f"month not published: no file at {shown}")
        with path.open("rb") as f:
            size, sha = _copy_hashing(f, None, None, shown)
        yield SourceFile(url, path, size, sha)
        return
    if scheme not in ("http", "https"):
        raise SourceError(f"unsupported source URL scheme {scheme!r} in {shown} (use http, https or file)")

    deadline = _Deadline(deadline_seconds, shown)
    temp_folders.remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=temp_folders.folder_prefix()) as tmp:
        path = Path(tmp) / Path(urllib.parse.urlparse(url).path).name
        session = _session(retries, backoff_seconds, token)
        # urllib3 retries what fails before the body; a body cut short is retried here.
        for attempt in range(retries + 1):
            try:
                deadline.check()
                with session.get(url, stream=True, timeout=deadline.timeout(timeout)) as response:
                    _raise_for_status(response, shown, retries)
                    length = response.headers.get("Content-Length")
                    expected = int(length) if length and "Content-Encoding" not in response.headers else None
                    response.raw.decode_content = False
                    with path.open("wb") as out:
                        size, sha = _copy_hashing(response.raw, out, expected, shown, deadline)
                break
            # from None below: the library's exception, which Dagster would show and store as the
            # cause, names the full URL.
            except (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError) as exc:
                deadline.check()  # a read cut short by the deadline is the deadline's error
                if attempt == retries:
                    reason = _shown_error(exc, url, token)
                    raise SourceError(
                        f"could not download {shown} after {retries + 1} attempts: {reason}"
                    ) from None
                pause = backoff_seconds * 2**attempt
                left = deadline.remaining()
                time.sleep(pause if left is None else max(0.0, min(pause, left)))
            except requests.RequestException as exc:  # not worth retrying: too many redirects, say
                raise SourceError(f"{shown}: {_shown_error(exc, url, token)}") from None
        yield SourceFile(url, path, size, sha)


def _raise_for_status(response: requests.Response, shown: str, retries: int, method: str = "") -> None:
    """A :class:`SourceError` for an answer that is not the file, naming the URL as shown."""
    status, to = response.status_code, f" to {method}" if method else ""
    if status == 404:
        raise MonthNotPublished(f"month not published: {shown} answered 404 Not Found{to}")
    if status >= 400:
        raise SourceError(
            f"{shown} answered {status} {response.reason}{to}"
            + (f" after {retries} retries" if status >= 500 else "")
            + (
                "; check TAXI_SOURCE_TOKEN or the user and password in TAXI_SOURCE_URL_TEMPLATE"
                if status in _REFUSED_STATUSES
                else ""
            )
        )


def _shown_error(exc: Exception, url: str, token: str | None) -> str:
    """The HTTP library's message, without the URL's password and query string or the token."""
    return redacted(str(exc), [*url_secrets(url), *([token] if token else [])])


class TaxiSource(dg.ConfigurableResource):
    """Where the monthly trip files are published, and how patiently to fetch them."""

    url_template: str = setting(
        "TAXI_SOURCE_URL_TEMPLATE",
        configured_publisher().url_template,
        "URL of one month's file, with {service} and {month} (YYYY-MM) placeholders; http(s):// or "
        "file://; .parquet, .csv.gz or .csv. Unset, the URL of the publisher TAXI_PUBLISHER names.",
    )
    timeout_seconds: float = Field(default=60, description="Per-request connect/read timeout.")
    retries: int = Field(default=4, description="Retries on connection errors and 5xx answers.")
    backoff_seconds: float = Field(default=1.0, description="First retry delay; doubles each time.")
    zones_url: str = setting(
        "TAXI_ZONES_URL",
        "https://d37ci6vzurychx.cloudfront.net/misc/taxi_zone_lookup.csv",
        "URL of the TLC's taxi zone lookup (CSV); http(s):// or file://.",
    )
    zone_shapes_url: str = setting(
        "TAXI_ZONE_SHAPES_URL",
        "https://d37ci6vzurychx.cloudfront.net/misc/taxi_zones.zip",
        "URL of the TLC's taxi zone shapes (a zipped shapefile); http(s):// or file://. Yellow 2009-2010 "
        "trips are placed in these zones.",
    )
    deadline_seconds: int = setting(
        "TAXI_SOURCE_DEADLINE_SECONDS",
        DEFAULT_DEADLINE_SECONDS,
        "Total seconds a download may take, every attempt and retry included; 0 for none.",
        whole_number=True,
    )
    token: str | None = setting(
        "TAXI_SOURCE_TOKEN",
        None,
        "A token for a private mirror, sent as 'Authorization: Bearer <token>'; never shown or logged.",
    )

    def url(self, service: str, month: str) -> str:
        # Checked here, not by a validator: at definition time the field holds the EnvVar's name.
        template = shown_url(self.url_template)
        missing = [p for p in ("{service}", "{month}") if p not in self.url_template]
        if missing:
            raise SourceError(f"TAXI_SOURCE_URL_TEMPLATE {template!r} lacks {' and '.join(missing)}")
        if self.token and "@" in urllib.parse.urlsplit(self.url_template).netloc:
            # requests would send the URL's user and password instead of the token.
            raise SourceError(
                f"TAXI_SOURCE_URL_TEMPLATE {template!r} holds a user name and TAXI_SOURCE_TOKEN is set: "
                "use one of them to log in to the mirror"
            )
        url = self.url_template.format(service=service, month=month)
        file_format(url)  # an unknown format fails before anything is downloaded
        return url

    def published(self, service: str, month: str) -> bool:
        """Whether the month's file is there, asked without downloading it (a HEAD request)."""
        url = self.url(service, month)
        if urllib.parse.urlparse(url).scheme == "file":
            return _file_path(url).is_file()
        session = _session(self.retries, self.backoff_seconds, self.token)
        try:
            response = session.head(url, allow_redirects=True, timeout=self.timeout_seconds)
        except requests.RequestException as exc:
            raise SourceError(f"{shown_url(url)}: {_shown_error(exc, url, self.token)}") from None
        if response.status_code == 404:
            return False
        _raise_for_status(response, shown_url(url), self.retries, "HEAD")
        return True

    def fetch_zones(self) -> AbstractContextManager[SourceFile]:
        """The taxi zone lookup, downloaded as a month's file is."""
        return self._fetch_setting("TAXI_ZONES_URL", self.zones_url)

    def fetch_zone_shapes(self) -> AbstractContextManager[SourceFile]:
        """The taxi zone shapes, downloaded as a month's file is."""
        return self._fetch_setting("TAXI_ZONE_SHAPES_URL", self.zone_shapes_url)

    @contextmanager
    def _fetch_setting(self, setting_name: str, url: str) -> Iterator[SourceFile]:
        try:
            with self._download(url) as source:
                yield source
        except MonthNotPublished as exc:
            raise SourceError(f"{setting_name} {shown_url(url)!r}: no file there ({exc})") from None

    @contextmanager
    def fetch(self, service: str, month: str) -> Iterator[SourceFile]:
        with self._download(self.url(service, month)) as source:
            yield dataclasses.replace(source, service=service, month=month)

    def _download(self, url: str) -> AbstractContextManager[SourceFile]:
        """``url`` downloaded with this source's patience and credentials."""
        return download(
            url,
            timeout=self.timeout_seconds,
            retries=self.retries,
            backoff_seconds=self.backoff_seconds,
            deadline_seconds=self.deadline_seconds or None,
            token=self.token,
        )
