"""What two files of the Google Cloud deployment must agree on, checked equal: ports and probes,
secret names and keys, service accounts and the namespace, Terraform's outputs and who reads them,
the settings in the pods, the image's user and home, and the instance the chart renders against
the repo's dagster.yaml files. Each pair is one a reviewer would otherwise check by eye.
"""

import re
import tomllib

import yaml

from taxi_assets_tests.support import REPO, helm_chart
from taxi_assets_tests.support.terraform import GKE, TERRAFORM, blocks, default, module, output, unquote

VALUES = helm_chart.values()
DEPLOYMENT = helm_chart.code_deployment(VALUES)
SCRIPT = (REPO / "deploy" / "gke.sh").read_text()
GKE_VALUES = (REPO / "deploy" / "helm" / "gke_values.py").read_text()
DOCKERFILE = (REPO / "Dockerfile").read_text()


def script_constant(name: str) -> str:
    return re.search(rf"^{name}=(\S+)$", SCRIPT, flags=re.MULTILINE).group(1)


def exposed_ports() -> set[int]:
    return {
        int(p) for line in re.findall(r"^EXPOSE (.+)$", DOCKERFILE, flags=re.MULTILINE) for p in line.split()
    }


def test_the_web_server_listens_opens_probes_and_is_forwarded_on_one_port() -> None:
    port = VALUES["dagsterWebserver"]["service"]["port"]
    container = helm_chart.webserver_container(VALUES)
    command = container["command"]
    assert int(command[command.index("-p") + 1]) == port
    assert [p["containerPort"] for p in container["ports"]] == [port]
    probes = [container[p] for p in ("readinessProbe", "livenessProbe", "startupProbe") if p in container]
    assert probes, "the web server has a readiness probe"
    for probe in probes:
        assert probe["httpGet"]["port"] == port, probe  # the chart's default probes port 80
    assert int(script_constant("UI_PORT")) == port
    assert port in exposed_ports()


def test_the_code_server_listens_where_the_image_and_the_probe_expect() -> None:
    port = DEPLOYMENT["port"]
    command = helm_chart.code_server_command(DEPLOYMENT)
    assert int(command[command.index("-p") + 1]) == port
    assert port in exposed_ports()
    # No command of our own: the chart's probe runs `dagster api grpc-health-check -p <port>`.
    assert "exec" not in DEPLOYMENT["readinessProbe"]


def test_the_secrets_the_script_creates_are_the_ones_the_chart_reads() -> None:
    from_file = dict(
        re.findall(r"create secret generic ([\w-]+)\s*\\?\s*--from-file=([\w-]+)=/dev/stdin", SCRIPT)
    )
    from_env_file = re.findall(r"create secret generic ([\w-]+)\s*\\?\s*--from-env-file=/dev/stdin", SCRIPT)
    [env_secret] = DEPLOYMENT["envSecrets"]
    example = (REPO / "deploy" / "helm" / "secrets.env.example").read_text()
    keys = re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE)
    # The chart reads the storage password from key postgresql-password (global.postgresqlSecretName).
    assert from_file == {VALUES["global"]["postgresqlSecretName"]: "postgresql-password"}
    # The pods' settings secret: an env file with the example's keys, each printed by the script.
    assert from_env_file == [env_secret["name"]]
    assert re.findall(r"printf '([A-Z_]+)=%s", SCRIPT) == keys
    assert VALUES["generatePostgresqlPasswordSecret"] is False  # ours, not the chart's


def test_one_kubernetes_service_account_and_namespace_everywhere() -> None:
    account = VALUES["global"]["serviceAccountName"]
    assert default(GKE, "kubernetes_service_account") == account
    assert default(GKE, "kubernetes_namespace") == helm_chart.NAMESPACE
    assert VALUES["serviceAccount"]["create"] is True  # the chart makes it, with the annotation below
    launcher = helm_chart.instance_yaml(VALUES)["run_launcher"]["config"]
    assert launcher["service_account_name"] == account  # run pods too
    # The annotation names the pipeline's account: values.yaml's placeholder, gke_values.py's output.
    annotation = VALUES["serviceAccount"]["annotations"]["iam.gke.io/gcp-service-account"]
    assert annotation.startswith(f"{default(TERRAFORM, 'service_account_id')}@")
    assert 'outputs["pipeline_service_account"]' in GKE_VALUES
    assert output(GKE, "kubernetes_service_account") == "${var.kubernetes_service_account}"
    assert output(GKE, "pipeline_service_account") == "${data.google_service_account.pipeline.email}"


def test_every_terraform_output_read_exists_in_the_module_read() -> None:
    base, gke = blocks(TERRAFORM, "output"), blocks(GKE, "output")
    read_by_values = set(re.findall(r'outputs\["(\w+)"\]', GKE_VALUES))
    assert read_by_values and read_by_values <= set(base) | set(gke)
    folders = {"$BASE": base, "$GKE": gke}
    read_by_script = re.findall(r'terraform -chdir="(\$\w+)" output -raw (\w+)', SCRIPT)
    assert read_by_script
    for folder, name in read_by_script:
        assert name in folders[folder], (folder, name)


def test_the_pods_settings_match_what_terraform_makes() -> None:
    env = DEPLOYMENT["env"]
    # gke_values.py replaces settings values.yaml has; it adds none the code server lacks.
    assert set(re.findall(r'^\s+"([A-Z][A-Z0-9_]+)": outputs\[', GKE_VALUES, flags=re.MULTILINE)) <= set(env)
    databases = {unquote(body["name"]) for body in module(GKE)["google_sql_database"].values()}
    postgres = VALUES["postgresql"]
    assert {postgres["postgresqlDatabase"], env["POSTGRES_DBNAME"]} == databases
    assert postgres["postgresqlUsername"] == env["POSTGRES_USER"] == default(GKE, "database_user")
    assert postgres["postgresqlHost"] == env["POSTGRES_HOST"]
    assert int(env["POSTGRES_PORT"]) == postgres["service"]["port"] == 5432  # Cloud SQL's port
    assert env["BIGQUERY_DATASET"] == default(TERRAFORM, "dataset")
    assert env["GOOGLE_LOCATION"] == default(TERRAFORM, "location")
    assert output(TERRAFORM, "lake_uri") == "gs://${google_storage_bucket.lake.name}/lake"
    assert re.fullmatch(r"gs://[a-z0-9-]+/lake", env["TAXI_LAKE_URI"])
    gcs = VALUES["computeLogManager"]["config"]["gcsComputeLogManager"]
    assert output(GKE, "logs_bucket") == "${google_storage_bucket.dagster_logs.name}"
    assert 'outputs["logs_bucket"]' in GKE_VALUES and gcs["bucket"]


def test_the_image_is_the_one_terraform_names_and_runs_as_the_values_user() -> None:
    assert output(GKE, "image") == (
        "${var.region}-docker.pkg.dev/${var.project}/"
        "${google_artifact_registry_repository.images.repository_id}/taxi-assets"
    )
    region, repository = default(GKE, "region"), default(GKE, "image_repository")
    placeholder = f"{region}-docker.pkg.dev/my-gcp-project/{repository}/taxi-assets"
    for part in (VALUES["dagsterWebserver"], VALUES["dagsterDaemon"], DEPLOYMENT):
        assert part["image"]["repository"] == placeholder
    [home] = re.findall(r"DAGSTER_HOME=(\S+)", DOCKERFILE)
    assert VALUES["global"]["dagsterHome"] == home
    [uid] = re.findall(r"useradd [^\n]*--uid (\d+)", DOCKERFILE)
    for context in (
        VALUES["dagsterWebserver"]["podSecurityContext"],
        VALUES["dagsterDaemon"]["podSecurityContext"],
    ):
        assert context["runAsUser"] == int(uid) and context["runAsNonRoot"] is True


def test_the_charts_instance_retries_monitors_and_pools_as_the_repos_instances() -> None:
    """The chart's dagster.yaml against dagster.yaml and deploy/dagster.yaml: the same run retries
    (bounded, not for failures in the run's own code), run monitoring on, the same pools.
    """
    rendered = helm_chart.instance_yaml(VALUES)
    retries = rendered["run_retries"]
    assert retries == {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False}
    for path in (REPO / "dagster.yaml", REPO / "deploy" / "dagster.yaml"):
        instance = yaml.safe_load(path.read_text())
        name = path.relative_to(REPO)
        assert instance.get("run_retries") == retries, f"{name}: run_retries must be {retries}"
        assert instance["run_monitoring"]["enabled"] is rendered["run_monitoring"]["enabled"] is True, name
        assert instance["concurrency"]["pools"] == rendered["concurrency"]["pools"], name
        assert instance["telemetry"] == rendered["telemetry"], name
    assert rendered["concurrency"]["pools"]["granularity"] == "run"


def test_the_script_watches_the_run_pods_by_the_label_the_launcher_puts_on_them() -> None:
    labels = VALUES["runLauncher"]["config"]["k8sRunLauncher"]["labels"]
    [(key, value)] = labels.items()
    assert f"get pods -l {key}={value}" in SCRIPT


def test_the_chart_version_is_the_pinned_dagsters() -> None:
    pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    [version] = [pin.split("==")[1] for pin in pins if pin.startswith("dagster==")]
    header = (REPO / "deploy" / "helm" / "values.yaml").read_text().split("---")[0]
    assert f"version {version}" in header
    assert script_constant("RELEASE") == helm_chart.RELEASE
    assert "CHART_VERSION=$(sed" in SCRIPT and "pyproject.toml" in SCRIPT  # the script reads the same pin


def test_one_code_location_name_everywhere() -> None:
    """The location's name is in run records, schedules' and sensors' selectors and the UI's links:
    GKE's (the chart's workspace) is compose's, the code server's own and the dg project's.
    """
    [server] = helm_chart.workspace(VALUES)
    args = DEPLOYMENT["codeServerArgs"]
    assert server == {
        "host": DEPLOYMENT["name"],  # the code server's Service, named after its deployment
        "port": DEPLOYMENT["port"],
        "location_name": args[args.index("--location-name") + 1],
    }
    [compose] = yaml.safe_load((REPO / "deploy" / "compose" / "workspace.yaml").read_text())["load_from"]
    [local] = yaml.safe_load((REPO / "workspace.yaml").read_text())["load_from"]
    dg = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["dg"]["project"]
    names = {
        server["location_name"],
        compose["grpc_server"]["location_name"],
        local["python_module"]["location_name"],
        dg["code_location_name"],
    }
    assert names == {"taxi_assets"}


def test_a_run_pod_may_take_as_long_to_start_as_helm_waits_for_the_servers() -> None:
    """A run's pod waits for the same things as the servers' pods at `helm --wait` (Autopilot adding
    a node, then the image's pull): run monitoring gives it as long before it counts as dead.
    """
    [minutes] = re.findall(r"helm upgrade --install .* --wait --timeout (\d+)m", SCRIPT.replace("\\\n", " "))
    monitoring = helm_chart.instance_yaml(VALUES)["run_monitoring"]
    assert monitoring["start_timeout_seconds"] == int(minutes) * 60
