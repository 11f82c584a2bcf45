"""IAM, which no emulator checks: every Google API call a run makes (deploy/gcp_permissions.yaml) is
allowed by a role Terraform grants its caller on that resource, and no role grants what could change
access or destroy what the calls use. Nothing here reaches Google: Terraform's grants are parsed,
and the roles' permissions come from Google's reference as transcribed in deploy/gcp_roles.yaml.
"""

import datetime
import fnmatch
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.terraform import GKE, TERRAFORM, module, unquote

CALLS = yaml.safe_load((REPO / "deploy" / "gcp_permissions.yaml").read_text())["calls"]
ROLES_FILE = yaml.safe_load((REPO / "deploy" / "gcp_roles.yaml").read_text())
ROLES: dict[str, set[str]] = {name: set(role["permissions"]) for name, role in ROLES_FILE["roles"].items()}

# What a grant may not carry beyond what the calls need: permissions that change who may do what,
# or that reconfigure or destroy the bucket, dataset or repository the pipeline depends on. A role
# holding one of these unused is "far more than needed": there is a narrower predefined role.
BEYOND_NEED = [
    "*.setIamPolicy",
    "iam.serviceAccounts.actAs",
    "iam.serviceAccounts.signBlob",
    "iam.serviceAccountKeys.create",
    "storage.buckets.delete",
    "storage.buckets.update",
    "storage.objects.setRetention",
    "storage.objects.overrideUnlockedRetention",
    "bigquery.datasets.delete",
    "bigquery.datasets.update",
    "artifactregistry.repositories.delete",
    "artifactregistry.repositories.uploadArtifacts",
    "artifactregistry.repositories.deleteArtifacts",
]
# A Terraform reference inside an interpolation: google_x.name or data.google_x.name.
REFERENCE = re.compile(r"\$\{(?:data\.)?(google_[a-z_]+\.[a-z0-9_]+)\.")


@dataclass(frozen=True)
class Grant:
    """One IAM grant Terraform makes: ``role`` to ``principal`` on ``resource``."""

    resource: str
    role: str
    principal: str
    address: str


def principal_of(member: str) -> str:
    """The table's name for a grant's member: pipeline, nodes, pods (Workload Identity)."""
    if ".svc.id.goog[" in member or "workload_pool" in member:
        return "pods"
    [reference] = REFERENCE.findall(member) or [member]
    return {"google_service_account.pipeline": "pipeline", "google_service_account.nodes": "nodes"}.get(
        reference, reference
    )


def resource_of(type_: str, body: dict) -> str:
    """The Terraform resource a grant is on (``project`` for project-wide grants)."""
    if type_ == "google_project_iam_member":
        return "project"
    for key in ("bucket", "dataset_id", "repository", "service_account_id", "instance"):
        if key in body:
            [reference] = REFERENCE.findall(body[key])
            return reference
    raise AssertionError(f"{type_}: no resource found in {sorted(body)}")


def terraform_grants(folders: list[Path]) -> list[Grant]:
    """Every IAM grant in these Terraform modules."""
    found = []
    for folder in folders:
        for type_, named in module(folder).items():
            if not re.search(r"_iam_(member|binding)$", type_):
                continue
            for name, body in named.items():
                members = [body["member"]] if "member" in body else body["members"]
                found += [
                    Grant(
                        resource_of(type_, body),
                        unquote(body["role"]),
                        principal_of(unquote(m)),
                        f"{type_}.{name}",
                    )
                    for m in members
                ]
    return found


def covers(grant_resource: str, resource: str) -> bool:
    """IAM's inheritance, as far as this project uses it: a project grant covers every resource."""
    return grant_resource in (resource, "project")


def permission_problems(grants: list[Grant], calls: list[dict], roles: dict[str, set[str]]) -> list[str]:
    """What is wrong with ``grants`` for ``calls``, one sentence each: a call no grant allows, a
    role this check does not know, a grant no call uses, a role that grants far more than needed.
    """
    problems = [
        f"{g.address}: {g.role} is not in deploy/gcp_roles.yaml" for g in grants if g.role not in roles
    ]
    grants = [g for g in grants if g.role in roles]
    needed = [c for c in calls if c["permission"]]
    for call in needed:
        allowed_by = [
            g.role
            for g in grants
            if g.principal == call["by"]
            and covers(g.resource, call["resource"])
            and call["permission"] in roles[g.role]
        ]
        if not allowed_by:
            held = sorted(
                {g.role for g in grants if g.principal == call["by"] and covers(g.resource, call["resource"])}
            )
            problems.append(
                f"{call['call']}: {call['by']} needs {call['permission']} on {call['resource']}, "
                f"which none of its roles there grants ({', '.join(held) or 'no roles'})"
            )
    for grant in grants:
        used = {
            c["permission"]
            for c in needed
            if c["by"] == grant.principal
            and covers(grant.resource, c["resource"])
            and c["permission"] in roles[grant.role]
        }
        if not used:
            problems.append(f"{grant.address}: {grant.role} on {grant.resource} is used by no call")
        beyond = sorted(
            p
            for p in roles[grant.role] - used
            if any(fnmatch.fnmatchcase(p, pattern) for pattern in BEYOND_NEED)
        )
        if beyond:
            problems.append(
                f"{grant.address}: {grant.role} grants far more than the calls need: {', '.join(beyond)}"
            )
    return problems


GRANTS = terraform_grants([TERRAFORM, GKE])


def test_every_call_is_allowed_and_no_role_grants_far_more() -> None:
    assert GRANTS, "terraform/ grants roles"
    assert permission_problems(GRANTS, CALLS, ROLES) == []


def test_the_check_catches_a_missing_permission_and_an_oversized_role() -> None:
    """The check itself, on the grants as they were before December: Object Admin alone on each
    bucket (no storage.buckets.get, and IAM-policy rights nothing needs).
    """
    before = [g for g in GRANTS if g.role != "roles/storage.legacyBucketReader"]
    before = [
        Grant(g.resource, "roles/storage.objectAdmin", g.principal, g.address)
        if g.role == "roles/storage.objectUser"
        else g
        for g in before
    ]
    problems = "\n".join(permission_problems(before, CALLS, ROLES))
    for bucket in ("google_storage_bucket.lake", "google_storage_bucket.dagster_logs"):
        assert f"pipeline needs storage.buckets.get on {bucket}" in problems
    assert "roles/storage.objectAdmin grants far more than the calls need: " in problems
    assert "storage.objects.setIamPolicy" in problems


def test_every_entry_names_its_caller_resource_and_source() -> None:
    resources = {"project"} | {
        f"{type_}.{name}"
        for folder in (TERRAFORM, GKE)
        for type_, named in module(folder).items()
        for name in named
    }
    for call in CALLS:
        assert call["by"] in ("pipeline", "nodes", "pods"), call
        assert call["resource"] in resources, call
        assert call["docs"].startswith("https://cloud.google.com/"), call
        if call["permission"]:
            assert re.fullmatch(r"[a-z]+(\.[a-zA-Z]+){2}", call["permission"]), call
        else:
            assert call["none_because"], call
        # The call is still where the table says it is: in the repo, or in the library's source.
        where = REPO / call["where"]
        if not where.exists():
            spec = importlib.util.find_spec(call["where"])
            assert spec and spec.origin, call
            where = Path(spec.origin)
        assert call["code"] in where.read_text(), call
    assert isinstance(ROLES_FILE["retrieved"], datetime.date)  # the roles file says when it was read


@pytest.mark.parametrize("role", sorted({g.role for g in GRANTS}))
def test_every_granted_role_has_its_permissions_and_source(role: str) -> None:
    entry = ROLES_FILE["roles"][role]
    assert entry["docs"].startswith("https://cloud.google.com/iam/docs/roles-permissions/")
    assert entry["permissions"] == sorted(entry["permissions"])  # as Google lists them
