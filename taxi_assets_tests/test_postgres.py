"""The Postgres sink on the machine's real server: typed tables, months replaced atomically."""

import datetime as dt
import uuid
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa
import pytest

from taxi_assets.constants import postgres_table
from taxi_assets.io_managers import POSTGRES_IO_MANAGER
from taxi_assets.io_managers.postgres import PostgresIOManager
from taxi_assets.keys import CLEANED, POSTGRES, asset_key
from taxi_assets.resources.column_types import postgres_type
from taxi_assets.resources.postgres import PostgresError, PostgresResource
from taxi_assets.resources.sql import quote_ident, quote_literal
from taxi_assets.schema import SCHEMAS
from taxi_assets_tests.support.cli import dagster_postgres_env
from taxi_assets_tests.support.materialize import failure_message, location_definitions, materialize_month
from taxi_assets_tests.support.sinks import Sinks, postgres_months, read_lake_month
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.month_tables import whole

EXPECTED_TYPES = {
    "vendor_id": "bigint",
    "passenger_count": "bigint",
    "trip_distance": "double precision",
    "ratecode_id": "bigint",
    "store_and_fwd_flag": "text",
    "pu_location_id": "bigint",
    "total_amount": "double precision",
    "pickup_date": "date",
}

JANUARY = (dt.date(2021, 1, 1), dt.date(2021, 2, 1))
# Two trips of January, on its first and last day.
JANUARY_TRIPS = pa.table({"trip": [1, 2], "pickup_date": [dt.date(2021, 1, 1), dt.date(2021, 1, 31)]})


def replace_january(pg: PostgresResource, rows: pa.Table) -> None:
    """What the PostgreSQL IO manager does for a month: evolve the table, swap the month in."""
    pg.evolve_table("trips", rows.schema, "pickup_date", {})
    pg.replace_month("trips", "pickup_date", rows, *JANUARY)


def column_types(postgres: PostgresResource, table: str) -> dict[str, str]:
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = '{postgres.schema_name}' AND table_name = '{table}'"
        )
        return dict(cur.fetchall())


@pytest.mark.parametrize("service", ["yellow", "green"])
def test_a_month_lands_with_the_cleaned_rows_and_typed_columns(
    source_server: SourceServer, sinks: Sinks, service: str
) -> None:
    source_server.publish(service, "2021-01")
    assert materialize_month(sinks.resources, service, "2021-01").success
    cleaned = read_lake_month(sinks.lake_dir, CLEANED, service, "2021-01")
    assert postgres_months(sinks.postgres, service)["2021-01"][0] == len(cleaned)

    types = column_types(sinks.postgres, f"{service}_cab_data")
    assert list(types) == SCHEMAS[service].cleaned_arrow_schema.names
    assert {k: types[k] for k in EXPECTED_TYPES} == EXPECTED_TYPES
    pickup = SCHEMAS[service].pickup_snake
    assert types[pickup] == "timestamp without time zone"
    with sinks.postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT col_description('{sinks.postgres.schema_name}.{service}_cab_data'::regclass, 1)")
        assert "Creative Mobile" in cur.fetchone()[0]
    assert partitions(sinks.postgres, f"{service}_cab_data") == {
        f"{service}_cab_data_2021_01": "FOR VALUES FROM ('2021-01-01') TO ('2021-02-01')"
    }


def partitions(postgres: PostgresResource, table: str) -> dict[str, str]:
    """The table's partitions and their bounds, as ``\\d+`` lists them."""
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            f"WHERE i.inhparent = to_regclass({quote_literal(postgres.table(table))})"
        )
        return dict(cur.fetchall())


def tables(postgres: PostgresResource) -> list[str]:
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{postgres.schema_name}'"
        )
        return sorted(name for (name,) in cur.fetchall())


def test_rematerialising_a_month_keeps_the_counts_and_other_months(
    source_server: SourceServer, sinks: Sinks
) -> None:
    for month in ("2021-01", "2021-02"):
        source_server.publish("yellow", month)
    materialize_month(sinks.resources, "yellow", "2021-01")
    january = postgres_months(sinks.postgres, "yellow")

    materialize_month(sinks.resources, "yellow", "2021-01")
    assert postgres_months(sinks.postgres, "yellow") == january

    materialize_month(sinks.resources, "yellow", "2021-02")
    after = postgres_months(sinks.postgres, "yellow")
    assert after["2021-01"] == january["2021-01"]
    assert after["2021-02"][0] == len(read_lake_month(sinks.lake_dir, CLEANED, "yellow", "2021-02"))


def test_a_load_failing_halfway_leaves_the_previous_rows(source_server: SourceServer, sinks: Sinks) -> None:
    source_server.publish("yellow", "2021-01")
    materialize_month(sinks.resources, "yellow", "2021-01")
    before = postgres_months(sinks.postgres, "yellow")
    # Someone narrowed a column: the COPY of the re-published month fails on its first large value,
    # some of it loaded already by the other connections.
    with sinks.postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"ALTER TABLE {sinks.postgres.table('yellow_cab_data')} "
            "ADD CONSTRAINT tiny_fares CHECK (fare_amount < 40) NOT VALID"
        )
    source_server.publish("yellow", "2021-01", seed=3)
    result = dg.materialize(
        location_definitions(),
        selection=dg.AssetSelection.assets(asset_key("yellow", POSTGRES)),
        resources=sinks.resources,
        partition_key="2021-01",
        raise_on_error=False,
    )
    assert not result.success
    message = failure_message(result)
    assert "yellow_cab_data" in message and "previous rows are kept" in message
    assert postgres_months(sinks.postgres, "yellow") == before
    assert tables(sinks.postgres) == ["yellow_cab_data", "yellow_cab_data_2021_01"]  # nothing half-loaded


def test_a_month_split_between_copy_connections_lands_whole_and_once(
    postgres: PostgresResource,
) -> None:
    """A month large enough to be split between COPY connections lands whole, once, on a re-run."""
    pg = postgres
    rows = 450_000  # more than one connection's share
    first = (dt.date(2021, 1, 1) - dt.date(1970, 1, 1)).days
    days = pa.array(first + np.arange(rows, dtype=np.int32) % 31).cast(pa.date32())
    month = pa.table({"trip": pa.array(np.arange(rows)), "pickup_date": days})

    for _ in range(2):
        replace_january(pg, month)
    with pg.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT trip), min(pickup_date), max(pickup_date) "
            f"FROM {pg.table('trips')}"
        )
        assert cur.fetchone() == (rows, rows, dt.date(2021, 1, 1), dt.date(2021, 1, 31))
    assert tables(pg) == ["trips", "trips_2021_01"]


def test_rows_outside_the_month_fail_the_load_and_change_nothing(postgres: PostgresResource) -> None:
    pg = postgres
    replace_january(pg, JANUARY_TRIPS)
    stray = pa.table({"trip": [3, 4], "pickup_date": [dt.date(2021, 1, 2), dt.date(2021, 2, 1)]})

    with pytest.raises(PostgresError, match=r"trips .*previous rows are kept.*check constraint"):
        replace_january(pg, stray)
    with pg.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT trip FROM {pg.table('trips')} ORDER BY trip")
        assert cur.fetchall() == [(1,), (2,)]
    assert tables(pg) == ["trips", "trips_2021_01"]


def test_a_load_killed_midway_leaves_nothing_in_the_way_of_the_next(postgres: PostgresResource) -> None:
    """A process killed mid-COPY leaves its loading table behind (nothing else: the month is swapped
    in only at the end); the next load of that month drops it and lands.
    """
    pg = postgres
    replace_january(pg, JANUARY_TRIPS)
    with pg.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {pg.table('trips_2021_01_loading')} AS SELECT 99 AS half_loaded")

    replace_january(pg, JANUARY_TRIPS.slice(1))
    with pg.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT trip FROM {pg.table('trips')}")
        assert cur.fetchall() == [(2,)]
    assert tables(pg) == ["trips", "trips_2021_01"]


def test_a_table_from_before_partitioning_is_still_replaced_by_month(
    source_server: SourceServer, sinks: Sinks
) -> None:
    """A plain yellow_cab_data (as earlier versions made it) keeps working: a month is deleted and
    copied in one transaction, other months stay.
    """
    source_server.publish("yellow", "2021-01")
    pg = sinks.postgres
    with pg.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {quote_ident(pg.schema_name)}")
        columns = ", ".join(
            f"{quote_ident(f.name)} {postgres_type(f.type)}" for f in SCHEMAS["yellow"].cleaned_arrow_schema
        )
        cur.execute(f"CREATE TABLE {pg.table('yellow_cab_data')} ({columns})")
        cur.execute(
            f"INSERT INTO {pg.table('yellow_cab_data')} (vendor_id, pickup_date) "
            "VALUES (1, DATE '2020-12-31'), (2, DATE '2021-01-05')"
        )
    for _ in range(2):
        assert materialize_month(sinks.resources, "yellow", "2021-01").success
    months = postgres_months(pg, "yellow")
    cleaned = read_lake_month(sinks.lake_dir, CLEANED, "yellow", "2021-01")
    assert months["2021-01"][0] == len(cleaned)
    assert months["2020-12"][0] == 1
    assert partitions(pg, "yellow_cab_data") == {}


def test_a_month_reads_back_from_the_table(source_server: SourceServer, sinks: Sinks) -> None:
    """What a downstream query reads: the month's days, every row the lake's cleaned month has."""
    source_server.publish("green", "2021-01")
    materialize_month(sinks.resources, "green", "2021-01")
    trips = whole(
        sinks.postgres.read_days(
            postgres_table("green"), "pickup_date", dt.date(2021, 1, 1), dt.date(2021, 2, 1)
        )
    )
    per_day = trips.to_pandas().groupby("pickup_date").size()
    cleaned = read_lake_month(sinks.lake_dir, CLEANED, "green", "2021-01")
    assert int(per_day.sum()) == len(cleaned)
    assert len(per_day) == 31


@pytest.mark.parametrize(
    ("field", "value"),
    [("host", "127.0.0.9"), ("port", 5999), ("dbname", "no_such_db"), ("user", "no_such_user")],
)
def test_bad_connection_settings_name_the_server_but_never_the_password(
    postgres_server: PostgresResource, field: str, value: object
) -> None:
    settings = {**dict(postgres_server), "password": "hunter2-secret", "connect_timeout": 2, field: value}
    bad = PostgresResource(**settings)
    with pytest.raises(Exception) as failure, bad.connect():
        pass
    message = str(failure.value)
    assert f"host={bad.host} port={bad.port} dbname={bad.dbname} user={bad.user}" in message
    assert "hunter2" not in message


@pytest.mark.parametrize("schema_name", ["ny-taxi", 'x"; DROP SCHEMA public CASCADE; --'])
def test_odd_schema_names_are_quoted_not_executed(
    postgres_server: PostgresResource, source_server: SourceServer, sinks: Sinks, schema_name: str
) -> None:
    odd = PostgresResource(
        **{**dict(postgres_server), "schema_name": f"{schema_name} {uuid.uuid4().hex[:6]}"}
    )
    source_server.publish("green", "2021-01")
    resources = {**sinks.resources, "postgres": odd, POSTGRES_IO_MANAGER: PostgresIOManager(postgres=odd)}
    try:
        assert materialize_month(resources, "green", "2021-01").success
        cleaned = read_lake_month(sinks.lake_dir, CLEANED, "green", "2021-01")
        assert postgres_months(odd, "green")["2021-01"][0] == len(cleaned)
        with postgres_server.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'public'")
            assert cur.fetchone()[0] == 1
    finally:
        with postgres_server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {quote_ident(odd.schema_name)} CASCADE")


def test_dagster_instance_on_postgres_records_the_runs(
    postgres_server: PostgresResource,
    dagster_database: str,
    source_server: SourceServer,
    sinks: Sinks,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The deployment's dagster.yaml, with DAGSTER_POSTGRES_* pointing at the real server, in a fresh
    database.
    """
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((Path(__file__).parents[1] / "deploy" / "dagster.yaml").read_text())
    for name, value in dagster_postgres_env(postgres_server, dagster_database).items():
        monkeypatch.setenv(name, value)
    source_server.publish("yellow", "2021-01")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = materialize_month(sinks.resources, "yellow", "2021-01", instance=instance)
        assert result.success
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [run] = instance.get_runs()
        assert run.run_id == result.run_id and run.is_success
        events = instance.fetch_materializations(asset_key("yellow", POSTGRES), limit=10).records
        assert [e.partition_key for e in events] == ["2021-01"]
        assert events[0].run_id == run.run_id
