"""`docker compose up`, for real: the image built, the stack of docker-compose.yml (PostgreSQL, code
server, web server, daemon) brought up in podman with Debian's docker-compose, a month and its days
loaded through the web server's GraphQL API as the UI does, a run's container killed mid-load and
recovered by the daemon, and everything taken down again.

What differs from a user's `docker compose up --build` is only what this machine needs, in an
override file: images built here (no Docker Hub: PostgreSQL is Debian's, in a stand-in image), the
synthetic source served from the test on the stack's own network, the stack's PostgreSQL published
on loopback for the test's checks. `make test` prepares the machine first where it can (as root on
Debian: `make containers`, taxi_dev/ensure-containers.sh).
"""

import ipaddress
import json
import os
import secrets
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from taxi_assets.constants import postgres_table
from taxi_assets.publishers import MIRROR
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.graphql import (
    LOCATION_QUERY,
    graphql,
    launch_partition_backfill,
    runs_tagged,
    stop_automation,
)
from taxi_assets_tests.support.oracle import course_cleaning, rows_per_pickup_day
from taxi_assets_tests.support.processes import free_port, start, stop_group, wait_for
from taxi_assets_tests.support.sinks import (
    connections_on_schema,
    lake_days,
    postgres_months,
    warehouse_rows_per_day,
)
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.synthetic import source_file_name

pytestmark = [pytest.mark.containers, pytest.mark.timeout(2400)]

PREPARE = "make containers"
BASE_IMAGE = "localhost/bookworm-min"
IMAGE = "localhost/taxi-assets:test"
POSTGRES_IMAGE = "localhost/taxi-postgres:15"
PROJECT = "taxi-assets"
# The names docker-compose.yml gives what outlives a container.
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
VOLUMES = {volume["name"] for volume in COMPOSE["volumes"].values()}
DATA_VOLUME = COMPOSE["volumes"]["taxi-data"]["name"]  # the lake and the DuckDB warehouse
NETWORK = COMPOSE["networks"]["default"]["name"]
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
SELECTOR = 'repositoryLocationName: "taxi_assets", repositoryName: "__repository__"'
SETTING_PREFIXES = (
    "POSTGRES_",
    "TAXI_",
    "DAGSTER_",
    "DUCKDB_",
    "GCP_",
    "GOOGLE_",
    "BIGQUERY_",
    "COMPOSE_",
    "DOCKER_",
)
MONTHLY = ("raw_trips", "cleaned_trips", "rejected_trips", "postgres_trips")
DAILY = ("daily_trips", "warehouse_trips")
INSTANCE = yaml.safe_load((REPO / "deploy" / "compose" / "dagster.yaml").read_text())
POOL_GRANULARITY = INSTANCE["concurrency"]["pools"]["granularity"]


def podman(*args: str, timeout: float = 120, check: bool = True) -> str:
    """What ``podman ARGS`` prints; a failure shows what it said on stderr."""
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    assert not check or result.returncode == 0, f"podman {' '.join(args)}: {result.stderr[-3000:]}"
    return result.stdout


def require_engine() -> None:
    """Podman, docker-compose and the base image, or a failure saying how to get them."""
    missing = [tool for tool in ("podman", "docker-compose") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: run `{PREPARE}` as root (Debian 12)")
    if subprocess.run(["podman", "image", "exists", BASE_IMAGE]).returncode != 0:
        pytest.fail(f"no base image {BASE_IMAGE}: run `{PREPARE}` as root")


def leftovers() -> dict[str, list[str]]:
    """What of the stack podman still has: containers (the stack's and runs'), volumes, network."""
    containers = set()
    for label in (f"com.docker.compose.project={PROJECT}", "dagster/run_id"):
        containers |= set(podman("ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}").split())
    return {
        "containers": sorted(containers),
        "volumes": sorted(VOLUMES & set(podman("volume", "ls", "--format", "{{.Name}}").split())),
        "networks": [n for n in podman("network", "ls", "--format", "{{.Name}}").split() if n == NETWORK],
    }


def build(tag: str, context: Path, log: Path, *args: str) -> float:
    """Builds ``context`` as ``tag`` (the previous image of that tag removed); returns the seconds taken."""
    previous = podman("image", "ls", "--quiet", tag).strip()
    began = time.monotonic()
    command = [
        "podman",
        "build",
        "--format",
        "docker",
        "--network",
        "host",
        "--tag",
        tag,
        *args,
        str(context),
    ]
    with log.open("w") as out:
        built = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=1800)
    assert built.returncode == 0, log.read_text()[-5000:]
    took = time.monotonic() - began
    if previous and previous != podman("image", "ls", "--quiet", tag).strip():
        podman("rmi", previous, check=False)
    return took


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 that neither a podman network nor a route of this machine uses."""
    used = []
    for network in json.loads(podman("network", "ls", "--format", "json") or "[]"):
        used += [ipaddress.ip_network(s["subnet"]) for s in network.get("subnets") or []]
    for line in Path("/proc/net/route").read_text().splitlines()[1:]:
        fields = line.split()
        destination, mask = (socket.inet_ntoa(struct.pack("<L", int(h, 16))) for h in (fields[1], fields[7]))
        if destination != "0.0.0.0":
            used.append(ipaddress.ip_network(f"{destination}/{mask}", strict=False))
    for n in range(100, 250):
        candidate = ipaddress.ip_network(f"10.89.{n}.0/24")
        if not any(candidate.overlaps(u) for u in used):
            return candidate
    pytest.fail("no free 10.89.x.0/24 subnet for the stack's network")


@dataclass
class Stack:
    """The compose stack as the test drives it."""

    web_port: int
    postgres: PostgresResource
    source: SourceServer
    lake_volume: Path
    container_ids: set[str]


def compose_command(files: list[Path], env_file: Path) -> list[str]:
    """docker-compose on the stack's files and env file, whatever the working directory."""
    command = ["docker-compose", "--project-name", PROJECT, "--project-directory", str(REPO)]
    for file in files:
        command += ["--file", str(file)]
    return [*command, "--env-file", str(env_file)]


def run_health_checks(stop: threading.Event) -> None:
    """What systemd's timers do for podman where there is a systemd: run each container's health
    check, so that compose's `condition: service_healthy` can be met. This machine has none.
    """
    while not stop.wait(3):
        names = podman(
            "ps",
            "--filter",
            f"label=com.docker.compose.project={PROJECT}",
            "--format",
            "{{.Names}}",
            check=False,  # a container may go between two commands; the next round sees it
        )
        for name in names.split():
            status = podman("inspect", name, "--format", "{{.State.Health.Status}}", check=False).strip()
            if status != "healthy":
                subprocess.run(["podman", "healthcheck", "run", name], capture_output=True, timeout=60)


@contextmanager
def compose_stack(tmp_path: Path) -> Iterator[Stack]:
    """Podman's Docker API on a socket of this test's own, the stack up on it with the override
    file, the source server on the stack's network; all of it down and stopped afterwards.
    """
    socket_path = tmp_path / "engine" / "podman.sock"
    socket_path.parent.mkdir()
    service = start(
        ["podman", "system", "service", "--time=0", f"unix://{socket_path}"],
        dict(os.environ),
        tmp_path / "podman-service.log",
        tmp_path,
    )
    files = [REPO / "docker-compose.yml", tmp_path / "docker-compose.override.yml"]
    env_file = tmp_path / "compose.env"
    compose = compose_command(files, env_file)
    # Only the env file's settings: none from the shell running the tests.
    compose_env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    compose_env["DOCKER_HOST"] = f"unix://{socket_path}"
    try:
        wait_for("podman's API socket", socket_path.exists, timeout=60)
        subnet = free_subnet()
        gateway = str(next(subnet.hosts()))  # netavark's gateway: the network's first address
        source_port, web_port, postgres_port = free_port(), free_port(), free_port()
        password = secrets.token_hex(16)
        source_root = tmp_path / "published"
        source_root.mkdir()
        (tmp_path / "keys").mkdir()
        template = f"http://{gateway}:{source_port}/{source_file_name('{service}', '{month}', 'csv.gz')}"
        env_file.write_text(
            "\n".join(
                [
                    f"POSTGRES_PASSWORD={password}",
                    "TAXI_PUBLISHER=mirror",
                    # .env.example's local default: in the containers, the data volume.
                    "TAXI_LAKE_URI=data/lake",
                    f"TAXI_SOURCE_URL_TEMPLATE={template}",
                    "DAGSTER_WEBSERVER_BIND=127.0.0.1",
                    f"DAGSTER_WEBSERVER_PORT={web_port}",
                    f"DOCKER_SOCKET={socket_path}",
                    f"GCP_KEYS_DIR={tmp_path / 'keys'}",
                    "",
                ]
            )
        )
        override = {
            "services": {
                "postgres": {"image": POSTGRES_IMAGE, "ports": [f"127.0.0.1:{postgres_port}:5432"]},
                "code-server": {"image": IMAGE, "environment": {"DAGSTER_CURRENT_IMAGE": IMAGE}},
                "webserver": {"image": IMAGE},
                "daemon": {"image": IMAGE},
            },
            # docker-compose 1.29 replaces a network's whole entry with the override's.
            "networks": {"default": {"name": NETWORK, "ipam": {"config": [{"subnet": str(subnet)}]}}},
        }
        files[1].write_text(yaml.safe_dump(override))

        checking = threading.Event()
        checker = threading.Thread(target=run_health_checks, args=(checking,), daemon=True)
        checker.start()
        began = time.monotonic()
        try:
            up = subprocess.run(
                [*compose, "up", "--detach", "--no-build"],
                env=compose_env,
                capture_output=True,
                text=True,
                timeout=900,
            )
        finally:
            checking.set()
            checker.join()
        assert up.returncode == 0, up.stderr[-5000:]
        print(f"compose up: {time.monotonic() - began:.0f} s")

        [network] = json.loads(podman("network", "inspect", NETWORK))
        assert network["subnets"][0]["gateway"] == gateway
        source = SourceServer(source_root, MIRROR, (gateway, source_port))
        source.thread.start()
        assert source.url_template == template
        try:
            yield Stack(
                web_port=web_port,
                postgres=PostgresResource(
                    host="127.0.0.1",
                    port=postgres_port,
                    dbname="ny_taxi",
                    user="postgres",
                    password=password,
                    schema_name="ny_taxi",
                ),
                source=source,
                lake_volume=Path(
                    podman("volume", "inspect", DATA_VOLUME, "--format", "{{.Mountpoint}}").strip()
                ),
                container_ids=set(
                    podman(
                        "ps",
                        "-a",
                        "--quiet",
                        "--no-trunc",
                        "--filter",
                        f"label=com.docker.compose.project={PROJECT}",
                    ).split()
                ),
            )
        finally:
            source.httpd.shutdown()
            source.httpd.server_close()
    finally:
        logs = subprocess.run(
            [*compose, "logs", "--no-color"], env=compose_env, capture_output=True, text=True
        )
        (tmp_path / "compose.log").write_text(logs.stdout + logs.stderr)
        # After a failure a run's container may still be on the stack's network, which `down` must remove.
        for name in podman("ps", "-a", "--filter", "label=dagster/run_id", "--format", "{{.Names}}").split():
            podman("rm", "--force", name, check=False)
        down = subprocess.run(
            [*compose, "down", "--volumes", "--remove-orphans", "--timeout", "30"],
            env=compose_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        stop_group(service)
        assert down.returncode == 0, down.stderr[-3000:]


def launch(port: int, assets: tuple[str, ...], service: str, partition: str) -> str:
    """The UI's Materialize button for ``assets`` of ``service`` and one partition; the run's id."""
    [node] = graphql(
        port, f'{{ assetNodes(assetKeys: [{{path: ["{service}", "{assets[0]}"]}}]) {{ jobNames }} }}'
    )["assetNodes"]
    job = next(name for name in node["jobNames"] if name.startswith("__ASSET_JOB"))
    selection = ", ".join(f'{{path: ["{service}", "{a}"]}}' for a in assets)
    launched = graphql(
        port,
        f"mutation {{ launchPipelineExecution(executionParams: {{ selector: {{{SELECTOR}, "
        f'pipelineName: "{job}", assetSelection: [{selection}]}}, mode: "default", '
        f'executionMetadata: {{tags: [{{key: "dagster/partition", value: "{partition}"}}]}} }}) '
        "{ __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }",
    )["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def run(port: int, run_id: str) -> dict:
    """The run as the UI's run page has it: status and tags."""
    return graphql(
        port, f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status tags {{ key value }} }} }} }}'
    )["runOrError"]


def finished(port: int, run_id: str, timeout: float = 900) -> str:
    """The run's final status, once it has one."""
    return wait_for(
        f"run {run_id} to finish",
        lambda: (s := run(port, run_id)["status"]) in ("SUCCESS", "FAILURE", "CANCELED") and s,
        timeout=timeout,
        every=2,
    )


def run_messages(port: int, run_id: str) -> list[str]:
    """The run's log as the UI's run page shows it."""
    events = graphql(
        port,
        f'{{ logsForRun(runId: "{run_id}") {{ ... on EventConnection {{ events {{ ... on MessageEvent '
        "{ message } } } } }",
    )["logsForRun"]["events"]
    return [event["message"] for event in events if event]


def pool_holders(port: int, pool: str) -> set[str]:
    """The runs holding or waiting for a place in ``pool``, as the UI's pools page lists them."""
    info = graphql(
        port,
        f'{{ instance {{ concurrencyLimit(concurrencyKey: "{pool}") '
        "{ claimedSlots { runId } pendingSteps { runId } } } }",
    )["instance"]["concurrencyLimit"]
    return {slot["runId"] for slot in info["claimedSlots"] + info["pendingSteps"]}


def test_compose_up_loads_a_month_recovers_a_killed_run_and_leaves_nothing(tmp_path: Path) -> None:
    require_engine()
    assert leftovers() == {"containers": [], "volumes": [], "networks": []}, (
        "a taxi-assets stack is in podman already: the test would share its volumes; take it down first"
    )
    secret = ["--secret", f"id=pip-ca,src={CA_BUNDLE}"] if CA_BUNDLE.exists() else []
    took = build(
        POSTGRES_IMAGE, REPO / "taxi_assets_tests" / "compose" / "postgres", tmp_path / "postgres-build.log"
    )
    print(f"PostgreSQL stand-in built in {took:.0f} s")
    took = build(IMAGE, REPO, tmp_path / "build.log", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", *secret)
    print(f"image built in {took:.0f} s")

    with compose_stack(tmp_path) as stack:
        port = stack.web_port

        def location_loaded() -> bool:
            try:
                entries = graphql(port, LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
            except OSError:
                return False
            return bool(entries) and entries[0]["loadStatus"] == "LOADED"

        wait_for("the web server to load the code location", location_loaded, timeout=300, every=2)
        [entry] = graphql(port, LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry

        stop_automation(port)

        january = stack.source.publish("yellow", "2021-01")
        february = stack.source.publish("yellow", "2021-02")

        # A month, then its days as one backfill, each run in a container of its own.
        month_run = launch(port, MONTHLY, "yellow", "2021-01")
        assert finished(port, month_run) == "SUCCESS", (
            "the month's run failed (compose.log has the stack's logs)"
        )
        days = [f"2021-01-{d:02d}" for d in range(1, 32)]
        backfill_id = launch_partition_backfill(port, days, [["yellow", a] for a in DAILY])
        [day_run] = wait_for(
            "the backfill's run",
            lambda: runs_tagged(port, "dagster/backfill", backfill_id),
            timeout=300,
            every=2,
        )
        assert finished(port, day_run["runId"]) == "SUCCESS"

        expected = course_cleaning(january, "yellow", "2021-01")
        per_day = rows_per_pickup_day(expected, "yellow")
        assert list(lake_days(stack.lake_volume / "lake", "yellow")) == [f"pickup_date={d}" for d in days]
        assert warehouse_rows_per_day(stack.lake_volume / "warehouse.duckdb", "yellow") == per_day
        months = postgres_months(stack.postgres, "yellow")
        assert months["2021-01"][0] == len(expected)

        # A run's container killed while it loads February into PostgreSQL: a reader holding the
        # table keeps the load waiting in its step, with the pool's place.
        table = stack.postgres.table(postgres_table("yellow"))
        with stack.postgres.connect() as reader, reader.cursor() as lock:
            lock.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            killed = launch(port, MONTHLY, "yellow", "2021-02")
            wait_for(
                "February's load to wait for the table",
                lambda: connections_on_schema(stack.postgres, "wait_event_type = 'Lock'"),
                timeout=600,
            )
            if POOL_GRANULARITY == "op":  # with "run", a run's place is its being in progress
                assert pool_holders(port, "postgres") == {killed}
            tags = {t["key"]: t["value"] for t in run(port, killed)["tags"]}
            podman("kill", tags["docker/container_id"])
            reader.rollback()
        began = time.monotonic()
        assert finished(port, killed, timeout=300) == "FAILURE"
        print(f"the daemon failed the killed run after {time.monotonic() - began:.0f} s")
        # The run's log in the UI says who failed it and why: the daemon's run monitoring.
        assert [m for m in run_messages(port, killed) if "Detected run worker status" in m]
        wait_for(
            "the killed run's pool place to be freed",
            lambda: killed not in pool_holders(port, "postgres"),
            timeout=300,
            every=2,
        )
        # The retry needs the same place in the pool (one writer at a time), so its success also
        # shows the place given back, whatever the pools' granularity.
        [retry] = wait_for(
            "the daemon to retry the killed run",
            lambda: runs_tagged(port, "dagster/parent_run_id", killed),
            timeout=300,
            every=2,
        )
        assert finished(port, retry["runId"]) == "SUCCESS"
        after = postgres_months(stack.postgres, "yellow")
        assert after["2021-02"][0] == len(course_cleaning(february, "yellow", "2021-02")), (
            "February landed once"
        )
        assert after["2021-01"] == months["2021-01"]
        assert pool_holders(port, "postgres") == set()
        ids = stack.container_ids
        # Each run's container removes itself as it exits (auto_remove), a moment after its run is
        # reported ended: until then `docker compose down` cannot remove the network it is on.
        wait_for(
            "the runs' containers to remove themselves",
            lambda: not podman("ps", "-a", "--filter", "label=dagster/run_id", "--quiet").split(),
            timeout=120,
            every=1,
        )

    assert leftovers() == {"containers": [], "volumes": [], "networks": []}
    # No process of any of the stack's containers (their conmon monitors name them) lives on.
    running = [p.read_bytes() for p in Path("/proc").glob("[0-9]*/cmdline") if p.exists()]
    assert not [c for c in running for i in ids if i.encode() in c]
