"""The course's "test_config" pipeline: can each configured sink be reached and written to?

``taxi-check`` on the command line, or the ``check_connections`` job in the UI
(``defs/connections.py``), tries the lake,
the warehouse and PostgreSQL with the settings a run would use, and says per sink OK or which
setting to fix. It leaves nothing a run would not: the lake's probe file is deleted, the
PostgreSQL schema is created in a transaction that is rolled back.
"""

import argparse
import contextlib
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg
import pyarrow as pa

from taxi_assets.resources.settings import SettingError
from taxi_assets.resources.sql import quote_ident

if TYPE_CHECKING:  # the resources read their settings when imported: check_environment reports a bad one
    from taxi_assets.resources.lake import Lake
    from taxi_assets.resources.postgres import PostgresResource
    from taxi_assets.resources.warehouse import Warehouse

PROBE_DIR = "_connection_check"


@dataclass(frozen=True)
class ConnectionCheck:
    """One sink's answer: where it is and whether it works, or what to fix."""

    sink: str
    where: str
    ok: bool
    detail: str


def check_lake(lake: "Lake") -> tuple[str, str]:
    location = lake.open()
    probe = location.path(PROBE_DIR, f"{uuid.uuid4().hex}.parquet")
    written = location.write(probe, pa.table({"ok": [1]}))
    location.fs.delete_file(probe)
    with contextlib.suppress(OSError):  # GCS has no folders to remove, and says so
        location.fs.delete_dir(location.path(PROBE_DIR))
    return location.base_uri, f"wrote and deleted a {written}-byte probe file"


def check_warehouse(warehouse: "Warehouse") -> tuple[str, str]:
    return warehouse.check()


def check_postgres(pg: "PostgresResource") -> tuple[str, str]:
    try:
        with pg.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT current_setting('server_version')")
            [(version,)] = cur.fetchall()
            # Proves the schema can be made, then undoes it: the check leaves nothing behind.
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(pg.schema_name)}")
            conn.rollback()
    except Exception as exc:
        message = pg.redact(str(exc))
        if "permission denied" in message:
            raise RuntimeError(f"POSTGRES_SCHEMA {pg.schema_name!r}: {message}") from None
        raise RuntimeError(message) from None  # a failed connection names its setting already
    return f"postgres {pg.where} schema {pg.schema_name}", f"PostgreSQL {version}"


def check_environment() -> list[ConnectionCheck]:
    """Every sink with the resources this environment builds, as a run would get them."""
    try:
        from taxi_assets.defs.resources import environment_resources

        resources = environment_resources()
        sinks = {name: resources[name] for name in ("lake", "warehouse", "postgres")}
        with dg.build_resources(sinks) as built:
            return check_all(built.lake, built.warehouse, built.postgres)
    except SettingError as exc:
        return [ConnectionCheck("settings", "", False, str(exc))]


def check_all(lake: "Lake", warehouse: "Warehouse", postgres: "PostgresResource") -> list[ConnectionCheck]:
    """Each sink's answer, in turn; one failing does not stop the others."""
    checks: list[tuple[str, Callable[[], tuple[str, str]]]] = [
        ("lake", lambda: check_lake(lake)),
        ("warehouse", lambda: check_warehouse(warehouse)),
        ("postgres", lambda: check_postgres(postgres)),
    ]
    outcomes = []
    for sink, check in checks:
        try:
            where, detail = check()
            outcomes.append(ConnectionCheck(sink, where, True, detail))
        except Exception as exc:
            outcomes.append(ConnectionCheck(sink, "", False, str(exc).strip().splitlines()[0]))
    return outcomes


def report(outcomes: list[ConnectionCheck]) -> str:
    return "\n".join(
        f"{c.sink:<10} {'OK' if c.ok else 'FAILED':<7} {c.where + ': ' if c.where else ''}{c.detail}"
        for c in outcomes
    )


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="taxi-check",
        description="Check that the lake, the warehouse and PostgreSQL work with the current environment.",
    ).parse_args(argv)
    outcomes = check_environment()
    print(report(outcomes))
    return 0 if all(c.ok for c in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
