"""Secrets in the settings, and everything a run leaves behind: no secret may be in any of it.

A private mirror's password (in the URL), its signed URL's signature (the query string), its token
(``TAXI_SOURCE_TOKEN``), ``POSTGRES_PASSWORD`` and the Google key file's contents each hold a canary.
Runs of a month and its days, and runs failing mid-download, go through the command line into a
Dagster instance of their own; then the output, every file under ``DAGSTER_HOME``, the lake, the
warehouse and PostgreSQL (comments and rows) are searched for the canaries.
"""

import base64
import json
import sqlite3
import subprocess
import traceback
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from taxi_assets.definitions import defs as repo_defs
from taxi_assets.defs.sensors import new_month_sensor
from taxi_assets.keys import DAILY_STAGES, MONTHLY_STAGES, RAW, asset_key
from taxi_assets.partitions import monthly_partitions
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.sql import quote_ident, quote_literal
from taxi_assets.source import SourceError, TaxiSource
from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.cli import env_for, materialize_command
from taxi_assets_tests.support.environment import in_a_fresh_process
from taxi_assets_tests.support.google import BigQueryEmulator
from taxi_assets_tests.support.processes import free_port
from taxi_assets_tests.support.sinks import lake_days, postgres_months, warehouse_rows_per_day
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.command_line import selection_string

# Every test runs the command line (or a fresh interpreter) as a user would.
pytestmark = pytest.mark.processes

USER = "taxi"
# Few retries, short pauses: the failing runs are about what they leave, not about patience.
PATIENCE = {"resources": {"taxi_source": {"config": {"retries": 1, "backoff_seconds": 0.01}}}}


@dataclass
class Canaries:
    """A unique value for each secret-bearing setting."""

    password: str = field(default_factory=lambda: f"password-canary-{uuid.uuid4().hex[:10]}")
    signature: str = field(default_factory=lambda: f"signature-canary-{uuid.uuid4().hex[:10]}")
    token: str = field(default_factory=lambda: f"token-canary-{uuid.uuid4().hex[:10]}")
    postgres_password: str = field(default_factory=lambda: f"pg-canary-{uuid.uuid4().hex[:10]}")
    key: str = field(default_factory=lambda: f"key-canary-{uuid.uuid4().hex[:10]}")

    def needles(self) -> dict[str, bytes]:
        """Each canary as it could appear, the URL's user and password also as Basic auth sends them."""
        found = {name: value.encode() for name, value in vars(self).items()}
        found["basic auth"] = base64.b64encode(f"{USER}:{self.password}".encode())
        return found

    def basic_auth(self) -> str:
        return "Basic " + base64.b64encode(f"{USER}:{self.password}".encode()).decode()

    def key_file(self, folder: Path) -> Path:
        """A Google key file (an authorized-user one: it loads offline) whose secrets are the canary."""
        folder.mkdir()
        path = folder / "key.json"
        path.write_text(
            json.dumps(
                {
                    "type": "authorized_user",
                    "client_id": "taxi-test.apps.googleusercontent.com",
                    "client_secret": self.key,
                    "refresh_token": self.key,
                }
            )
        )
        return path


def signed_template(server: SourceServer, canaries: Canaries, *, with_password: bool) -> str:
    """The server's URL template signed with the canary, and with the canary password if asked."""
    login = f"{USER}:{canaries.password}@" if with_password else ""
    return (
        server.url_template.replace("://", f"://{login}", 1) + f"?expires=1999999999&sig={canaries.signature}"
    )


def postgres_text(postgres: PostgresResource) -> dict[str, str]:
    """Every comment in the database, and the rows of each table in the run's schema, as text."""
    texts = {}
    with postgres.connect() as conn, conn.cursor() as cur:
        for catalog in ("pg_description", "pg_shdescription"):
            cur.execute(f"SELECT coalesce(string_agg(description, E'\\n'), '') FROM {catalog}")
            texts[f"PostgreSQL {catalog}"] = cur.fetchone()[0]
        cur.execute(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = {quote_literal(postgres.schema_name)}"
        )
        for (table,) in cur.fetchall():
            name = f"{quote_ident(postgres.schema_name)}.{quote_ident(table)}"
            cur.execute(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {name} t")
            texts[f"PostgreSQL table {table}"] = cur.fetchone()[0]
    return texts


def duckdb_text(path: Path) -> dict[str, str]:
    """The warehouse's comments and rows, as text (its file is searched as bytes too)."""
    if not path.exists():
        return {}
    texts = {}
    with duckdb.connect(str(path), read_only=True) as con:
        texts["DuckDB comments"] = str(
            con.execute(
                "SELECT comment FROM duckdb_tables() UNION ALL SELECT comment FROM duckdb_columns()"
            ).fetchall()
        )
        for schema, table in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall():
            texts[f"DuckDB table {table}"] = str(
                con.execute(f"SELECT * FROM {quote_ident(schema)}.{quote_ident(table)}").fetchall()
            )
    return texts


def leaks(
    canaries: Canaries,
    *,
    outputs: Iterable[str] = (),
    folders: Iterable[Path] = (),
    duckdb_path: Path | None = None,
    postgres: PostgresResource | None = None,
) -> list[str]:
    """Where any canary appears: ``"<canary> in <place>"`` for each find."""
    places: dict[str, bytes] = {f"output {i}": text.encode() for i, text in enumerate(outputs)}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                places[str(path)] = path.read_bytes()
    if duckdb_path is not None:
        places[str(duckdb_path)] = duckdb_path.read_bytes() if duckdb_path.exists() else b""
        places.update({where: text.encode() for where, text in duckdb_text(duckdb_path).items()})
    if postgres is not None:
        places.update({where: text.encode() for where, text in postgres_text(postgres).items()})
    return [
        f"{name} in {where}"
        for name, needle in canaries.needles().items()
        for where, content in places.items()
        if needle in content
    ]


def shown_traceback(error: BaseException) -> str:
    """The error as Python prints it and Dagster stores it: with the causes and contexts it shows."""
    return "".join(traceback.format_exception(error))


@dataclass
class Session:
    """A user's shell: the environment of every command, and what the commands printed."""

    env: dict[str, str]
    outputs: list[str] = field(default_factory=list)

    def materialize(self, selection: str, *partition: str) -> subprocess.CompletedProcess:
        command = [*materialize_command(selection, *partition), "--config-json", json.dumps(PATIENCE)]
        result = subprocess.run(command, env=self.env, cwd=REPO, capture_output=True, text=True, timeout=300)
        self.outputs += [result.stdout, result.stderr]
        return result


# A user debugging a download: the HTTP library's own log lines (each request's path and query,
# each retry) go to Dagster's event log.
DEBUGGING_DOWNLOADS = """
python_logs:
  managed_python_loggers: [urllib3]
  python_log_level: DEBUG
"""


def environment(
    tmp_path: Path, server: SourceServer, postgres: PostgresResource, canaries: Canaries
) -> dict[str, str]:
    env = env_for(tmp_path, server)
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text(DEBUGGING_DOWNLOADS)
    return {
        **env,
        "POSTGRES_HOST": postgres.host,
        "POSTGRES_PORT": str(postgres.port),
        "POSTGRES_DBNAME": postgres.dbname,
        "POSTGRES_USER": postgres.user,
        "POSTGRES_SCHEMA": postgres.schema_name,
        # PostgreSQL here trusts local connections, so any password works, and is sent.
        "POSTGRES_PASSWORD": canaries.postgres_password,
        "GOOGLE_SERVICE_ACC_KEY_FILEPATH": str(canaries.key_file(tmp_path / "keys")),
    }


MONTH = selection_string("yellow", MONTHLY_STAGES)
DAYS = selection_string("yellow", DAILY_STAGES)
RAW_ONLY = asset_key("yellow", RAW).to_user_string()


def test_no_secret_is_left_by_runs_that_succeed_or_fail_midway(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource
) -> None:
    canaries = Canaries()
    for month in ("2021-01", "2021-02", "2021-03", "2021-04", "2021-05"):
        source_server.publish("yellow", month)
    env = environment(tmp_path, source_server, postgres, canaries)

    # A mirror that takes the user and password in its URL, and a signature.
    source_server.required_authorization = canaries.basic_auth()
    user = Session(
        {**env, "TAXI_SOURCE_URL_TEMPLATE": signed_template(source_server, canaries, with_password=True)}
    )
    month = user.materialize(MONTH, "--partition", "2021-01")
    assert month.returncode == 0, month.stderr[-3000:]
    days = user.materialize(DAYS, "--partition-range", "2021-01-01...2021-01-31")
    assert days.returncode == 0, days.stderr[-3000:]
    assert len(lake_days(tmp_path / "lake", "yellow")) == 31
    assert sum(warehouse_rows_per_day(tmp_path / "warehouse.duckdb", "yellow").values()) > 0
    assert postgres_months(postgres, "yellow")["2021-01"][0] > 0
    shown = source_server.url("yellow", "2021-01")
    assert f"downloaded {shown} (" in month.stdout + month.stderr, "the log names the file, as shown"

    # A mirror that takes a bearer token, and a signature; every later request must carry the token.
    source_server.required_authorization = f"Bearer {canaries.token}"
    bearer = Session(
        {
            **env,
            "TAXI_SOURCE_URL_TEMPLATE": signed_template(source_server, canaries, with_password=False),
            "TAXI_SOURCE_TOKEN": canaries.token,
        },
        user.outputs,
    )
    month = bearer.materialize(MONTH, "--partition", "2021-02")
    assert month.returncode == 0, month.stderr[-3000:]
    assert "2021-02" in postgres_months(postgres, "yellow")

    # Runs that fail while downloading: each says why, naming the file as shown.
    source_server.fail("yellow", "2021-03", *[500] * 10)
    source_server.fail("yellow", "2021-04", *["truncate"] * 10)
    source_server.fail("yellow", "2021-05", *["drop"] * 10)
    failures = {
        "2021-06": "month not published",
        "2021-03": "answered 500 Internal Server Error",
        "2021-04": "after 2 attempts",
        "2021-05": "after 2 attempts",
    }
    for failing, reason in failures.items():
        result = bearer.materialize(RAW_ONLY, "--partition", failing)
        assert result.returncode != 0, failing
        assert reason in result.stderr, result.stderr[-3000:]
        assert source_server.url("yellow", failing) in result.stderr
    assert source_server.faults.requests.count("/yellow_tripdata_2021-05.csv.gz") > 2, "dropped, retried"

    found = leaks(
        canaries,
        outputs=bearer.outputs,
        folders=[tmp_path / "dagster_home", tmp_path / "lake"],
        duckdb_path=tmp_path / "warehouse.duckdb",
        postgres=postgres,
    )
    assert found == [], "\n".join(found)
    assert len(bearer.outputs) == 2 * (3 + len(failures))


def test_no_secret_is_left_by_a_run_into_bigquery_with_a_key_file(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource, bigquery: BigQueryEmulator
) -> None:
    """The key file is read when the warehouse is BigQuery (here the emulator, which then gets
    anonymous credentials: no Google here); nothing of it may reach the output or the tables.
    """
    canaries = Canaries()
    source_server.publish("yellow", "2021-01")
    source_server.required_authorization = f"Bearer {canaries.token}"
    env = environment(tmp_path, source_server, postgres, canaries)
    session = Session(
        {
            **env,
            "TAXI_SOURCE_URL_TEMPLATE": signed_template(source_server, canaries, with_password=False),
            "TAXI_SOURCE_TOKEN": canaries.token,
            "TAXI_WAREHOUSE": "bigquery",
            "GCP_PROJECT": bigquery.project,
            "BIGQUERY_DATASET": bigquery.dataset,
        }
    )
    month = session.materialize(MONTH, "--partition", "2021-01")
    assert month.returncode == 0, month.stderr[-3000:]
    days = session.materialize(DAYS, "--partition-range", "2021-01-01...2021-01-31")
    assert days.returncode == 0, days.stderr[-3000:]

    client = bigquery.client()
    tables = [client.get_table(item) for item in client.list_tables(bigquery.dataset)]
    assert [t.table_id for t in tables] == ["yellow_trips"]
    described = [str((t.description, [(f.name, f.description) for f in t.schema])) for t in tables]
    rows = bigquery.query(f"select * from `{bigquery.project}.{bigquery.dataset}.yellow_trips`")
    assert rows, "the days landed in BigQuery"
    found = leaks(
        canaries,
        outputs=[*session.outputs, *described, str(rows)],
        folders=[tmp_path / "dagster_home", tmp_path / "lake"],
        postgres=postgres,
    )
    assert found == [], "\n".join(found)


def test_the_new_month_sensor_sends_the_token_and_shows_no_secret(source_server: SourceServer) -> None:
    """The sensor's HEAD requests, evaluated as the daemon would: with the token, and errors redacted."""
    canaries = Canaries()
    source_server.publish("yellow", "2021-01")
    source_server.required_authorization = f"Bearer {canaries.token}"
    template = signed_template(source_server, canaries, with_password=False)
    source = TaxiSource(url_template=template, token=canaries.token, retries=1, backoff_seconds=0.01)
    assert source.published("yellow", "2021-01")
    assert not source.published("yellow", "2021-02")

    with pytest.raises(SourceError) as refused:
        TaxiSource(url_template=template).published("yellow", "2021-01")
    assert str(refused.value) == (
        f"{source_server.url('yellow', '2021-01')} answered 401 Unauthorized to HEAD; check "
        "TAXI_SOURCE_TOKEN or the user and password in TAXI_SOURCE_URL_TEMPLATE"
    )

    first = monthly_partitions("yellow").get_first_partition_key()
    with (
        dg.DagsterInstance.ephemeral() as instance,
        dg.build_sensor_context(
            instance=instance, definitions=repo_defs(), resources={"taxi_source": source}
        ) as context,
    ):
        skipped = new_month_sensor(context).skip_reason.skip_message
        assert skipped.startswith(f"yellow {first} not published yet"), "the HEAD request had the token"
        source_server.fail("yellow", first, 500, 500)
        with pytest.raises(SourceError) as failed:
            new_month_sensor(context)
    assert str(failed.value) == (
        f"{source_server.url('yellow', first)} answered 500 Internal Server Error to HEAD after 1 retries"
    )

    # Nobody listens there: the HTTP library's error names the URL, with the signature.
    nowhere = template.replace(source_server.base_url, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SourceError) as unreachable:
        TaxiSource(url_template=nowhere, token=canaries.token, retries=0).published("yellow", "2021-01")
    message = str(unreachable.value)
    assert message.startswith(f"{nowhere.partition('?')[0].format(service='yellow', month='2021-01')}: ")
    assert "Max retries exceeded" in message
    assert leaks(canaries, outputs=[shown_traceback(refused.value), shown_traceback(failed.value)]) == []
    assert leaks(canaries, outputs=[shown_traceback(unreachable.value)]) == []


def test_the_token_is_configured_by_its_variable_s_name() -> None:
    """What the UI shows of the resource's configuration: the variable's name, not its value."""
    shown = (
        "from taxi_assets.source import TaxiSource; t = TaxiSource().token; "
        "print(type(t).__name__, getattr(t, 'env_var_name', t))"
    )
    assert in_a_fresh_process({}, shown).stdout.split() == ["NoneType", "None"]
    token = Canaries().token
    configured = in_a_fresh_process({"TAXI_SOURCE_TOKEN": token}, shown).stdout
    assert configured.split() == ["EnvVar", "TAXI_SOURCE_TOKEN"] and token not in configured


def test_a_token_and_a_password_in_the_url_together_are_refused(source_server: SourceServer) -> None:
    canaries = Canaries()
    source = TaxiSource(
        url_template=signed_template(source_server, canaries, with_password=True), token=canaries.token
    )
    with pytest.raises(SourceError) as refused, source.fetch("yellow", "2021-01"):
        pass
    assert str(refused.value) == (
        f"TAXI_SOURCE_URL_TEMPLATE {source_server.url_template!r} holds a user name and TAXI_SOURCE_TOKEN "
        "is set: use one of them to log in to the mirror"
    )
    assert source_server.faults.requests == [], "nothing was fetched"


def test_the_search_finds_a_canary_wherever_a_run_could_leave_it(
    tmp_path: Path, postgres: PostgresResource
) -> None:
    """The search above can fail: a canary planted in each kind of place is found there."""
    canaries = Canaries()
    home = tmp_path / "dagster_home" / "storage"
    home.mkdir(parents=True)
    with sqlite3.connect(home / "runs.db") as db:
        db.execute("CREATE TABLE event_logs (event TEXT)")
        db.execute("INSERT INTO event_logs VALUES (?)", (json.dumps({"message": canaries.signature}),))
    db.close()
    (home / "compute.err").write_text(f"Authorization: {canaries.basic_auth()}\n")
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE trips (fare DOUBLE)")
        con.execute(f"COMMENT ON COLUMN trips.fare IS {quote_literal(canaries.key)}")
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {quote_ident(postgres.schema_name)}")
        cur.execute(f"CREATE TABLE {postgres.table('trips')} (note text)")
        cur.execute(
            f"COMMENT ON TABLE {postgres.table('trips')} IS {quote_literal(canaries.postgres_password)}"
        )
        cur.execute(f"INSERT INTO {postgres.table('trips')} VALUES ({quote_literal(canaries.token)})")
    found = leaks(
        canaries,
        outputs=["", f"downloaded http://{USER}:{canaries.password}@host/x.csv.gz"],
        folders=[tmp_path / "dagster_home"],
        duckdb_path=warehouse,
        postgres=postgres,
    )
    assert {
        "password in output 1",
        f"signature in {home / 'runs.db'}",
        f"basic auth in {home / 'compute.err'}",
        "key in DuckDB comments",
        "postgres_password in PostgreSQL pg_description",
        "token in PostgreSQL table trips",
    } <= set(found)
    assert not any(find.startswith("password in") and "output 1" not in find for find in found)
