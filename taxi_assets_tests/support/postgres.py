"""The machine's PostgreSQL (or a throwaway one), a schema or a database of each test's own."""

import os
import uuid
from collections.abc import Iterator

import pyarrow as pa
import pytest

from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.sql import quote_ident
from taxi_dev.local_postgres import server_reachable, start_local_postgres

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


def table_rows(postgres: PostgresResource, name: str) -> pa.Table:
    """Every row of table ``name`` in ``postgres``'s schema, as someone querying it would see them."""
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {postgres.table(name)}")
        return cur.fetch_arrow_table()
