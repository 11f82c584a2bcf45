"""The docker-compose deployment, read as a reviewer would and started as far as this machine can
(no Docker engine here): the code server exactly as compose runs it, a web server pointed at it.
"""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import dagster as dg
import hcl2
import pytest
import yaml
from dagster_docker import DockerRunLauncher

from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.cli import (
    code_server_with_web_ui,
    dagster_postgres_env,
    env_example_names,
    postgres_instance_env,
)
from taxi_assets_tests.support.graphql import loaded_asset_keys
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev import image

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_four_services_and_what_they_run() -> None:
    assert set(SERVICES) == {"postgres", "code-server", "webserver", "daemon"}
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    code = SERVICES["code-server"]["command"]
    assert code[:3] == ["dagster", "code-server", "start"]
    assert code[code.index("-m") + 1] == "taxi_assets.definitions"
    # The web server and the daemon load the code server's location, under the name it serves.
    [location] = yaml.safe_load((REPO / "deploy" / "compose" / "workspace.yaml").read_text())["load_from"]
    assert location["grpc_server"] == {
        "host": "code-server",
        "port": int(code[code.index("-p") + 1]),
        "location_name": code[code.index("--location-name") + 1],
    }
    for name in ("webserver", "daemon"):
        command = SERVICES[name]["command"]
        assert command[command.index("-w") + 1] == "workspace.yaml", name
    assert SERVICES["webserver"]["command"][0] == "dagster-webserver"
    # One image, built once by the code server and used locally by the others.
    assert SERVICES["code-server"]["build"] == "."
    for name in ("webserver", "daemon"):
        assert SERVICES[name]["image"] == SERVICES["code-server"]["image"]
        assert SERVICES[name]["pull_policy"] == "never"
    assert SERVICES["daemon"]["command"][:2] == ["dagster-daemon", "run"]


def test_every_service_restarts_and_reports_health() -> None:
    for name, service in SERVICES.items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
    for name in ("webserver", "daemon"):
        assert SERVICES[name]["depends_on"]["code-server"]["condition"] == "service_healthy"
        assert SERVICES[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_postgres_keeps_its_data_in_a_named_volume_and_the_key_is_read_only() -> None:
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert "postgres-data" in COMPOSE["volumes"]
    [keys] = [v for v in SERVICES["code-server"]["volumes"] if ":/opt/dagster/keys" in v]
    assert keys.endswith(":/opt/dagster/keys:ro")
    # The UI shows run logs the code server wrote: both mount Dagster's local storage.
    for name in ("code-server", "webserver"):
        assert "dagster-logs:/opt/dagster/home/storage" in SERVICES[name]["volumes"], name
    assert SERVICES["code-server"]["environment"]["GOOGLE_SERVICE_ACC_KEY_FILEPATH"].startswith(
        "/opt/dagster/keys/"
    )


def test_every_variable_compose_reads_is_in_env_example() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))  # $${X} is the container's own
    assert used, "compose reads its settings from .env"
    assert used - env_example_names() == set()


def test_the_web_ui_is_not_published_on_all_interfaces_by_default() -> None:
    [port] = SERVICES["webserver"]["ports"]
    host = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", port).split(":")[0]
    assert host == "127.0.0.1"
    assert "DAGSTER_WEBSERVER_BIND=127.0.0.1" in (REPO / ".env.example").read_text()


def test_no_secret_is_written_into_compose_and_the_password_is_required() -> None:
    assert "${POSTGRES_PASSWORD:?" in (REPO / "docker-compose.yml").read_text()
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "SECRET", "TOKEN", "KEY")) and "FILEPATH" not in key:
                assert str(value).startswith("${") and ":-" not in str(value), (name, key, value)


def test_the_image_installs_from_pyproject_with_the_instance_config() -> None:
    """One image for compose and Kubernetes (deploy/helm), read as a reviewer would (test_compose.py
    builds it): the runtime package with the run launchers' extras only, a non-root user, a health
    check for every role.
    """
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "COPY pyproject.toml" in dockerfile
    assert re.search(r"^ARG BASE_IMAGE=python:3\.\d+-slim$", dockerfile, flags=re.MULTILINE)
    [install] = re.findall(r'pip install "setuptools>=68" (.+)$', dockerfile, flags=re.MULTILINE)
    assert install == '".[k8s,docker]"'  # K8sRunLauncher, DockerRunLauncher; no test or dev tools
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["k8s"] == ["dagster-k8s==0.29.27"]
    assert extras["docker"] == ["dagster-docker==0.29.27"]
    # compose's instance and workspace
    assert "COPY deploy/compose/dagster.yaml deploy/compose/workspace.yaml ./" in dockerfile
    assert 'cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"' in dockerfile
    # A range run's events go to PostgreSQL in batches (the tests' deployment instance sets it too).
    assert int(image.dagster_settings()["DAGSTER_EVENT_BATCH_SIZE"]) > 1
    [user] = re.findall(r"^USER (\S+)$", dockerfile, flags=re.MULTILINE)
    assert user not in ("root", "0")
    assert dockerfile.rindex("USER ") > dockerfile.rindex("RUN ")  # nothing runs as root after it
    [healthcheck] = re.findall(r"^HEALTHCHECK .*\n.*CMD (.+)$", dockerfile, flags=re.MULTILINE)
    assert "/opt/dagster/healthcheck.py" in healthcheck
    assert "COPY deploy/healthcheck.py /opt/dagster/healthcheck.py" in dockerfile
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".env", "keys", "terraform", "deploy/helm"} <= set(ignored)


def test_every_process_gets_the_memory_settings_the_image_sets() -> None:
    """The image's ENV (compose, GKE) and the Makefile (make demo, dev, test) agree; each process
    reads them as it starts: nothing in the package changes the allocator.
    """
    makefile = dict(
        re.findall(r"^export (\S+) := (\S+)$", (REPO / "Makefile").read_text(), flags=re.MULTILINE)
    )
    assert image.memory_settings() == {name: makefile[name] for name in image.MEMORY_SETTINGS}
    assert image.memory_settings()["ARROW_DEFAULT_MEMORY_POOL"] == "jemalloc"


INSTANCE_FILES = {
    "dagster.yaml": REPO / "dagster.yaml",
    "deploy/dagster.yaml": REPO / "deploy" / "dagster.yaml",
    "deploy/compose/dagster.yaml": REPO / "deploy" / "compose" / "dagster.yaml",
}


def test_every_instance_file_queues_pools_and_monitors_runs_alike() -> None:
    """One dagster.yaml per way of running, the same limits in each; none names this project's code."""
    instances = {name: yaml.safe_load(path.read_text()) for name, path in INSTANCE_FILES.items()}
    local, deployed, composed = instances.values()
    for key in ("run_coordinator", "concurrency", "run_monitoring", "run_retries", "telemetry"):
        assert deployed[key] == local[key] == composed[key], key
    # Limits applied where runs are queued: no run waits inside for a slot, none dies holding one.
    assert local["concurrency"]["pools"]["granularity"] == "run"
    assert "storage" not in local  # Dagster's default: SQLite under DAGSTER_HOME
    assert set(deployed["storage"]) == {"postgres"}
    assert composed["storage"] == deployed["storage"]
    # Under compose a run whose container died is run again; one that failed in its code is not.
    assert composed["run_retries"] == {
        "enabled": True,
        "max_retries": 2,
        "retry_on_asset_or_op_failure": False,
    }
    for instance in instances.values():
        assert "taxi_assets" not in yaml.safe_dump(instance)


def test_compose_runs_each_run_in_a_container_of_the_stacks_own(
    tmp_path: Path, postgres_server: PostgresResource, dagster_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compose's instance file built by Dagster, its DockerRunLauncher (never launching here: the
    container test does) pointed at what docker-compose.yml names: its network, the code server's
    container (whose volumes runs mount) and every setting the code server has; the daemon has
    them too, to pass them on, and it and the web server the engine's socket.
    """
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(INSTANCE_FILES["deploy/compose/dagster.yaml"], home / "dagster.yaml")
    for name, value in dagster_postgres_env(postgres_server, dagster_database).items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        launcher = instance.run_launcher
        assert isinstance(launcher, DockerRunLauncher)
        assert launcher.networks == [COMPOSE["networks"]["default"]["name"]]
        assert launcher.container_kwargs["volumes_from"] == [SERVICES["code-server"]["container_name"]]
        code_settings = set(SERVICES["code-server"]["environment"]) - {"DAGSTER_CURRENT_IMAGE"}
        assert set(launcher.env_vars) == code_settings
        assert instance.run_monitoring_enabled
    assert code_settings <= set(SERVICES["daemon"]["environment"])
    assert SERVICES["code-server"]["environment"]["DAGSTER_CURRENT_IMAGE"] == SERVICES["code-server"]["image"]
    for name in ("daemon", "webserver"):
        assert "${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock" in SERVICES[name]["volumes"]


def test_the_service_account_gets_only_the_roles_the_pipeline_needs() -> None:
    with (REPO / "terraform" / "main.tf").open() as f:
        resources = hcl2.load(f)["resource"]
    roles = [
        body["role"]
        for block in resources
        for kind in block.values()
        for body in kind.values()
        if "role" in body
    ]
    roles = [r.strip('"') for r in roles]
    assert sorted(roles) == [
        "roles/bigquery.dataEditor",
        "roles/bigquery.jobUser",
        "roles/storage.legacyBucketReader",
        "roles/storage.objectUser",
    ]
    assert not any("owner" in r.lower() or r.endswith(".admin") for r in roles)


@pytest.mark.processes
def test_code_server_as_compose_runs_it_serves_the_web_ui(
    tmp_path: Path, source_server: SourceServer, postgres_server: PostgresResource, dagster_database: str
) -> None:
    """Compose's commands on loopback, with the deployment's dagster.yaml on the machine's PostgreSQL."""
    env = postgres_instance_env(tmp_path, source_server, postgres_server, dagster_database)
    [entry] = yaml.safe_load((REPO / "workspace.yaml").read_text())["load_from"]
    command = list(SERVICES["code-server"]["command"])
    assert command[command.index("--location-name") + 1] == entry["python_module"]["location_name"]
    with code_server_with_web_ui(command, env, tmp_path) as served:
        keys = loaded_asset_keys(served.location)
        assert {"yellow/raw_trips", "green/postgres_trips", "green/warehouse_trips"} <= keys


@pytest.mark.processes
def test_the_images_health_check_passes_a_run_worker_while_it_runs() -> None:
    """A run's own container (compose's DockerRunLauncher starts `dagster api execute_run <args>` in
    the image, whose HEALTHCHECK runs deploy/healthcheck.py) is healthy while its process lives.
    The worker is a stand-in with that command line: a real one needs a launched run and exits
    when it ends.
    """
    healthcheck = [sys.executable, str(REPO / "deploy" / "healthcheck.py")]
    worker = subprocess.Popen(
        ["dagster", "-c", "import time; time.sleep(60)", "api", "execute_run", '{"run_id": "r"}'],
        executable=sys.executable,
    )
    try:
        result = subprocess.run([*healthcheck, str(worker.pid)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
    finally:
        worker.kill()
        worker.wait()
    gone = subprocess.run([*healthcheck, str(worker.pid)], capture_output=True, text=True, timeout=30)
    assert gone.returncode != 0
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        result = subprocess.run([*healthcheck, str(other.pid)], capture_output=True, text=True, timeout=30)
        assert result.returncode != 0 and "not a Dagster process" in result.stderr
    finally:
        other.kill()
        other.wait()


def test_compose_refuses_env_example_until_a_password_is_chosen() -> None:
    """README: copy .env.example to .env and set POSTGRES_PASSWORD; compose refuses to start
    otherwise. Its ${NAME:?...} refuses a variable unset or empty, so .env.example ships every
    such variable empty, never a default everyone shares.
    """
    compose = (REPO / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", compose))
    assert "POSTGRES_PASSWORD" in required
    shipped = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", (REPO / ".env.example").read_text(), re.MULTILINE))
    assert {name: shipped[name] for name in required if shipped.get(name)} == {}


def test_a_relative_lake_folder_from_env_lands_in_the_data_volume() -> None:
    """.env's local default TAXI_LAKE_URI=data/lake, passed on by compose, resolves in the image's
    working directory: its data/ is the data volume the code server and every run container mount.
    """
    dockerfile = (REPO / "Dockerfile").read_text()
    [workdir] = re.findall(r"^WORKDIR (\S+)$", dockerfile, flags=re.MULTILINE)
    links = dict((link, target) for target, link in re.findall(r"ln -s (\S+) (\S+)", dockerfile))
    [mount] = [v.split(":")[1] for v in SERVICES["code-server"]["volumes"] if v.startswith("taxi-data:")]
    assert "${TAXI_LAKE_URI:-" in SERVICES["code-server"]["environment"]["TAXI_LAKE_URI"]
    lake = Path(workdir) / "data" / "lake"
    for link, target in links.items():
        if lake.is_relative_to(link):
            lake = Path(target) / lake.relative_to(link)
    assert lake.is_relative_to(mount), f"data/lake in {workdir} is {lake}, outside the volume at {mount}"
