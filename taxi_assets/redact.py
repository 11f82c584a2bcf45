"""What of a source URL may be shown: in logs, errors, asset metadata and the UI.

A private mirror's URL may carry a password (``https://user:PASSWORD@host/…``) or a signed query
string (``…?X-Goog-Signature=…``, ``…?sig=…``). The download uses the whole URL; everything a
person or Dagster's storage sees gets it without user, password, query string and fragment.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Iterable

HIDDEN = "***"

# userinfo after a scheme (``//user:pass@``), and a query string up to the end of the URL
# (whitespace, a quote or a bracket), wherever a URL or a request path appears in a message.
_USERINFO = re.compile(r"(?<=//)[^/@\s'\"<>]*@")
_QUERY = re.compile(r"(?<=[^\s'\"<>(])\?[^\s'\"<>)]+")


def shown_url(url: str) -> str:
    """``url`` as it may be shown: no user, password, query string or fragment."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def url_secrets(url: str) -> list[str]:
    """The parts of ``url`` that must not be shown, as they may appear in a message."""
    parts = urllib.parse.urlsplit(url)
    found = [parts.password or "", parts.query]
    found += [urllib.parse.unquote(s) for s in found]
    return [s for s in found if s]


def redacted(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` (an HTTP library's message, say) with every URL shown as :func:`shown_url` shows it
    and each of ``secrets`` replaced, wherever they appear.
    """
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return _QUERY.sub("", _USERINFO.sub("", text))


class RedactingFilter(logging.Filter):
    """Rewrites a log record so that no URL in it shows a user, password or query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redacted(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_REDACTING_FILTER = RedactingFilter()
# The loggers urllib3 logs requests with (``"GET /file.csv.gz?sig=… HTTP/1.1" 200``) and retries
# (``Incremented Retry for (url='/file.csv.gz?sig=…')``): shown wherever a user's logging or
# Dagster's ``python_logs`` setting collects them. A logger's filter applies only to its own
# records, not its children's: hence each by name.
_HTTP_LOGGERS = (
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
)


def redact_http_logs() -> None:
    """Makes the HTTP library's log records show URLs as :func:`shown_url` does; idempotent."""
    for name in _HTTP_LOGGERS:
        logging.getLogger(name).addFilter(_REDACTING_FILTER)
