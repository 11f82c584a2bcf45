"""The command line and the web UI as a user starts them: environments, `dagster`/`dg` commands,
`dagster dev`, a code server with a web server.
"""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.graphql import LOCATION_QUERY, graphql
from taxi_assets_tests.support.processes import free_port, start, stop_group, wait_for
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev import image


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


BIN = Path(sys.executable).parent


def env_example_names() -> set[str]:
    """Every variable .env.example lists, set or commented out with its example value."""
    text = (REPO / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


@dataclass
class Served:
    """A code server started as a deployment starts it, and a web server that loaded it."""

    location: dict
    code_server: subprocess.Popen
    webserver: subprocess.Popen


@contextmanager
def code_server_with_web_ui(command: list[str], env: dict[str, str], tmp_path: Path) -> Iterator[Served]:
    """``command`` (a deployment's code-server command) on a free loopback port until its health
    check passes, then a web server pointed at it until it has loaded the location; both stopped
    afterwards, and the code server's log free of tracebacks.
    """
    code_port, web_port = free_port(), free_port()
    command = list(command)
    command[command.index("-h") + 1] = "127.0.0.1"
    command[command.index("-p") + 1] = str(code_port)
    name = command[command.index("--location-name") + 1]
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {"load_from": [{"grpc_server": {"host": "127.0.0.1", "port": code_port, "location_name": name}}]}
        )
    )
    code_server = start([str(BIN / command[0]), *command[1:]], env, tmp_path / "code-server.log")
    webserver = None
    try:
        health = [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(code_port)]
        wait_for(
            "the code server's health check",
            lambda: subprocess.run(health, env=env, capture_output=True).returncode == 0,
            timeout=120,
            every=1,
        )
        webserver = start(
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port), "-w", str(workspace)],
            env,
            tmp_path / "webserver.log",
        )

        def loaded() -> list | None:
            assert webserver.poll() is None, (tmp_path / "webserver.log").read_text()[-3000:]
            try:
                entries = graphql(web_port, LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
            except OSError:
                return None
            return entries if entries and entries[0]["loadStatus"] == "LOADED" else None

        [location] = wait_for("the web server to load the location", loaded, timeout=120, every=1)
        assert location["name"] == name
        yield Served(location, code_server, webserver)
    finally:
        if webserver:
            stop_group(webserver, grace=30)
        stop_group(code_server, grace=30)
    assert "Traceback" not in (tmp_path / "code-server.log").read_text()


def dg_env(tmp_path: Path, source_server: SourceServer, postgres: PostgresResource) -> dict[str, str]:
    """A shell with the project's venv activated and this test's own sinks."""
    return {
        **env_for(tmp_path, source_server),
        "VIRTUAL_ENV": str(BIN.parent),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "POSTGRES_HOST": postgres.host,
        "POSTGRES_PORT": str(postgres.port),
        "POSTGRES_USER": postgres.user,
        "POSTGRES_DBNAME": postgres.dbname,
        "POSTGRES_SCHEMA": postgres.schema_name,
    }


def dg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "dg"), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
