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

VALUES = helm_chart.values()
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


def test_the_queue_and_pools_are_dagster_yamls() -> None:
    runs, pools = repo_queue_limits()
    rendered = helm_chart.instance_yaml(VALUES)
    assert rendered["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert rendered["concurrency"]["runs"]["max_concurrent_runs"] == runs["max_concurrent_runs"]
    assert rendered["concurrency"]["runs"]["tag_concurrency_limits"] == runs["tag_concurrency_limits"]
    assert rendered["concurrency"]["pools"] == pools
    # Dagster refuses limits both in the coordinator's config and in `concurrency`.
    assert "config" not in rendered["run_coordinator"]


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
    gcs: GcsEmulator,
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
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.endpoint)
    gcs.client().create_bucket(instance_config["compute_logs"]["config"]["bucket"])
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
        # What the daemon's queue reads: dagster.yaml's limits.
        runs, pools = repo_queue_limits()
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.max_concurrent_runs == runs["max_concurrent_runs"]
        limits = concurrency.run_queue_config.tag_concurrency_limits
        assert [dict(limit) for limit in limits] == runs["tag_concurrency_limits"]
        assert concurrency.pool_config.default_pool_limit == pools["default_limit"]
        assert concurrency.pool_config.pool_granularity.value == pools["granularity"]

        logs = instance.compute_log_manager
        assert isinstance(logs, GCSComputeLogManager)
        assert instance.run_monitoring_enabled
        # A run whose pod died is launched again, at most twice; one that failed in its code is not.
        assert instance.run_retries_enabled
        assert instance.run_retries_max_retries == 2
        assert instance.run_retries_retry_on_asset_or_op_failure is False


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
    base = {"lake_uri": "gs://p-lake/lake", "bigquery_dataset": "ny_taxi", "location": "EU"}
    gke = {
        "project": "p",
        "image": "europe-west1-docker.pkg.dev/p/taxi-assets/taxi-assets",
        "database_host": "10.1.2.3",
        "database_user": "taxi",
        "logs_bucket": "p-logs",
        "pipeline_service_account": "taxi-assets@p.iam.gserviceaccount.com",
        "kubernetes_service_account": "taxi-assets",
        "database_password": "pw-never-in-values",
    }
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
    override = yaml.safe_load(result.stdout)
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
    gcs: GcsEmulator,
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
    write_instance(home, instance, postgres_server, dagster_database)
    gcs.client().create_bucket(instance["compute_logs"]["config"]["bucket"])
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
        "STORAGE_EMULATOR_HOST": gcs.endpoint,
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
