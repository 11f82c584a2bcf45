"""The lake on Google Cloud Storage: a pyarrow filesystem from the project's GCS settings."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse

import pyarrow.fs as pafs

from taxi_assets.resources.google import key_file, load_key_file
from taxi_assets.resources.lake_files import LakeError, LakeLocation

# GCS bucket names: 3-63 characters of lowercase letters, digits, - _ and ., starting and ending
# with a letter or digit.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_GCS_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"


def _access_token(key_path: str, setting: str) -> dict[str, object]:
    """A short-lived token from a key file; pyarrow's GCS client takes tokens, not key files."""
    import google.auth.exceptions
    import google.auth.transport.requests

    credentials = load_key_file(key_path, setting, [_GCS_SCOPE], LakeError)
    try:
        credentials.refresh(google.auth.transport.requests.Request())
    except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
        raise LakeError(f"{setting}: {key_path!r} is not a usable Google credentials file: {exc}") from exc
    expiry = credentials.expiry.replace(tzinfo=dt.UTC) if credentials.expiry else None
    return {"access_token": credentials.token, "credential_token_expiration": expiry}


def open_gcs(uri: str, *, key_path: str | None, endpoint: str | None, project: str | None) -> LakeLocation:
    """``gs://bucket/prefix`` opened, or an error naming TAXI_LAKE_URI and what is wrong."""
    root = uri.removeprefix("gs://")
    bucket = root.split("/", 1)[0]
    if not _BUCKET_NAME.match(bucket):
        raise LakeError(
            f"TAXI_LAKE_URI {uri!r}: {bucket!r} is not a valid GCS bucket name "
            "(3-63 lowercase letters, digits, '-', '_' or '.')"
        )
    options: dict[str, object] = {"project_id": project}
    if endpoint:
        parsed = urllib.parse.urlparse(endpoint)
        options |= {"scheme": parsed.scheme or "https", "endpoint_override": parsed.netloc}
    key = key_file(key_path)
    if key:
        options |= _access_token(*key)
    elif endpoint:
        options["anonymous"] = True
    fs = pafs.GcsFileSystem(**options)
    try:
        found = fs.get_file_info(bucket).type != pafs.FileType.NotFound
    except OSError as exc:
        raise LakeError(f"TAXI_LAKE_URI {uri!r}: cannot reach bucket {bucket!r}: {exc}") from exc
    if not found:
        raise LakeError(
            f"TAXI_LAKE_URI {uri!r}: bucket {bucket!r} does not exist "
            "(or these credentials cannot see it); create it first (see terraform/)"
        )
    return LakeLocation(fs, root, uri)
