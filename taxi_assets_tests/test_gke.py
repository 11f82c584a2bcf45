"""terraform/gke (Dagster on GKE Autopilot) read as a reviewer would: what it creates, that every
grant is one of the least-privilege roles docs/google-cloud.md lists, that nothing is public, and
that Workload Identity, not a key, connects the pods to the pipeline's service account. Nothing here reaches
Google; `terraform validate` and `plan` need the provider from the network.
"""

import json
import re
from pathlib import Path

import hcl2
import pytest

from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.terraform import GKE, TERRAFORM, module, unquote


def grants(resources: dict[str, dict[str, dict]]) -> list[tuple[str, str, str]]:
    """Every IAM grant: (resource type, role, member)."""
    return [
        (type_, unquote(body["role"]), unquote(body.get("member", "")))
        for type_, named in resources.items()
        if "iam" in type_
        for body in named.values()
    ]


def readme_roles() -> set[str]:
    """The least-privilege roles the GKE section of docs/google-cloud.md lists."""
    page = (REPO / "docs" / "google-cloud.md").read_text()
    section = page[page.index("## Dagster on GKE") :]
    return set(re.findall(r"`(roles/[A-Za-z.]+)`", section))


RESOURCES = module(GKE)


def block(body: dict, name: str) -> dict:
    [only] = body[name]
    return only


def test_the_deployment_has_its_cluster_database_registry_and_logs_bucket() -> None:
    [cluster] = RESOURCES["google_container_cluster"].values()
    assert cluster["enable_autopilot"] is True
    assert {
        "google_sql_database_instance",
        "google_artifact_registry_repository",
        "google_storage_bucket",
    } <= set(RESOURCES)
    [instance] = RESOURCES["google_sql_database_instance"].values()
    assert unquote(instance["database_version"]).startswith("POSTGRES_")
    databases = {unquote(body["name"]) for body in RESOURCES["google_sql_database"].values()}
    assert databases == {"dagster", "ny_taxi"}  # Dagster's storage and the course's trips
    [registry] = RESOURCES["google_artifact_registry_repository"].values()
    assert unquote(registry["format"]) == "DOCKER"
    # The course ends with `terraform destroy`: nothing refuses it unless asked to.
    variables = (GKE / "variables.tf").read_text()
    assert re.search(r'variable "deletion_protection" \{[^}]*default\s*=\s*false', variables)


def test_every_grant_is_a_least_privilege_role_the_docs_list() -> None:
    listed = readme_roles()
    assert listed, "docs/google-cloud.md lists the roles in its 'Dagster on GKE' section"
    for folder in (TERRAFORM, GKE):
        for type_, role, _ in grants(module(folder)):
            assert role in listed, (folder.name, type_, role)
            assert role not in ("roles/owner", "roles/editor") and not role.endswith(".admin"), role
    # Project-wide grants only where a role cannot be narrower (jobs and node metrics are per project).
    project_wide = {
        role for type_, role, _ in grants(module(TERRAFORM)) + grants(RESOURCES) if "project" in type_
    }
    assert project_wide == {"roles/bigquery.jobUser", "roles/container.defaultNodeServiceAccount"}


def test_nothing_is_public() -> None:
    for folder in (TERRAFORM, GKE):
        for _, _, member in grants(module(folder)):
            assert member not in ("allUsers", "allAuthenticatedUsers"), member
    for bucket in RESOURCES["google_storage_bucket"].values():
        assert unquote(bucket["public_access_prevention"]) == "enforced"
        assert bucket["uniform_bucket_level_access"] is True
    [instance] = RESOURCES["google_sql_database_instance"].values()
    ip = block(block(instance, "settings"), "ip_configuration")
    assert ip["ipv4_enabled"] is False and "private_network" in ip
    assert "authorized_networks" not in ip
    assert unquote(ip["ssl_mode"]) == "ENCRYPTED_ONLY"
    [cluster] = RESOURCES["google_container_cluster"].values()
    assert block(cluster, "private_cluster_config")["enable_private_nodes"] is True
    # The control plane answers only the admins' addresses, which may not be everyone's.
    networks = block(cluster, "master_authorized_networks_config")
    [dynamic] = networks["dynamic"]
    assert dynamic['"cidr_blocks"']["for_each"] == "${var.admin_cidrs}"
    assert '!contains(var.admin_cidrs, "0.0.0.0/0")' in (GKE / "variables.tf").read_text()
    # No firewall openings, load balancers or public addresses of its own.
    assert not {"google_compute_firewall", "google_compute_address", "google_compute_forwarding_rule"} & set(
        RESOURCES
    )
    [address] = RESOURCES["google_compute_global_address"].values()
    assert unquote(address["address_type"]) == "INTERNAL"


def test_workload_identity_not_a_key_connects_the_pods_to_the_pipeline_account() -> None:
    for folder in (TERRAFORM, GKE):
        assert "google_service_account_key" not in module(folder)
    [cluster] = RESOURCES["google_container_cluster"].values()
    assert (
        unquote(block(cluster, "workload_identity_config")["workload_pool"]) == "${var.project}.svc.id.goog"
    )
    [binding] = RESOURCES["google_service_account_iam_member"].values()
    assert unquote(binding["role"]) == "roles/iam.workloadIdentityUser"
    assert binding["service_account_id"] == "${data.google_service_account.pipeline.name}"
    # The pool is the cluster's, so IAM is asked only once the cluster has made it.
    pool = "${google_container_cluster.dagster.workload_identity_config[0].workload_pool}"
    assert unquote(binding["member"]) == (
        f"serviceAccount:{pool}[${{var.kubernetes_namespace}}/${{var.kubernetes_service_account}}]"
    )
    # Nodes run as their own account, not the project's default one (Editor).
    defaults = block(block(cluster, "cluster_autoscaling"), "auto_provisioning_defaults")
    assert defaults["service_account"] == "${google_service_account.nodes.email}"


def test_destroy_does_not_wait_for_cloud_sql_to_let_go_of_the_private_connection() -> None:
    [connection] = RESOURCES["google_service_networking_connection"].values()
    assert unquote(connection["deletion_policy"]) == "ABANDON"


def test_down_then_up_on_the_same_project_reuses_no_name_google_holds_back() -> None:
    """What `deploy/gke.sh down` then `up` meets: the user whose role owns Dagster's tables is left
    to the instance's deletion (PostgreSQL refuses to drop it); the instance's name is new each time
    (Cloud SQL keeps a deleted one for a week); the abandoned private connection, which Service
    Networking still knows, is updated rather than created again.
    """
    [user] = RESOURCES["google_sql_user"].values()
    assert unquote(user["deletion_policy"]) == "ABANDON"
    [instance] = RESOURCES["google_sql_database_instance"].values()
    [suffix] = RESOURCES["random_id"]
    assert unquote(instance["name"]).endswith(f"-${{random_id.{suffix}.hex}}")
    assert RESOURCES["random_id"][suffix]["byte_length"] >= 4  # 4 billion names, none reused
    [connection] = RESOURCES["google_service_networking_connection"].values()
    assert connection["update_on_creation_fail"] is True


def test_the_cluster_waits_for_its_nodes_grants() -> None:
    """Autopilot starts nodes with the cluster: every grant to the nodes' account must exist by
    then, which only depends_on can say (the cluster refers to the account, not to its grants).
    """
    [cluster] = RESOURCES["google_container_cluster"].values()
    to_nodes = {
        f"${{{type_}.{name}}}"
        for type_, named in RESOURCES.items()
        if type_.endswith("_iam_member")
        for name, body in named.items()
        if "google_service_account.nodes." in body["member"]
    }
    assert len(to_nodes) == 2, to_nodes
    assert to_nodes <= set(cluster.get("depends_on", []))


@pytest.mark.parametrize("folder", [TERRAFORM])
def test_destroy_deletes_the_lake_and_the_warehouse_only_when_asked(folder: Path) -> None:
    """The bucket and the dataset follow one switch: off by default (destroy stops at data, which
    takes hours to fetch again), on for the course's last `terraform destroy`.
    """
    [bucket] = module(folder)["google_storage_bucket"].values()
    [dataset] = module(folder)["google_bigquery_dataset"].values()
    assert bucket["force_destroy"] == dataset["delete_contents_on_destroy"] == "${var.destroy_data}"
    variables = (folder / "variables.tf").read_text()
    assert re.search(r'variable "destroy_data" \{[^}]*default\s*=\s*false', variables)


# The Google API each resource type is created through (Google's page for each resource names it;
# the provider calls that API). A resource type missing here fails the test below: add its API, and
# the API to the module's apis.tf. Service Usage itself, which enables the others, is on in every
# project; the random provider calls nothing.
RESOURCE_APIS: dict[str, set[str]] = {
    "google_project_service": set(),
    "random_password": set(),
    "random_id": set(),
    "google_storage_bucket": {"storage.googleapis.com"},
    "google_storage_bucket_iam_member": {"storage.googleapis.com"},
    "google_bigquery_dataset": {"bigquery.googleapis.com"},
    "google_bigquery_dataset_iam_member": {"bigquery.googleapis.com"},
    "google_service_account": {"iam.googleapis.com"},
    "google_service_account_iam_member": {"iam.googleapis.com"},
    "google_project_iam_member": {"cloudresourcemanager.googleapis.com"},
    "google_compute_network": {"compute.googleapis.com"},
    "google_compute_subnetwork": {"compute.googleapis.com"},
    "google_compute_router": {"compute.googleapis.com"},
    "google_compute_router_nat": {"compute.googleapis.com"},
    "google_compute_global_address": {"compute.googleapis.com"},
    "google_service_networking_connection": {"servicenetworking.googleapis.com"},
    "google_sql_database_instance": {"sqladmin.googleapis.com"},
    "google_sql_database": {"sqladmin.googleapis.com"},
    "google_sql_user": {"sqladmin.googleapis.com"},
    "google_container_cluster": {"container.googleapis.com", "compute.googleapis.com"},
    "google_artifact_registry_repository": {"artifactregistry.googleapis.com"},
    "google_artifact_registry_repository_iam_member": {"artifactregistry.googleapis.com"},
}
# What the deployment calls at run time without a resource of its own.
RUNTIME_APIS: dict[str, set[str]] = {
    "terraform": set(),
    "gke": {"iamcredentials.googleapis.com"},  # Workload Identity: the pods' tokens
}
ENABLER = "google_project_service.apis"
# A reference to another block in an expression: google_x.name, random_x.name or data.google_x.name.
BLOCK_REFERENCE = re.compile(r"\b((?:data\.)?(?:google|random)_[a-z0-9_]+\.[a-z0-9_]+)")


def blocks(folder: Path) -> dict[str, dict]:
    """Every resource and data source of a module by its address (type.name, data.type.name)."""
    found: dict[str, dict] = {}
    for type_, named in module(folder, kinds=("resource",)).items():
        found |= {f"{type_}.{name}": body for name, body in named.items()}
    for type_, named in module(folder, kinds=("data",)).items():
        found |= {f"data.{type_}.{name}": body for name, body in named.items()}
    return found


def dependencies(body: dict) -> set[str]:
    """The blocks one block refers to or depends on, so waits for."""
    return set(BLOCK_REFERENCE.findall(json.dumps(body)))


def enabled_apis(folder: Path) -> list[str]:
    with (folder / "apis.tf").open() as f:
        [local] = hcl2.load(f)["locals"]
    return [unquote(api) for api in local["apis"]]


@pytest.mark.parametrize("folder", [TERRAFORM, GKE], ids=["terraform", "gke"])
def test_every_api_a_resource_needs_is_enabled_before_it(folder: Path) -> None:
    """A fresh project has only Google's default APIs on: each module enables what its resource
    types are made through, and every resource waits for that (directly or through a block it
    refers to), so `terraform apply` works on a project nobody prepared.
    """
    found = blocks(folder)
    types = {address.removeprefix("data.").split(".")[0] for address in found}
    unknown = types - set(RESOURCE_APIS)
    assert not unknown, (
        f"which API makes {sorted(unknown)}? Add it to RESOURCE_APIS and {folder.name}/apis.tf"
    )
    needed = set().union(*(RESOURCE_APIS[type_] for type_ in types)) | RUNTIME_APIS[folder.name]
    apis = enabled_apis(folder)
    assert sorted(apis) == apis and len(set(apis)) == len(apis)
    assert set(apis) == needed, (
        f"{folder.name}/apis.tf: missing {needed - set(apis)}, unused {set(apis) - needed}"
    )
    [enabler] = module(folder)["google_project_service"].values()
    assert enabler["for_each"] == "${toset(local.apis)}"
    assert enabler["disable_on_destroy"] is False  # the other module and the project may use them

    def waits_for_the_apis(address: str, seen: frozenset = frozenset()) -> bool:
        deps = dependencies(found[address]) & set(found)
        return ENABLER in deps or any(waits_for_the_apis(d, seen | {address}) for d in deps - seen)

    late = [
        address
        for address in found
        if RESOURCE_APIS[address.removeprefix("data.").split(".")[0]] and not waits_for_the_apis(address)
    ]
    assert late == [], f"these may be made before their API is on: {late}"


@pytest.mark.parametrize("folder", [TERRAFORM, GKE], ids=["terraform", "gke"])
def test_the_deployed_project_is_every_requests_quota_project(folder: Path) -> None:
    """With user credentials (gcloud auth application-default login) and no quota project, Service
    Usage and Resource Manager refuse requests: the provider names the project in each one.
    """
    with (folder / "main.tf").open() as f:
        [provider] = hcl2.load(f)["provider"]
    google = provider['"google"']
    assert google["user_project_override"] is True
    assert google["billing_project"] == google["project"] == "${var.project}"


@pytest.mark.parametrize("folder", [TERRAFORM, GKE])
def test_every_provider_is_pinned_below_its_next_major_release(folder: Path) -> None:
    with (folder / "main.tf").open() as f:
        [terraform] = hcl2.load(f)["terraform"]
    for providers in terraform["required_providers"]:
        for name, provider in providers.items():
            if name.startswith("__"):
                continue  # hcl2's comments and block markers
            bounds = unquote(provider["version"])
            assert re.fullmatch(r">= [\d.]+, < \d+\.0", bounds), (folder.name, name, bounds)


# terraform fmt's layout, checked without terraform (not installable here): two spaces per level,
# and the `=` of consecutive one-line attributes aligned one space after the longest name.
ATTRIBUTE = re.compile(r"^(\s*)([\w\"\-.]+)(\s+)=\s(.*)$")


def bracket_change(line: str) -> int:
    code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line.split("#")[0])
    return sum(code.count(c) for c in "{[(") - sum(code.count(c) for c in "}])")


def layout_errors(text: str) -> list[str]:
    errors, depth, chain = [], 0, []
    lines = text.split("\n")
    for number, line in enumerate([*lines, ""], start=1):
        match = ATTRIBUTE.match(line)
        one_line_attribute = bool(match) and bracket_change(line) == 0
        if not one_line_attribute and chain:
            width = max(len(name) for _, name, _ in chain)
            errors += [
                f"line {n}: `=` not aligned" for n, name, gap in chain if len(name) + len(gap) != width + 1
            ]
            chain = []
        if one_line_attribute:
            chain.append((number, match.group(2), match.group(3)))
        stripped = line.strip()
        closing = stripped[:1] in ("}", "]", ")")
        expected = 2 * (depth - (1 if closing else 0))
        if stripped and len(line) - len(line.lstrip(" ")) != expected:
            errors.append(f"line {number}: indented {len(line) - len(line.lstrip(' '))}, expected {expected}")
        if line != line.rstrip() or "\t" in line:
            errors.append(f"line {number}: trailing space or tab")
        depth += bracket_change(line)
    if not text.endswith("\n") or text.endswith("\n\n"):
        errors.append("the file must end with exactly one newline")
    return errors


@pytest.mark.parametrize(
    "path", sorted(TERRAFORM.rglob("*.tf")) + sorted(TERRAFORM.rglob("*.tfvars.example"))
)
def test_terraform_files_are_laid_out_as_terraform_fmt_writes_them(path: Path) -> None:
    assert layout_errors(path.read_text()) == [], path.relative_to(REPO)
