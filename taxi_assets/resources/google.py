"""Google credentials from the environment, shared by the GCS lake and the BigQuery warehouse."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

KEY_FILE_SETTING = "GOOGLE_SERVICE_ACC_KEY_FILEPATH"
DEFAULT_KEY_FILE_SETTING = "GOOGLE_APPLICATION_CREDENTIALS"


def key_file(configured: str | None) -> tuple[str, str] | None:
    """The key file to use and the setting that named it: the course's own setting first, then
    Google's standard one; ``None`` when neither is set (default credentials, or anonymous on an
    emulator).
    """
    if configured:
        return configured, KEY_FILE_SETTING
    if os.environ.get(DEFAULT_KEY_FILE_SETTING):
        return os.environ[DEFAULT_KEY_FILE_SETTING], DEFAULT_KEY_FILE_SETTING
    return None


def load_key_file(path: str, setting: str, scopes: list[str], error: type[Exception]) -> Any:
    """Credentials from a key file, or ``error`` naming the setting and the path (never the key)."""
    import google.auth
    import google.auth.exceptions

    if not Path(path).is_file():
        raise error(f"{setting}: no key file at {path!r}")
    try:
        credentials, _ = google.auth.load_credentials_from_file(path, scopes=scopes)
    except PermissionError:
        # `gcloud iam service-accounts keys create` writes the key with mode 0600 for its maker; the
        # containers' user (uid 1000) is someone else unless the maker is uid 1000 too.
        made = Path(path).stat()
        raise error(
            f"{setting}: {path!r} cannot be read by this process's user (uid {os.getuid()}): it belongs "
            f"to uid {made.st_uid} with mode {stat.S_IMODE(made.st_mode):04o}; let uid {os.getuid()} "
            "read it (docs/google-cloud.md, step 2)"
        ) from None
    except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
        raise error(f"{setting}: {path!r} is not a usable Google credentials file: {exc}") from exc
    return credentials
