"""Dagster's own storage, chosen by the environment when the instance starts.

``dagster.yaml`` names this class so that one file serves both ways Dagster runs here:
- with ``DAGSTER_POSTGRES_HOST`` set (docker compose, a server): runs, event logs and schedules
  in PostgreSQL, from ``DAGSTER_POSTGRES_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_DB``;
- without it (plain ``dagster dev`` on a laptop): SQLite under ``$DAGSTER_HOME/storage``, or
  ``.dagster_home/storage`` in the working folder when ``DAGSTER_HOME`` is unset (Dagster reads
  the working folder's ``dagster.yaml`` then).
"""

import os
from pathlib import Path

from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._serdes import ConfigurableClass, ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_conn_string

REQUIRED = ("DAGSTER_POSTGRES_HOST", "DAGSTER_POSTGRES_USER", "DAGSTER_POSTGRES_DB")


class EnvironmentStorage(DagsterStorage, ConfigurableClass):
    """Never instantiated: builds PostgreSQL or SQLite storage, whichever the environment says.

    It subclasses DagsterStorage only because Dagster checks the configured class is one.
    """

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: dict) -> DagsterStorage:
        env = os.environ
        if env.get("DAGSTER_POSTGRES_HOST"):
            missing = [name for name in REQUIRED if not env.get(name)]
            if missing:
                raise ValueError(f"DAGSTER_POSTGRES_HOST is set, so these must be too: {', '.join(missing)}")
            host, port = env["DAGSTER_POSTGRES_HOST"], env.get("DAGSTER_POSTGRES_PORT", "5432")
            # A unix-socket folder (a throwaway server) goes in the query, not the netloc.
            socket = host.startswith("/")
            url = get_conn_string(
                username=env["DAGSTER_POSTGRES_USER"],
                password=env.get("DAGSTER_POSTGRES_PASSWORD", ""),
                hostname="" if socket else host,
                db_name=env["DAGSTER_POSTGRES_DB"],
                port=port,
                params={"host": host, "port": port} if socket else None,
                # dagster-postgres is written for psycopg2; SQLAlchemy would pick psycopg 3 if
                # both were installed, and its NOTIFY statements fail there.
                scheme="postgresql+psycopg2",
            )
            if socket:
                url = url.replace(f"@:{port}/", "@/")
            return DagsterPostgresStorage(url, inst_data=inst_data)
        home = Path(env.get("DAGSTER_HOME") or Path.cwd() / ".dagster_home")
        return DagsterSqliteStorage.from_local(str(home / "storage"), inst_data=inst_data)
