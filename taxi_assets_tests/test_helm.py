"""Dagster on Kubernetes, as deploy/helm/values.yaml configures Dagster's chart, checked as far as a
machine without a cluster, Google or helm allows: the instance the chart would render is built by
Dagster from that dagster.yaml (storage on the test PostgreSQL, run logs on the GCS emulator, the
Kubernetes run launcher constructed but never reaching a cluster), and the code server is started
with the chart's own command and loaded by a web server.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
import yaml
from dagster import DagsterInstance, QueuedRunCoordinator
from dagster_gcp.gcs.compute_log_manager import GCSComputeLogManager
from dagster_k8s import K8sRunLauncher
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

from taxi_assets.resources.postgres import PostgresResource
from taxi_assets_tests.support import REPO, helm_chart
from taxi_assets_tests.support.cli import code_server_with_web_ui, env_example_names, env_for
from taxi_assets_tests.support.google import GcsEmulator
from taxi_assets_tests.support.source_server import SourceServer
from taxi_assets_tests.support.terraform import GKE, default

VALUES = helm_chart.values()


@pytest.fixture
def chart_logs_bucket(gcs_server: str) -> Iterator[GcsEmulator]:
    """The chart's run-log bucket, by the name its values give it, on this test process's emulator;
    removed afterwards, as the next test of the chart creates it again.
    """
    bucket = helm_chart.instance_yaml(VALUES)["compute_logs"]["config"]["bucket"]
    emulator = GcsEmulator(endpoint=gcs_server, bucket=bucket)
    created = emulator.client().create_bucket(bucket)
    yield emulator
    created.delete(force=True)


DEPLOYMENT = helm_chart.code_deployment(VALUES)
BIN = Path(sys.executable).parent

# Settings the code reads that the Kubernetes deployment leaves unset on purpose, and why.
NOT_IN_KUBERNETES = {
    "GOOGLE_SERVICE_ACC_KEY_FILEPATH": "Workload Identity gives the pods Google credentials: no key file",
    "GOOGLE_APPLICATION_CREDENTIALS": "Workload Identity gives the pods Google credentials: no key file",
    "GCS_ENDPOINT_URL": "a GCS emulator, for local tests",
    "BIGQUERY_EMULATOR_HOST": "a BigQuery emulator, for local tests",
    "DUCKDB_DATABASE": "the warehouse is BigQuery (TAXI_WAREHOUSE); a DuckDB file would die with its pod",
    "DUCKDB_SCHEMA": "the warehouse is BigQuery (TAXI_WAREHOUSE)",
    "DAGSTER_POSTGRES_HOST": "Dagster's storage is the chart's postgresql section (instance ConfigMap)",
    "DAGSTER_POSTGRES_PORT": "Dagster's storage is the chart's postgresql section (instance ConfigMap)",
    "DAGSTER_POSTGRES_USER": "Dagster's storage is the chart's postgresql section (instance ConfigMap)",
    "DAGSTER_POSTGRES_PASSWORD": "the chart's secret global.postgresqlSecretName, as DAGSTER_PG_PASSWORD",
    "DAGSTER_POSTGRES_DB": "Dagster's storage is the chart's postgresql section (instance ConfigMap)",
    "DAGSTER_WEBSERVER_BIND": "docker compose's port mapping; the chart's Service is ClusterIP",
    "DAGSTER_WEBSERVER_PORT": "docker compose's port mapping; the chart's Service is ClusterIP",
    "GCP_KEYS_DIR": "docker compose's key mount: no key file in the cluster",
    "GCP_KEY_FILE": "docker compose's key mount: no key file in the cluster",
    "DOCKER_SOCKET": "docker compose's engine socket for its DockerRunLauncher; the chart's runs are Jobs",
    "XDG_RUNTIME_DIR": "read only for the demo's throwaway PostgreSQL; the cluster's is Cloud SQL",
}
# How the code reads a setting: a field's setting("X", …), env("X", …) or env_int, is_set("X"),
# dg.EnvVar(…), os.environ / env.
READS = re.compile(
    r"""(?:\b(?:setting|env|env_int|is_set)|EnvVar|environ\.get|getenv|env\.get)\(\s*"([A-Z][A-Z0-9_]+)"|environ\["([A-Z][A-Z0-9_]+)"\]"""
)
# Names held in constants and read through them (e.g. EMULATOR_SETTING = "BIGQUERY_EMULATOR_HOST").
CONSTANTS = re.compile(r"""^[A-Z_]*(?:SETTING|REQUIRED)[A-Z_]*\s*=\s*(.+)$""", re.MULTILINE)


def settings_the_code_reads() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "taxi_assets").rglob("*.py"):
        text = path.read_text()
        names |= {a or b for a, b in READS.findall(text)}
        for value in CONSTANTS.findall(text):
            names |= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', value))
    return names


def secret_keys() -> set[str]:
    """The keys the docs' command puts in the pods' secret, from deploy/helm/secrets.env.example."""
    text = (REPO / "deploy" / "helm" / "secrets.env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_every_setting_the_code_reads_is_provided_to_the_code_server_and_runs() -> None:
    read = settings_the_code_reads() | env_example_names()
    assert {"TAXI_LAKE_URI", "GCP_PROJECT", "POSTGRES_PASSWORD"} <= read  # the scan finds them
    provided = set(DEPLOYMENT["env"]) | secret_keys()
    if VALUES["global"]["dagsterHome"]:
        provided.add("DAGSTER_HOME")  # the chart sets it in every pod from global.dagsterHome
    assert [s["name"] for s in DEPLOYMENT["envSecrets"]] == ["taxi-assets-secrets"]
    # Runs get the code server's ConfigMap and secret only through the container context.
    assert DEPLOYMENT["includeConfigInLaunchedRuns"]["enabled"] is True
    missing = read - provided - set(NOT_IN_KUBERNETES)
    assert not missing, (
        f"set these in deploy/helm/values.yaml (or say why not in NOT_IN_KUBERNETES): {missing}"
    )
    assert not provided & set(NOT_IN_KUBERNETES)
    assert "POSTGRES_PASSWORD" not in DEPLOYMENT["env"], "a password belongs in the secret, not a ConfigMap"
    assert DEPLOYMENT["env"]["TAXI_LAKE_URI"].startswith("gs://")
    assert DEPLOYMENT["env"]["TAXI_WAREHOUSE"] == "bigquery"


def repo_queue_limits() -> tuple[dict, dict]:
    """dagster.yaml's run limits (under concurrency.runs, run_queue or the run coordinator) and pools."""
    instance = yaml.safe_load((REPO / "dagster.yaml").read_text())
    concurrency = instance.get("concurrency") or {}
    runs = concurrency.get("runs") or instance.get("run_queue") or instance["run_coordinator"].get("config")
    return runs, concurrency.get("pools") or {}


# What `terraform output -json` gives gke_values.py, as a real apply would (values of both modules).
OUTPUTS = {
    "lake_uri": "gs://p-lake/lake",
    "bigquery_dataset": "ny_taxi",
    "location": "EU",
    "project": "p",
    "image": "europe-west1-docker.pkg.dev/p/taxi-assets/taxi-assets",
    "database_host": "10.1.2.3",
    "database_user": "taxi",
    "logs_bucket": "p-logs",
    "pipeline_service_account": "taxi-assets@p.iam.gserviceaccount.com",
    "kubernetes_service_account": "taxi-assets",
    "database_password": "pw-never-in-values",
    "max_concurrent_runs": int(default(GKE, "max_concurrent_runs")),
}


def run_gke_values(tmp_path: Path, tag: str, **outputs: object) -> subprocess.CompletedProcess:
    """deploy/helm/gke_values.py as deploy/gke.sh runs it, on `terraform output -json` files."""
    path = tmp_path / "outputs.json"
    typed = {k: {"value": v, "type": "string", "sensitive": False} for k, v in {**OUTPUTS, **outputs}.items()}
    path.write_text(json.dumps(typed))
    script = REPO / "deploy" / "helm" / "gke_values.py"
    return subprocess.run(
        [sys.executable, str(script), "--tag", tag, str(path)], capture_output=True, text=True, check=True
    )


@pytest.mark.processes
@pytest.mark.parametrize("runs", [OUTPUTS["max_concurrent_runs"], 20])
def test_the_gke_queue_follows_terraforms_one_value(tmp_path: Path, runs: int) -> None:
    """max_concurrent_runs (terraform/gke) sets both limits of the queue on GKE, with the rule of
    dagster.yaml: a backfill takes all but BACKFILL_HEADROOM runs. values.yaml shows the default.
    """
    override = helm_chart.helm_load(run_gke_values(tmp_path, "abc1234", max_concurrent_runs=runs).stdout)
    rendered = helm_chart.instance_yaml(helm_chart.helm_merge(VALUES, override))
    headroom = helm_chart.gke_values().BACKFILL_HEADROOM
    assert rendered["concurrency"]["runs"] == {
        "max_concurrent_runs": runs,
        "tag_concurrency_limits": [{"key": "dagster/backfill", "limit": runs - headroom}],
    }
    repo_runs, pools = repo_queue_limits()
    [repo_backfills] = repo_runs["tag_concurrency_limits"]
    assert repo_backfills["limit"] == repo_runs["max_concurrent_runs"] - headroom
    assert rendered["concurrency"]["pools"] == pools  # one run writing the warehouse, as locally
    assert rendered["run_coordinator"]["class"] == "QueuedRunCoordinator"
    # Dagster refuses limits both in the coordinator's config and in `concurrency`.
    assert "config" not in rendered["run_coordinator"]


@pytest.mark.processes
def test_the_values_show_terraforms_default_limits(tmp_path: Path) -> None:
    override = helm_chart.helm_load(run_gke_values(tmp_path, "abc1234").stdout)
    assert VALUES["concurrency"]["runs"] == override["concurrency"]["runs"]


@pytest.mark.processes
@pytest.mark.parametrize("tag", ["1234e56", "0128000", "1234567", "0123456", "abc1234"])
def test_the_image_tag_is_a_string_however_the_commit_hash_falls(tmp_path: Path, tag: str) -> None:
    """Every short hash is a string to Helm, which types plain scalars with go-yaml (1234e56 is a
    float, 0128000 too, 1234567 an integer, 0123456 an octal one), and to PyYAML's YAML 1.1.
    """
    text = run_gke_values(tmp_path, tag).stdout
    for reading in (helm_chart.helm_load(text), yaml.safe_load(text)):
        [deployment] = reading["dagster-user-deployments"]["deployments"]
        for image in (
            reading["dagsterWebserver"]["image"],
            reading["dagsterDaemon"]["image"],
            deployment["image"],
        ):
            assert image["tag"] == tag and isinstance(image["tag"], str), image
        # Every string Terraform gave is still that string to Helm.
        assert deployment["env"]["POSTGRES_HOST"] == OUTPUTS["database_host"]
        assert reading["global"]["serviceAccountName"] == OUTPUTS["kubernetes_service_account"]


def code_server_home(home: Path, instance: dict) -> Path:
    """DAGSTER_HOME as the code-server pod has it: the image's (the Dockerfile copies compose's
    dagster.yaml there), with the deployment's volume mounts over it; a mount of the chart's
    instance ConfigMap is ``instance``.
    """
    dockerfile = (REPO / "Dockerfile").read_text()
    [image_home] = re.findall(r"DAGSTER_HOME=(\S+)", dockerfile)
    assert (
        "COPY deploy/compose/dagster.yaml" in dockerfile and 'cp dagster.yaml "$DAGSTER_HOME/' in dockerfile
    )
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "deploy" / "compose" / "dagster.yaml").read_text())
    assert VALUES["global"]["dagsterHome"] == image_home
    volumes = {volume["name"]: volume for volume in DEPLOYMENT.get("volumes") or []}
    for mount in DEPLOYMENT.get("volumeMounts") or []:
        config_map = volumes[mount["name"]]["configMap"]["name"]
        assert config_map == helm_chart.instance_config_map(), "only the chart's instance is mounted"
        path = Path(mount["mountPath"])
        assert path.parent == Path(image_home) and mount["subPath"] == path.name == "dagster.yaml"
        (home / path.name).write_text(yaml.safe_dump(instance))
    return home


def write_instance(home: Path, instance: dict, postgres: PostgresResource, database: str) -> None:
    """The chart's dagster.yaml in ``home``, its PostgreSQL pointed at the test server (Cloud SQL's
    stand-in), everything else as rendered.
    """
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        instance[key]["config"]["postgres_db"] |= {
            "hostname": postgres.host,
            "port": postgres.port,
            "username": postgres.user,
            "db_name": database,
        }
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance))


def test_dagster_builds_the_charts_instance_from_these_values(
    tmp_path: Path,
    postgres_server: PostgresResource,
    dagster_database: str,
    chart_logs_bucket: GcsEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every section through Dagster's own config schemas and constructors. Stand-ins: the test
    PostgreSQL for Cloud SQL, the GCS emulator for the logs bucket, and kubernetes' in-cluster
    credentials loader, replaced by a no-op (no cluster here): the K8sRunLauncher is built from the
    rendered config but never launches anything.
    """
    instance_config = helm_chart.instance_yaml(VALUES)
    write_instance(tmp_path / "home", instance_config, postgres_server, dagster_database)
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", postgres_server.password)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", chart_logs_bucket.endpoint)
    monkeypatch.setattr(kubernetes.config, "load_incluster_config", lambda *args, **kwargs: None)

    with DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert instance.get_runs() == []

        launcher = instance.run_launcher
        assert isinstance(launcher, K8sRunLauncher)
        k8s = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
        assert launcher.resources == k8s["resources"]
        # A month in bounded memory (about 0.6 GB at any size): 1 GiB asked for, killed at 2 GiB.
        assert k8s["resources"]["requests"]["memory"] == "1Gi"
        assert k8s["resources"]["limits"]["memory"] == "2Gi"
        assert launcher.service_account_name == VALUES["global"]["serviceAccountName"]
        assert launcher.job_namespace == helm_chart.NAMESPACE

        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        # What the daemon's queue reads: the values' limits (Terraform's default) and dagster.yaml's pools.
        runs = VALUES["concurrency"]["runs"]
        _, pools = repo_queue_limits()
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.max_concurrent_runs == runs["maxConcurrentRuns"]
        limits = concurrency.run_queue_config.tag_concurrency_limits
        assert [dict(limit) for limit in limits] == runs["tagConcurrencyLimits"]
        assert concurrency.pool_config.default_pool_limit == pools["default_limit"]
        assert concurrency.pool_config.pool_granularity.value == pools["granularity"]

        logs = instance.compute_log_manager
        assert isinstance(logs, GCSComputeLogManager)
        assert instance.run_monitoring_enabled
        # A run whose pod died is launched again, at most twice; one that failed in its code is not.
        assert instance.run_retries_enabled
        assert instance.run_retries_max_retries == 2
        assert instance.run_retries_retry_on_asset_or_op_failure is False


def test_the_code_server_pod_loads_the_charts_instance(
    tmp_path: Path,
    postgres_server: PostgresResource,
    dagster_database: str,
    chart_logs_bucket: GcsEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The instance Dagster builds in the code-server pod, from DAGSTER_HOME as the pod has it (the
    image's file with the values' mounts over it) and the pod's environment: the chart's, with its
    storage and run launcher, not the image's compose instance (DockerRunLauncher, storage from
    DAGSTER_POSTGRES_*, which the pod has not). Stand-ins as in the test above.
    """
    instance_config = helm_chart.instance_yaml(VALUES)
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        instance_config[key]["config"]["postgres_db"] |= {
            "hostname": postgres_server.host,
            "port": postgres_server.port,
            "username": postgres_server.user,
            "db_name": dagster_database,
        }
    home = code_server_home(tmp_path / "home", instance_config)
    for name in [name for name in os.environ if name.startswith("DAGSTER_POSTGRES_")]:
        monkeypatch.delenv(name)  # the pod's environment has none
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", postgres_server.password)  # the chart sets it in the pod
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", chart_logs_bucket.endpoint)
    monkeypatch.setattr(kubernetes.config, "load_incluster_config", lambda *args, **kwargs: None)

    with DagsterInstance.get() as instance:
        assert isinstance(instance.run_launcher, K8sRunLauncher)
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.compute_log_manager, GCSComputeLogManager)


def test_no_public_endpoint_and_no_key_file_in_the_values() -> None:
    assert VALUES["dagsterWebserver"]["service"]["type"] == "ClusterIP"
    assert not VALUES["ingress"]["enabled"]
    assert VALUES["dagsterWebserver"]["service"]["port"] > 1024  # non-root
    assert "iam.gke.io/gcp-service-account" in VALUES["serviceAccount"]["annotations"]

    def every_value(node: object) -> list:
        if isinstance(node, dict):
            return [value for child in node.values() for value in every_value(child)]
        if isinstance(node, list):
            return [value for child in node for value in every_value(child)]
        return [node]

    assert not {"LoadBalancer", "NodePort"} & set(map(str, every_value(VALUES)))
    assert not {"GOOGLE_SERVICE_ACC_KEY_FILEPATH", "GOOGLE_APPLICATION_CREDENTIALS"} & set(DEPLOYMENT["env"])


def test_one_image_everywhere_and_the_kubernetes_names_match_terraform() -> None:
    images = {
        VALUES["dagsterWebserver"]["image"]["repository"],
        VALUES["dagsterDaemon"]["image"]["repository"],
        DEPLOYMENT["image"]["repository"],
    }
    assert len(images) == 1
    variables = (REPO / "terraform" / "gke" / "variables.tf").read_text()

    def default(name: str) -> str:
        return re.search(rf'variable "{name}" {{.*?default\s*=\s*"([^"]+)"', variables, re.DOTALL).group(1)

    assert default("kubernetes_service_account") == VALUES["global"]["serviceAccountName"]
    assert default("kubernetes_namespace") == helm_chart.NAMESPACE


@pytest.mark.processes
def test_gke_values_fill_in_terraforms_outputs(tmp_path: Path) -> None:
    """Both modules' outputs, each in its own file as deploy/gke.sh passes them."""
    base = {name: OUTPUTS[name] for name in ("lake_uri", "bigquery_dataset", "location")}
    gke = {name: value for name, value in OUTPUTS.items() if name not in base}
    files = []
    for name, outputs in (("base", base), ("gke", gke)):
        path = tmp_path / f"{name}.json"
        path.write_text(
            json.dumps({k: {"value": v, "type": "string", "sensitive": False} for k, v in outputs.items()})
        )
        files.append(str(path))
    script = REPO / "deploy" / "helm" / "gke_values.py"
    result = subprocess.run(
        [sys.executable, str(script), "--tag", "abc123", *files], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    override = helm_chart.helm_load(result.stdout)
    assert "pw-never-in-values" not in result.stdout
    [deployment] = override["dagster-user-deployments"]["deployments"]
    image = {"repository": gke["image"], "tag": "abc123"}
    assert override["dagsterWebserver"]["image"] == override["dagsterDaemon"]["image"] == image
    assert deployment["image"] == {**DEPLOYMENT["image"], **image}
    assert deployment["env"] == {
        **DEPLOYMENT["env"],
        "GCP_PROJECT": "p",
        "TAXI_LAKE_URI": "gs://p-lake/lake",
        "BIGQUERY_DATASET": "ny_taxi",
        "GOOGLE_LOCATION": "EU",
        "POSTGRES_HOST": "10.1.2.3",
        "POSTGRES_USER": "taxi",
    }
    # Helm replaces lists: the entry must be whole.
    assert {k: v for k, v in deployment.items() if k not in ("image", "env")} == {
        k: v for k, v in DEPLOYMENT.items() if k not in ("image", "env")
    }
    assert override["postgresql"]["postgresqlHost"] == "10.1.2.3"
    assert (
        override["serviceAccount"]["annotations"]["iam.gke.io/gcp-service-account"]
        == gke["pipeline_service_account"]
    )


@pytest.mark.processes
def test_the_code_server_as_the_chart_runs_it_serves_the_web_ui(
    tmp_path: Path,
    source_server: SourceServer,
    postgres_server: PostgresResource,
    dagster_database: str,
    chart_logs_bucket: GcsEmulator,
) -> None:
    """The user-code container's command, on loopback, with DAGSTER_HOME holding the chart's
    dagster.yaml (storage on the test PostgreSQL, run logs on the GCS emulator). The one change: no
    run launcher, so Dagster's default stands in for the K8sRunLauncher, which needs a cluster
    (validated in the test above). Then the image's health check, for both processes.
    """
    command = helm_chart.code_server_command(DEPLOYMENT)
    assert command[:3] == ["dagster", "code-server", "start"]
    instance = helm_chart.instance_yaml(VALUES)
    del instance["run_launcher"]
    home = tmp_path / "home"
    write_instance(tmp_path / "chart", instance, postgres_server, dagster_database)
    code_server_home(home, yaml.safe_load((tmp_path / "chart" / "dagster.yaml").read_text()))
    env = {
        **env_for(tmp_path, source_server),
        **DEPLOYMENT["env"],
        # What Google and the secret would give, here on loopback.
        "TAXI_SOURCE_URL_TEMPLATE": source_server.url_template,
        "TAXI_LAKE_URI": str(tmp_path / "lake"),
        "TAXI_WAREHOUSE": "duckdb",
        "GCP_PROJECT": "taxi-test",
        "POSTGRES_HOST": postgres_server.host,
        "POSTGRES_PASSWORD": postgres_server.password,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_PASSWORD": postgres_server.password,
        "STORAGE_EMULATOR_HOST": chart_logs_bucket.endpoint,
        "PATH": f"{BIN}:{os.environ['PATH']}",  # as the image's PATH finds dagster
    }
    with code_server_with_web_ui(command, env, tmp_path) as served:
        assert served.location["locationOrLoadError"]["__typename"] == "RepositoryLocation", served.location
        [repository] = served.location["locationOrLoadError"]["repositories"]
        assert repository["assetNodes"]

        healthcheck = [sys.executable, str(REPO / "deploy" / "healthcheck.py")]
        for process in (served.code_server, served.webserver):
            result = subprocess.run([*healthcheck, str(process.pid)], env=env, capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
