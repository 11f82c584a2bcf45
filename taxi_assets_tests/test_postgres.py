"""The Postgres sink on the machine's real server: typed tables, months replaced atomically."""

import uuid
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from taxi_assets.constants import CLEANED
from taxi_assets.resources import POSTGRES_IO_MANAGER
from taxi_assets.resources.postgres import PostgresPandasIOManager, PostgresResource, quote_ident
from taxi_assets.schema import SCHEMAS
from taxi_assets_tests.conftest import Sinks, SourceServer
from taxi_assets_tests.session import (
    DEFINITIONS,
    failure_message,
    keys,
    materialize_month,
    postgres_months,
    read_lake_month,
)

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
        cur.execute(
            f"SELECT col_description('{sinks.postgres.schema_name}.{service}_cab_data'::regclass, 1), "
            f"(SELECT count(*) FROM pg_indexes WHERE schemaname = '{sinks.postgres.schema_name}' "
            f"AND indexdef LIKE '%(pickup_date)%')"
        )
        description, indexes = cur.fetchone()
    assert "Creative Mobile" in description
    assert indexes == 1


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
    # after the month's DELETE ran in the same transaction.
    with sinks.postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"ALTER TABLE {sinks.postgres.table('yellow_cab_data')} "
            "ADD CONSTRAINT tiny_fares CHECK (fare_amount < 40) NOT VALID"
        )
    source_server.publish("yellow", "2021-01", seed=3)
    result = dg.materialize(
        DEFINITIONS,
        selection=dg.AssetSelection.assets(*keys("yellow", "postgres")),
        resources=sinks.resources,
        partition_key="2021-01",
        raise_on_error=False,
    )
    assert not result.success
    message = failure_message(result)
    assert "yellow_cab_data" in message and "previous rows are kept" in message
    assert postgres_months(sinks.postgres, "yellow") == before


def test_the_table_reads_back_as_an_asset_input(source_server: SourceServer, sinks: Sinks) -> None:
    source_server.publish("green", "2021-01")
    materialize_month(sinks.resources, "green", "2021-01")

    @dg.asset(
        partitions_def=dg.MonthlyPartitionsDefinition(start_date="2019-01", fmt="%Y-%m"),
        ins={"trips": dg.AssetIn(key=keys("green", "postgres")[0], input_manager_key=POSTGRES_IO_MANAGER)},
    )
    def trips_per_day(trips: pd.DataFrame) -> dg.MaterializeResult:
        per_day = trips.groupby("pickup_date").size()
        return dg.MaterializeResult(metadata={"days": len(per_day), "rows": int(per_day.sum())})

    source = [
        d
        for d in DEFINITIONS
        if isinstance(d, dg.AssetsDefinition) and keys("green", "postgres")[0] in d.keys
    ]
    result = dg.materialize(
        [trips_per_day, *(s.to_source_asset() for s in source)],
        resources=sinks.resources,
        partition_key="2021-01",
    )
    [materialization] = result.asset_materializations_for_node("trips_per_day")
    cleaned = read_lake_month(sinks.lake_dir, CLEANED, "green", "2021-01")
    assert materialization.metadata["rows"].value == len(cleaned)
    assert materialization.metadata["days"].value == 31


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
    resources = {**sinks.resources, POSTGRES_IO_MANAGER: PostgresPandasIOManager(postgres=odd)}
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
    source_server: SourceServer,
    sinks: Sinks,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The repo's dagster.yaml, with DAGSTER_POSTGRES_* pointing at the real server, in a fresh database."""
    database = f"dagster_{uuid.uuid4().hex[:10]}"
    _create_database(postgres_server, database)
    try:
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text((Path(__file__).parents[1] / "dagster.yaml").read_text())
        for name, value in {
            "DAGSTER_POSTGRES_HOST": postgres_server.host,
            "DAGSTER_POSTGRES_PORT": str(postgres_server.port),
            "DAGSTER_POSTGRES_USER": postgres_server.user,
            "DAGSTER_POSTGRES_PASSWORD": postgres_server.password,
            "DAGSTER_POSTGRES_DB": database,
        }.items():
            monkeypatch.setenv(name, value)
        source_server.publish("yellow", "2021-01")
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            result = materialize_month(sinks.resources, "yellow", "2021-01", instance=instance)
            assert result.success
        with dg.DagsterInstance.from_config(str(home)) as instance:
            [run] = instance.get_runs()
            assert run.run_id == result.run_id and run.is_success
            events = instance.fetch_materializations(keys("yellow", "postgres")[0], limit=10).records
            assert [e.partition_key for e in events] == ["2021-01"]
            assert events[0].run_id == run.run_id
    finally:
        _drop_database(postgres_server, database)


def _create_database(postgres: PostgresResource, name: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction block.
    with postgres.connect(autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {quote_ident(name)}")


def _drop_database(postgres: PostgresResource, name: str) -> None:
    with postgres.connect(autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
