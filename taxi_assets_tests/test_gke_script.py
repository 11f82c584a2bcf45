"""deploy/gke.sh, the Google Cloud commands of docs/google-cloud.md in one script, run against stand-ins for
gcloud, gke-gcloud-auth-plugin, terraform, docker, kubectl and helm (no Google project or cluster
here) that record their arguments and answer Terraform's outputs: the steps in order, each fed by
the ones before, the password never on a command line, and the docs saying the same.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from taxi_assets_tests.support import REPO, helm_chart

SCRIPT = REPO / "deploy" / "gke.sh"
TOOLS = ("gcloud", "gke-gcloud-auth-plugin", "terraform", "docker", "kubectl", "helm")
PASSWORD = "pw-from-terraform-7b1f"
TAG = "abc1234"
# What `terraform output` answers in each module, as a real apply of these tfvars would.
OUTPUTS = {
    "terraform": {
        "lake_uri": "gs://p-taxi-lake/lake",
        "bigquery_dataset": "ny_taxi",
        "service_account_email": "taxi-assets@p-taxi.iam.gserviceaccount.com",
        "location": "EU",
    },
    "terraform/gke": {
        "cluster_name": "taxi-assets",
        "region": "europe-west1",
        "image": "europe-west1-docker.pkg.dev/p-taxi/taxi-assets/taxi-assets",
        "database_host": "10.42.0.3",
        "database_password": PASSWORD,
        "database_user": "taxi",
        "logs_bucket": "p-taxi-dagster-logs",
        "project": "p-taxi",
        "pipeline_service_account": "taxi-assets@p-taxi.iam.gserviceaccount.com",
        "kubernetes_namespace": "dagster",
        "kubernetes_service_account": "taxi-assets",
        "network": "taxi-assets-net",
        "max_concurrent_runs": 6,
    },
}

# One stand-in for every tool: it appends {tool, args, stdin} to $STUB_LOG and answers
# `terraform -chdir=X output` from $STUB_OUTPUTS. $STUB_DESTROY_ERROR makes the first
# `terraform destroy` fail with that error; `gcloud compute networks peerings list` answers
# $STUB_PEERINGS, one name a line.
STUB = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys
    from pathlib import Path
    tool, args = Path(sys.argv[0]).name, sys.argv[1:]
    reads = tool == "kubectl" and ("-" in args or any("/dev/stdin" in a for a in args))
    stdin = sys.stdin.read() if reads else None
    with open(os.environ["STUB_LOG"], "a") as log:
        log.write(json.dumps({{"tool": tool, "args": args, "stdin": stdin}}) + "\\n")
    if tool == "terraform" and "output" in args:
        outputs = json.loads(os.environ["STUB_OUTPUTS"])[args[0].removeprefix("-chdir=")]
        if "-json" in args:
            typed = {{k: {{"value": v, "type": "string", "sensitive": False}} for k, v in outputs.items()}}
            print(json.dumps(typed))
        else:
            sys.stdout.write(outputs[args[-1]])
    if tool == "terraform" and "destroy" in args and os.environ.get("STUB_DESTROY_ERROR"):
        marker = Path(os.environ["STUB_LOG"] + ".destroyed")
        if not marker.exists():
            marker.touch()
            sys.exit(os.environ["STUB_DESTROY_ERROR"])
    if tool == "gcloud" and args[:4] == ["compute", "networks", "peerings", "list"]:
        print(os.environ.get("STUB_PEERINGS", ""))
    if tool == "kubectl" and "create" in args:
        print("kind: stand-in")
    """
)


@dataclass
class Call:
    """One recorded invocation of a stand-in."""

    tool: str
    args: list[str]
    stdin: str | None

    @property
    def line(self) -> str:
        return " ".join([self.tool, *self.args])


@dataclass
class Deployment:
    """A copy of the repo's deployment files with filled-in tfvars, and the stand-ins' bin folder."""

    root: Path
    bin: Path
    log: Path

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        environment = {
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "HOME": str(self.root),
            "STUB_LOG": str(self.log),
            "STUB_OUTPUTS": json.dumps(OUTPUTS),
            "TAG": TAG,
            "PYTHON": sys.executable,
            **env,
        }
        return subprocess.run(
            [shutil.which("bash") or "bash", str(self.root / "deploy" / "gke.sh"), *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    def calls(self) -> list[Call]:
        if not self.log.exists():
            return []
        return [Call(**json.loads(line)) for line in self.log.read_text().splitlines()]


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    root = tmp_path / "repo"
    for folder in ("deploy", "terraform"):
        shutil.copytree(
            REPO / folder, root / folder, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*")
        )
    shutil.copy(REPO / "pyproject.toml", root)
    (root / "terraform" / "terraform.tfvars").write_text(
        'project     = "p-taxi"\nbucket_name = "p-taxi-lake"\nlocation    = "EU"\n'
    )
    (root / "terraform" / "gke" / "terraform.tfvars").write_text(
        'admin_cidrs      = ["198.51.100.20/32"]\nlogs_bucket_name = "p-taxi-dagster-logs"\n'
    )
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in TOOLS:
        (bin_ / tool).write_text(STUB.format(python=sys.executable))
        (bin_ / tool).chmod(0o755)
    return Deployment(root, bin_, tmp_path / "calls.jsonl")


def index(calls: list[Call], tool: str, *words: str) -> int:
    """Where the first call of ``tool`` with all of ``words`` among its arguments is."""
    for i, call in enumerate(calls):
        if call.tool == tool and all(w in call.args for w in words):
            return i
    raise AssertionError(f"no `{tool} … {' '.join(words)}` among:\n" + "\n".join(c.line for c in calls))


def option(call: Call, name: str) -> str:
    return call.args[call.args.index(name) + 1]


def test_up_runs_the_readme_steps_in_order_each_fed_by_the_last(deployment: Deployment) -> None:
    result = deployment.run("up")
    assert result.returncode == 0, result.stderr
    calls = deployment.calls()
    gke = OUTPUTS["terraform/gke"]
    order = [
        index(calls, "gcloud", "config", "set", "project", "p-taxi"),
        index(calls, "terraform", "-chdir=terraform", "apply"),
        index(calls, "terraform", "-chdir=terraform/gke", "apply"),
        index(calls, "docker", "build"),
        index(calls, "docker", "push"),
        index(calls, "gcloud", "container", "clusters", "get-credentials"),
        index(calls, "kubectl", "create", "secret", "generic", "dagster-postgresql-secret"),
        index(calls, "helm", "upgrade", "--install"),
        index(calls, "kubectl", "get", "pods"),
    ]
    assert order == sorted(order)
    assert index(calls, "terraform", "-chdir=terraform", "init") < order[1]
    # The APIs are the modules' own (apis.tf, test_gke.py), enabled before what needs them.
    assert not [c.line for c in calls if c.args[:2] == ["services", "enable"]]

    # terraform/gke gets the project and the pipeline's account from terraform/, not from a copy.
    gke_apply = calls[order[2]]
    assert "-var=project=p-taxi" in gke_apply.args
    assert f"-var=pipeline_service_account={OUTPUTS['terraform']['service_account_email']}" in gke_apply.args

    # The image: built for GKE's amd64 nodes, pushed under the tag, and that tag deployed everywhere.
    build, push = calls[order[3]], calls[order[4]]
    image = f"{gke['image']}:{TAG}"
    assert option(build, "--platform") == "linux/amd64"
    assert option(build, "-t") == image and build.args[-1] == "."
    assert push.args == ["push", image]
    assert index(calls, "gcloud", "auth", "configure-docker", "europe-west1-docker.pkg.dev") < order[3]
    values = yaml.safe_load((deployment.root / "deploy" / "helm" / "values.gke.yaml").read_text())
    [code] = values["dagster-user-deployments"]["deployments"]
    for part in (values["dagsterWebserver"], values["dagsterDaemon"], code):
        assert f"{part['image']['repository']}:{part['image']['tag']}" == image
    assert code["env"]["POSTGRES_HOST"] == values["postgresql"]["postgresqlHost"] == gke["database_host"]
    assert values["computeLogManager"]["config"]["gcsComputeLogManager"]["bucket"] == gke["logs_bucket"]
    assert PASSWORD not in (deployment.root / "deploy" / "helm" / "values.gke.yaml").read_text()

    # The cluster and namespace Terraform made; the chart at the pinned dagster's version.
    credentials = calls[order[5]]
    assert credentials.args[3] == gke["cluster_name"]
    assert option(credentials, "--region") == gke["region"]
    assert option(credentials, "--project") == "p-taxi"
    helm = calls[order[7]]
    pin = next(
        d
        for d in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
        if "dagster==" in d
    )
    assert option(helm, "--version") == pin.split("==")[1]
    assert option(helm, "-n") == gke["kubernetes_namespace"]
    assert helm.args[2:4] == [helm_chart.RELEASE, "dagster/dagster"]
    files = [helm.args[i + 1] for i, a in enumerate(helm.args) if a == "-f"]
    assert files == ["deploy/helm/values.yaml", "deploy/helm/values.gke.yaml"]  # ours over the base


def test_the_password_reaches_both_secrets_through_stdin_only(deployment: Deployment) -> None:
    assert deployment.run("up").returncode == 0
    calls = deployment.calls()
    assert not [c.line for c in calls if PASSWORD in c.line]  # never on a command line (ps shows those)
    secrets = {
        option(c, "generic"): (c.args, c.stdin) for c in calls if c.tool == "kubectl" and "secret" in c.args
    }
    values = helm_chart.values()
    [env_secret] = helm_chart.code_deployment(values)["envSecrets"]
    # The names the chart reads, each with the key(s) it reads: Terraform's password, and the pods'
    # settings as secrets.env.example lists them (the mirror's token empty: none in this shell).
    storage = values["global"]["postgresqlSecretName"]
    args, stdin = secrets[storage]
    assert "--from-file=postgresql-password=/dev/stdin" in args and stdin == PASSWORD
    args, stdin = secrets[env_secret["name"]]
    assert "--from-env-file=/dev/stdin" in args
    example = (REPO / "deploy" / "helm" / "secrets.env.example").read_text()
    keys = re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE)
    assert dict(line.split("=", 1) for line in stdin.splitlines()) == {
        **dict.fromkeys(keys, ""),
        "POSTGRES_PASSWORD": PASSWORD,
    }
    for name in (storage, env_secret["name"]):
        assert option(calls[index(calls, "kubectl", "create", "secret", "generic", name)], "-n") == "dagster"


@pytest.mark.parametrize(
    ("file", "text", "said"),
    [
        ("terraform/terraform.tfvars", None, "terraform/terraform.tfvars is missing"),
        ("terraform/gke/terraform.tfvars", None, "terraform/gke/terraform.tfvars is missing"),
        ("terraform/terraform.tfvars", 'project = "my-gcp-project"\n', "still holds the example's values"),
        ("terraform/gke/terraform.tfvars", 'admin_cidrs = ["203.0.113.7/32"]\n', "still holds the example's"),
    ],
)
def test_up_refuses_tfvars_not_filled_in_and_changes_nothing(
    deployment: Deployment, file: str, text: str | None, said: str
) -> None:
    path = deployment.root / file
    if text is None:
        path.unlink()
    else:
        path.write_text(text)
    result = deployment.run("up")
    assert result.returncode != 0
    assert said in result.stderr.splitlines()[0]
    assert deployment.calls() == []


def test_up_names_a_missing_prerequisite_before_doing_anything(
    deployment: Deployment, tmp_path: Path
) -> None:
    """PATH holds the stand-ins but the plugin, and only the system tools the script needs before
    its check (this machine may have the real Cloud SDK, plugin included).
    """
    (deployment.bin / "gke-gcloud-auth-plugin").unlink()
    system = tmp_path / "system"
    system.mkdir()
    for tool in ("dirname", "sed", "git"):
        (system / tool).symlink_to(shutil.which(tool))
    result = deployment.run("up", PATH=f"{deployment.bin}:{system}")
    assert result.returncode != 0
    assert "gke-gcloud-auth-plugin is not on PATH" in result.stderr
    assert deployment.calls() == []


def test_ui_forwards_the_web_servers_service_port(deployment: Deployment) -> None:
    assert deployment.run("ui").returncode == 0
    [*_, forward] = deployment.calls()
    port = helm_chart.values()["dagsterWebserver"]["service"]["port"]
    assert forward.args == [
        "-n",
        "dagster",
        "port-forward",
        f"svc/{helm_chart.webserver_service()}",
        f"{port}:{port}",
    ]


# Compute's refusal of the network's deletion while something still uses it.
NETWORK_IN_USE = (
    "Error: Error waiting for Deleting Network: The network resource "
    "'projects/p-taxi/global/networks/taxi-assets-net' is already being used by "
    "'projects/p-taxi/global/networks/taxi-assets-net/peerings/servicenetworking-googleapis-com'"
)
PEERING = "servicenetworking-googleapis-com"


def destroys(calls: list[Call]) -> list[int]:
    return [i for i, c in enumerate(calls) if c.tool == "terraform" and "destroy" in c.args]


def test_down_uninstalls_then_destroys_and_clears_a_held_peering(deployment: Deployment) -> None:
    result = deployment.run("down", STUB_DESTROY_ERROR=NETWORK_IN_USE, STUB_PEERINGS=f"other\n{PEERING}")
    assert result.returncode == 0, result.stderr
    calls = deployment.calls()
    uninstall = index(calls, "helm", "uninstall", helm_chart.RELEASE)
    listed = index(calls, "gcloud", "compute", "networks", "peerings", "list")
    peering = index(calls, "gcloud", "compute", "networks", "peerings", "delete", PEERING)
    first, second = destroys(calls)
    assert uninstall < first < listed < peering < second
    for i in (listed, peering):
        assert option(calls[i], "--network") == OUTPUTS["terraform/gke"]["network"]
    for i in (first, second):
        assert calls[i].args[0] == "-chdir=terraform/gke"  # the lake and the dataset stay
        assert "-var=project=p-taxi" in calls[i].args
    assert NETWORK_IN_USE in result.stderr  # Terraform's own error is shown


def test_down_destroys_once_when_nothing_holds_the_network(deployment: Deployment) -> None:
    assert deployment.run("down").returncode == 0
    calls = deployment.calls()
    assert len(destroys(calls)) == 1
    assert not [c.line for c in calls if c.tool == "gcloud" and "peerings" in c.args]


@pytest.mark.parametrize(
    ("error", "peerings"),
    [
        # Another failure: the peering is not what stopped it, so it is not touched.
        (
            "Error: Error deleting instance: googleapi: Error 403: The caller does not have permission",
            PEERING,
        ),
        # The network in use, but by something else (a firewall rule): no peering to remove.
        (
            "Error: The network resource 'projects/p-taxi/global/networks/taxi-assets-net' is already "
            "being used by 'projects/p-taxi/global/firewalls/k8s-fw-1'",
            "",
        ),
    ],
    ids=["other-error", "in-use-without-peering"],
)
def test_down_stops_on_any_other_failure_removing_nothing_more(
    deployment: Deployment, error: str, peerings: str
) -> None:
    result = deployment.run("down", STUB_DESTROY_ERROR=error, STUB_PEERINGS=peerings)
    assert result.returncode != 0
    assert error in result.stderr
    assert "it was not the service peering, so nothing else was removed" in result.stderr
    calls = deployment.calls()
    assert len(destroys(calls)) == 1
    assert not [c.line for c in calls if c.tool == "gcloud" and "delete" in c.args]


def readme_gcp_commands() -> list[str]:
    """Every command line in the code blocks of docs/google-cloud.md's "Dagster on GKE"."""
    page = (REPO / "docs" / "google-cloud.md").read_text()
    start = page.index("## Dagster on GKE")
    end = page.find("\n## ", start + 1)
    section = page[start : end if end != -1 else len(page)]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    joined = [re.sub(r"\\\n\s*", "", block) for block in blocks]
    return [line.split("  #")[0].strip() for block in joined for line in block.splitlines() if line.strip()]


@pytest.mark.processes
def test_the_docs_run_the_script_and_every_other_command_is_the_scripts() -> None:
    """Every command of the section is the script's: its subcommands, or the copies of the two
    variable files it requires (the user fills them in; the script only checks them).
    """
    commands = readme_gcp_commands()
    assert "deploy/gke.sh up" in commands and "deploy/gke.sh down" in commands
    script = SCRIPT.read_text()
    subcommands = re.search(r"^  ([a-z| ]+)\) \"\$1\" ;;$", script, flags=re.MULTILINE).group(1).split(" | ")
    required = re.findall(r'^  require_tfvars "\$(\w+)"$', script, flags=re.MULTILINE)
    folders = {name: re.search(rf"^{name}=(\S+)$", script, flags=re.MULTILINE).group(1) for name in required}
    copies = {
        f"cp -n {folder}/terraform.tfvars.example {folder}/terraform.tfvars" for folder in folders.values()
    }
    assert set(folders.values()) == {"terraform", "terraform/gke"}
    for command in commands:
        if command.startswith("deploy/gke.sh "):
            assert command.split()[1] in subcommands, command
        else:
            assert command in copies, (
                f"docs/google-cloud.md runs `{command}`, which deploy/gke.sh neither runs nor requires"
            )
    assert copies <= set(commands)
