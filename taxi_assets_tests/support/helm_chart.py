"""What Dagster's Helm chart (1.13) makes of deploy/helm/values.yaml, for the parts the tests need,
read off the chart's templates: the instance ConfigMap's dagster.yaml
(templates/configmap-instance.yaml and templates/helpers/instance/*.tpl), the web server's
container (templates/helpers/_deployment-webserver.tpl, the command in _helpers.tpl) and the code
server's command (charts/dagster-user-deployments/templates/deployment-user.yaml). No helm binary or chart
is available here; this stands in for `helm template`, for the sections this project sets.
"""

import importlib.util
import re
from types import ModuleType
from typing import Any

import yaml

from taxi_assets_tests.support import REPO

VALUES_FILE = REPO / "deploy" / "helm" / "values.yaml"
# docs/google-cloud.md: `helm upgrade --install dagster dagster/dagster -n dagster`. The release name
# contains the chart's name, so the chart's "fullname" is the release name.
RELEASE = "dagster"
NAMESPACE = "dagster"


def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES_FILE.read_text())


def gke_values() -> ModuleType:
    """deploy/helm/gke_values.py, which writes values.gke.yaml from Terraform's outputs."""
    spec = importlib.util.spec_from_file_location("gke_values", VALUES_FILE.with_name("gke_values.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Helm reads values files with sigs.k8s.io/yaml, which types a plain (unquoted) scalar as go-yaml
# v2 does (resolve.go, v2.4.0): YAML 1.1's words for booleans and null; then, for a scalar that
# starts with a sign or a digit, Go's integer syntax (strconv.ParseInt with base 0: 0x, 0b, 0o, and
# a leading 0 for octal) and then any float of the form below, so 1234e56 and 0128000 are numbers
# where PyYAML's YAML 1.1 rules see strings. Timestamps are left out: no value here looks like one.
_GO_YAML_WORDS: dict[str, Any] = {
    **dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], True),
    **dict.fromkeys(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], False),
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], None),
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], float("inf")),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], float("-inf")),
}
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def _go_int(sign: str, digits: str) -> int:
    bases = {"0x": 16, "0X": 16, "0b": 2, "0B": 2, "0o": 8, "0O": 8}
    if digits[:2] in bases:
        number = int(digits[2:], bases[digits[:2]])
    else:
        number = int(digits, 8) if digits.startswith("0") else int(digits)
    return -number if sign == "-" else number


def _plain_scalar(text: str) -> Any:
    """A plain scalar as go-yaml v2 types it."""
    if text in _GO_YAML_WORDS:
        return _GO_YAML_WORDS[text]
    if text[:1] in "+-0123456789":
        plain = text.replace("_", "")
        if (match := _GO_INT.fullmatch(plain)) and -(2**63) <= (number := _go_int(*match.groups())) < 2**64:
            return number
        if _GO_FLOAT.fullmatch(plain):
            return float(plain)
    elif text.startswith(".") and _GO_FLOAT.fullmatch(text):
        return float(text)
    return text


def helm_load(text: str) -> Any:
    """A values file as Helm reads it: quoted and block scalars are strings, plain ones typed by
    go-yaml v2's rules (above), not PyYAML's.
    """

    def value(node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            return {value(key): value(item) for key, item in node.value}
        if isinstance(node, yaml.SequenceNode):
            return [value(item) for item in node.value]
        return node.value if node.style else _plain_scalar(node.value)

    return value(yaml.compose(text))


def code_deployment(chart_values: dict[str, Any]) -> dict[str, Any]:
    [deployment] = chart_values["dagster-user-deployments"]["deployments"]
    return deployment


def code_server_command(deployment: dict[str, Any]) -> list[str]:
    """The user-code container's args, as deployment-user.yaml writes them."""
    port = str(deployment["port"])
    if deployment.get("dagsterApiGrpcArgs"):
        return ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", port, *deployment["dagsterApiGrpcArgs"]]
    return ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", port, *deployment["codeServerArgs"]]


def instance_config_map() -> str:
    """The instance ConfigMap's name: templates/configmap-instance.yaml, <fullname>-instance."""
    return f"{RELEASE}-instance"


def workspace(v: dict[str, Any]) -> list[dict[str, Any]]:
    """The grpc_server entries of the chart's workspace.yaml (templates/configmap-workspace.yaml):
    dagsterWebserver.workspace.servers when enabled (location_name from `name`), else one per
    code deployment, named after it.
    """
    configured = v["dagsterWebserver"].get("workspace") or {}
    if configured.get("enabled"):
        return [
            {"host": s["host"], "port": s["port"], "location_name": s.get("name") or s["host"]}
            for s in configured["servers"]
        ]
    deployments = v["dagster-user-deployments"]["deployments"]
    return [{"host": d["name"], "port": d["port"], "location_name": d["name"]} for d in deployments]


def _postgres(v: dict[str, Any]) -> dict[str, Any]:
    pg = v["postgresql"]
    config: dict[str, Any] = {
        "username": pg["postgresqlUsername"],
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": pg["postgresqlHost"],
        "db_name": pg["postgresqlDatabase"],
        "port": pg["service"]["port"],
        "params": pg.get("postgresqlParams") or {},
    }
    if pg.get("postgresqlScheme"):
        config["scheme"] = pg["postgresqlScheme"]
    return {"postgres_db": config}


def _set_ones(section: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Those of the chart ``section``'s keys that are set (the templates render a key only then), under
    Dagster's ``names``.
    """
    return {name: section[key] for key, name in names.items() if section.get(key)}


def _k8s_run_launcher(v: dict[str, Any]) -> dict[str, Any]:
    k8s = v["runLauncher"]["config"]["k8sRunLauncher"]
    config: dict[str, Any] = {
        "load_incluster_config": k8s["loadInclusterConfig"],
        "job_namespace": k8s.get("jobNamespace") or NAMESPACE,
        "image_pull_policy": k8s["imagePullPolicy"],
        "service_account_name": v["global"]["serviceAccountName"],
        "dagster_home": v["global"]["dagsterHome"],
        "instance_config_map": instance_config_map(),
        "postgres_password_secret": v["global"]["postgresqlSecretName"],
    }
    if k8s.get("kubeconfigFile"):
        config["kubeconfig_file"] = k8s["kubeconfigFile"]
    if v.get("imagePullSecrets"):
        config["image_pull_secrets"] = v["imagePullSecrets"]
    if "image" in k8s:
        config["job_image"] = f"{k8s['image']['repository']}:{k8s['image']['tag']}"
    for key, name in (
        ("envConfigMaps", "env_config_maps"),
        ("envSecrets", "env_secrets"),
    ):
        if k8s.get(key):
            config[name] = [source["name"] for source in k8s[key] if "name" in source]
    config |= _set_ones(
        k8s,
        {
            "envVars": "env_vars",
            "volumeMounts": "volume_mounts",
            "volumes": "volumes",
            "labels": "labels",
            "resources": "resources",
            "schedulerName": "scheduler_name",
            "securityContext": "security_context",
        },
    )
    if k8s.get("failPodOnRunFailure"):
        config["fail_pod_on_run_failure"] = True
    run_k8s = k8s.get("runK8sConfig") or {}
    parts = {
        "containerConfig": "container_config",
        "podSpecConfig": "pod_spec_config",
        "podTemplateSpecMetadata": "pod_template_spec_metadata",
        "jobSpecConfig": "job_spec_config",
        "jobMetadata": "job_metadata",
    }
    if run_k8s:
        config["run_k8s_config"] = {parts[key]: part for key, part in run_k8s.items() if part}
    return {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": config}


def _queued_run_coordinator(v: dict[str, Any]) -> dict[str, Any]:
    queued = v["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    coordinator: dict[str, Any] = {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator"}
    # The template's `compact (values …)`: only a non-empty field renders a config block.
    if any(queued.values()):
        max_runs = queued.get("maxConcurrentRuns")
        config: dict[str, Any] = {"max_concurrent_runs": -1 if max_runs is None else max_runs}
        if queued.get("tagConcurrencyLimits"):
            config["tag_concurrency_limits"] = queued["tagConcurrencyLimits"]
        config |= _set_ones(
            queued,
            {
                "dequeueIntervalSeconds": "dequeue_interval_seconds",
                "dequeueUseThreads": "dequeue_use_threads",
                "dequeueNumWorkers": "dequeue_num_workers",
            },
        )
        coordinator["config"] = config
    return coordinator


def _gcs_compute_logs(v: dict[str, Any]) -> dict[str, Any]:
    gcs = v["computeLogManager"]["config"]["gcsComputeLogManager"]
    config: dict[str, Any] = {"bucket": gcs["bucket"]}
    config |= _set_ones(
        gcs,
        {
            "localDir": "local_dir",
            "prefix": "prefix",
            "jsonCredentialsEnvvar": "json_credentials_envvar",
            "uploadInterval": "upload_interval",
            "showUrlOnly": "show_url_only",
        },
    )
    module = "dagster_gcp.gcs.compute_log_manager"
    return {"module": module, "class": "GCSComputeLogManager", "config": config}


def _concurrency(v: dict[str, Any]) -> dict[str, Any]:
    pools, runs = v["concurrency"].get("pools") or {}, v["concurrency"].get("runs") or {}
    rendered: dict[str, Any] = {}
    pool_keys = {
        "defaultLimit": "default_limit",
        "granularity": "granularity",
        "opGranularityRunBuffer": "op_granularity_run_buffer",
    }
    pools = {name: pools[key] for key, name in pool_keys.items() if pools.get(key) is not None}
    if pools:
        rendered["pools"] = pools
    if runs.get("maxConcurrentRuns") is not None or runs.get("tagConcurrencyLimits"):
        rendered["runs"] = {}
        if runs.get("maxConcurrentRuns") is not None:
            rendered["runs"]["max_concurrent_runs"] = runs["maxConcurrentRuns"]
        if runs.get("tagConcurrencyLimits"):
            rendered["runs"]["tag_concurrency_limits"] = runs["tagConcurrencyLimits"]
    return rendered


def instance_yaml(v: dict[str, Any]) -> dict[str, Any]:
    """The dagster.yaml of the chart's instance ConfigMap, for these values."""
    assert v["scheduler"]["type"] == "DagsterDaemonScheduler"
    assert v["runLauncher"]["type"] == "K8sRunLauncher"
    assert v["computeLogManager"]["type"] == "GCSComputeLogManager"
    storage = _postgres(v)
    instance: dict[str, Any] = {
        "scheduler": {"module": "dagster.core.scheduler", "class": "DagsterDaemonScheduler"},
        "schedule_storage": {
            "module": "dagster_postgres.schedule_storage",
            "class": "PostgresScheduleStorage",
            "config": storage,
        },
        "run_launcher": _k8s_run_launcher(v),
        "run_storage": {
            "module": "dagster_postgres.run_storage",
            "class": "PostgresRunStorage",
            "config": storage,
        },
        "event_log_storage": {
            "module": "dagster_postgres.event_log",
            "class": "PostgresEventLogStorage",
            "config": storage,
        },
        "compute_logs": _gcs_compute_logs(v),
        "telemetry": {"enabled": v["telemetry"]["enabled"]},
    }
    daemon = v["dagsterDaemon"]
    if daemon["enabled"] and daemon["runCoordinator"]["enabled"]:
        assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
        instance["run_coordinator"] = _queued_run_coordinator(v)
    monitoring = daemon.get("runMonitoring") or {}
    if daemon["enabled"] and monitoring.get("enabled"):
        instance["run_monitoring"] = {
            "enabled": True,
            "start_timeout_seconds": monitoring["startTimeoutSeconds"],
            "poll_interval_seconds": monitoring["pollIntervalSeconds"],
            "free_slots_after_run_end_seconds": monitoring["freeSlotsAfterRunEndSeconds"],
        }
        if monitoring.get("cancelTimeoutSeconds") is not None:
            instance["run_monitoring"]["cancel_timeout_seconds"] = monitoring["cancelTimeoutSeconds"]
        if monitoring.get("maxResumeRunAttempts") is not None:
            instance["run_monitoring"]["max_resume_run_attempts"] = monitoring["maxResumeRunAttempts"]
    retries = daemon.get("runRetries") or {}
    if daemon["enabled"] and retries.get("enabled"):
        instance["run_retries"] = {"enabled": True}
        if retries.get("maxRetries"):
            instance["run_retries"]["max_retries"] = retries["maxRetries"]
        if retries.get("retryOnAssetOrOpFailure") is not None:
            instance["run_retries"]["retry_on_asset_or_op_failure"] = retries["retryOnAssetOrOpFailure"]
    if v.get("concurrency", {}).get("enabled"):
        instance["concurrency"] = _concurrency(v)
    if v.get("additionalInstanceConfig"):
        instance |= v["additionalInstanceConfig"]
    return instance


# The chart's own values for the web server's probes (values.yaml, dagsterWebserver), which ours
# are merged over: a readiness probe on port 80 whatever the service's port, no liveness or
# startup probe.
CHART_WEBSERVER_PROBES: dict[str, Any] = {
    "readinessProbe": {
        "httpGet": {"path": "/server_info", "port": 80},
        "periodSeconds": 20,
        "timeoutSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    },
    "livenessProbe": {},
    "startupProbe": {"enabled": False},
}


def helm_merge(base: Any, override: Any) -> Any:
    """``override`` over ``base`` as Helm merges values: maps key by key, anything else replaced,
    null removing the key.
    """
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return override
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = helm_merge(base.get(key), value)
    return merged


def webserver_container(v: dict[str, Any]) -> dict[str, Any]:
    """The web server's container as _deployment-webserver.tpl writes it: the port its command
    listens on, the port it opens and its probes (each rendered only when set).
    """
    webserver = helm_merge(CHART_WEBSERVER_PROBES, v["dagsterWebserver"])
    port = webserver["service"]["port"]
    container: dict[str, Any] = {
        "command": [
            "dagster-webserver",
            "-h",
            "0.0.0.0",
            "-p",
            str(port),
            "-w",
            "/dagster-workspace/workspace.yaml",
        ],
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
    }
    for probe in ("readinessProbe", "livenessProbe"):
        if webserver.get(probe):
            container[probe] = webserver[probe]
    if webserver["startupProbe"].get("enabled"):
        container["startupProbe"] = {k: val for k, val in webserver["startupProbe"].items() if k != "enabled"}
    return container


def webserver_service() -> str:
    """The web server's Service: the chart's dagster.webserver.fullname, <release>-webserver."""
    return f"{RELEASE}-webserver"
