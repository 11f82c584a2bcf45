"""The command line and the web UI, as a user starts them: real subprocesses, real ports."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from taxi_assets.keys import CLEANED
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests import image
from taxi_assets_tests.conftest import SourceServer, free_port
from taxi_assets_tests.processes import start, stop_group, wait_for
from taxi_assets_tests.session import lake_days, read_lake_month, warehouse_rows_per_day
from taxi_dev.supervise import group_members

REPO = Path(__file__).resolve().parents[1]


def env_for(tmp_path: Path, source_server: SourceServer) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAXI_", "DUCKDB_", "DAGSTER_"))}
    return {
        **env,
        "DAGSTER_HOME": str(home),
        "TAXI_SOURCE_URL_TEMPLATE": source_server.url_template,
        "TAXI_LAKE_URI": str(tmp_path / "lake"),
        "DUCKDB_DATABASE": str(tmp_path / "warehouse.duckdb"),
    }


def dagster_postgres_env(postgres: PostgresResource, database: str) -> dict[str, str]:
    """The DAGSTER_POSTGRES_* settings the deployment's instance files read: Dagster's storage in
    ``database`` on ``postgres``'s server.
    """
    return {
        "DAGSTER_POSTGRES_HOST": postgres.host,
        "DAGSTER_POSTGRES_PORT": str(postgres.port),
        "DAGSTER_POSTGRES_USER": postgres.user,
        "DAGSTER_POSTGRES_PASSWORD": postgres.password,
        "DAGSTER_POSTGRES_DB": database,
    }


def postgres_instance_env(
    tmp_path: Path, source_server: SourceServer, postgres: PostgresResource, database: str
) -> dict[str, str]:
    """env_for, with a DAGSTER_HOME holding the deployment's dagster.yaml on PostgreSQL ``database``
    and the image's Dagster settings, as the deployment runs.
    """
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text((REPO / "deploy" / "dagster.yaml").read_text())
    return {
        **env_for(tmp_path, source_server),
        **image.dagster_settings(),
        "DAGSTER_HOME": str(home),
        **dagster_postgres_env(postgres, database),
    }


def dagster(*args: str, env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dagster", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def materialize_command(selection: str, *partition: str) -> list[str]:
    """``dagster asset materialize`` of the code location, as a user types it."""
    module = ["-m", "taxi_assets.definitions"]
    return [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        *module,
        "--select",
        selection,
        *partition,
    ]


def materialize_on_the_command_line(
    selection: str, partition: tuple[str, str], env: dict[str, str], cwd: Path = REPO
) -> subprocess.CompletedProcess:
    return subprocess.run(
        materialize_command(selection, *partition),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def loaded_asset_keys(location: dict) -> set[str]:
    """The asset keys of the code location as the UI lists them, once it loaded without error."""
    assert location["name"] == "taxi_assets"
    assert location["locationOrLoadError"]["__typename"] == "RepositoryLocation", location
    [repository] = location["locationOrLoadError"]["repositories"]
    return {"/".join(n["assetKey"]["path"]) for n in repository["assetNodes"]}


def test_asset_materialize_on_the_command_line(tmp_path: Path, source_server: SourceServer) -> None:
    source_server.publish("yellow", "2021-01")
    env = env_for(tmp_path, source_server)
    monthly = materialize_on_the_command_line(
        "yellow/raw_trips,yellow/cleaned_trips,yellow/rejected_trips", ("--partition", "2021-01"), env
    )
    assert monthly.returncode == 0, monthly.stderr[-3000:]
    cleaned = read_lake_month(tmp_path / "lake", CLEANED, "yellow", "2021-01")

    daily = materialize_on_the_command_line(
        "yellow/daily_trips,yellow/warehouse_trips", ("--partition-range", "2021-01-01...2021-01-31"), env
    )
    assert daily.returncode == 0, daily.stderr[-3000:]
    assert len(lake_days(tmp_path / "lake", "yellow")) == 31
    assert sum(warehouse_rows_per_day(tmp_path / "warehouse.duckdb", "yellow").values()) == len(cleaned)


def test_asset_materialize_of_a_missing_month_fails_with_the_reason(
    tmp_path: Path, source_server: SourceServer
) -> None:
    result = materialize_on_the_command_line(
        "green/raw_trips", ("--partition", "2021-05"), env_for(tmp_path, source_server)
    )
    assert result.returncode != 0
    assert "month not published" in result.stdout + result.stderr
    assert not (tmp_path / "lake" / "green").exists()


# A mutation is sent once (a second backfill is not the same as the first), so its answer is waited
# for as long as a web server beside two CPU hogs may take: over 10 s for launchPartitionBackfill
# in the compose stack. Polls wait as long, inside their own deadlines.
GRAPHQL_TIMEOUT_SECONDS = 120


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=GRAPHQL_TIMEOUT_SECONDS) as response:
        return json.load(response)["data"]


def launch_partition_backfill(port: int, partitions: list[str], assets: list[list[str]]) -> str:
    """A partition backfill of ``assets`` (key paths) launched as the UI's backfill dialog launches
    it; its id.
    """
    names = ", ".join(f'"{p}"' for p in partitions)
    selection = ", ".join("{path: [" + ", ".join(f'"{part}"' for part in path) + "]}" for path in assets)
    launched = graphql(
        port,
        f"mutation {{ launchPartitionBackfill(backfillParams: {{ partitionNames: [{names}], "
        f"assetSelection: [{selection}] }}) "
        "{ __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def runs_tagged(port: int, key: str, value: str) -> list[dict]:
    """The runs with tag ``key=value``, as the UI's runs page filters them: id, status and tags."""
    return graphql(
        port,
        f'{{ runsOrError(filter: {{tags: [{{key: "{key}", value: "{value}"}}]}}) '
        "{ ... on Runs { results { runId status tags { key value } } } } }",
    )["runsOrError"]["results"]


LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message }
      ... on RepositoryLocation { repositories { assetNodes { assetKey { path } } } } } } } } }
"""


AUTOMATION_SENSOR = (
    'sensorSelector: {repositoryLocationName: "taxi_assets", repositoryName: "__repository__", '
    'sensorName: "follow_upstream"}'
)


def stop_automation(port: int) -> str:
    """Stop the automation sensor (on by default), for a test that launches every run itself, and
    wait until no tick of it is under way: a tick begun before the stop still requests what it
    finds, such as a month's days once the month lands. Its status before the stop.
    """
    found = graphql(
        port,
        f"{{ sensorOrError({AUTOMATION_SENSOR}) {{ __typename ... on Sensor {{ sensorState "
        "{ id selectorId status } } ... on Error { message } } }",
    )["sensorOrError"]
    assert found["__typename"] == "Sensor", found
    state = found["sensorState"]
    stopped = graphql(
        port,
        f'mutation {{ stopSensor(id: "{state["id"]}", jobSelectorId: "{state["selectorId"]}") '
        "{ ... on StopSensorMutationResult { instigationState { status } } } }",
    )
    assert stopped["stopSensor"]["instigationState"]["status"] == "STOPPED"

    def no_tick_under_way() -> bool:
        ticks = graphql(
            port,
            f"{{ sensorOrError({AUTOMATION_SENSOR}) {{ ... on Sensor {{ sensorState "
            "{ ticks(limit: 1) { status } } } } }",
        )["sensorOrError"]["sensorState"]["ticks"]
        return not ticks or ticks[0]["status"] != "STARTED"

    wait_for("the automation sensor's last tick to end", no_tick_under_way, timeout=300, every=1)
    return state["status"]


def start_dagster_dev(env: dict[str, str], log: Path, port: int) -> subprocess.Popen:
    """`dagster dev` on the repo's workspace, started where the instance's dagster.yaml is."""
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(REPO / "workspace.yaml"),
        "--port",
        str(port),
    ]
    return start(command, env, log, Path(env["DAGSTER_HOME"]))


def wait_until_loaded(port: int, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    """Until the web server on ``port`` reports every code location loaded; fails if ``process`` dies."""

    def loaded() -> bool:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            entries = graphql(port, LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
        except OSError:
            return False
        return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)

    wait_for("the web server to load the code location", loaded, timeout=timeout, every=1)


def test_dagster_dev_loads_the_location_without_errors(tmp_path: Path, source_server: SourceServer) -> None:
    port = free_port()
    log = tmp_path / "dagster-dev.log"  # a file, not a pipe: nobody has to drain it for dagster dev to go on
    process = start(
        [sys.executable, "-m", "dagster", "dev", "--host", "127.0.0.1", "--port", str(port)],
        env_for(tmp_path, source_server),
        log,
        REPO,
    )
    try:

        def loaded() -> list | None:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                entries = graphql(port, LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
            except OSError:
                return None
            return entries if entries and all(e["loadStatus"] == "LOADED" for e in entries) else None

        [location] = wait_for("dagster dev to load the location", loaded, timeout=300, every=1)
        assert {"yellow/raw_trips", "green/warehouse_trips", "green/rejected_trips"} <= loaded_asset_keys(
            location
        )
    finally:
        # SIGTERM, then SIGKILL after a grace period: how long dagster dev takes to stop on a busy
        # machine is not what this test is about; that nothing of it is left is.
        stop_group(process)
    assert group_members(process.pid) == []


def test_the_repo_instance_config_works_with_no_variables(
    tmp_path: Path, source_server: SourceServer
) -> None:
    """The repo's dagster.yaml, where Dagster finds it with DAGSTER_HOME unset, needs no variable."""
    source_server.publish("green", "2021-01")
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    env = {k: v for k, v in env_for(tmp_path, source_server).items() if k != "DAGSTER_HOME"}
    result = materialize_on_the_command_line("green/raw_trips", ("--partition", "2021-01"), env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "lake" / "green" / "raw_trips" / "2021-01.parquet").is_file()
