"""terraform/gke's variable checks, evaluated by Terraform itself: its variables.tf alone in a
folder of its own (no provider, so nothing to download and nothing reaches Google), planned with
each value a user might write. A refused value stops `terraform apply` before anything is made.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from taxi_assets_tests.support.terraform import GKE

pytestmark = pytest.mark.processes

# The module's other required variables, with values that pass.
REQUIRED = {"project": "p-taxi", "pipeline_service_account": "taxi@p-taxi.iam", "logs_bucket_name": "b"}


@pytest.fixture(scope="module")
def variables_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.fail(
            "terraform is not on PATH: these tests evaluate terraform/gke's variable validations "
            "with it (no provider or network needed); install Terraform 1.5 or newer"
        )
    folder = tmp_path_factory.mktemp("gke-variables")
    shutil.copy(GKE / "variables.tf", folder)
    return folder


def plan(folder: Path, **values: str) -> subprocess.CompletedProcess:
    """`terraform plan` of the variables alone, with ``values`` over REQUIRED (HCL expressions)."""
    env = {
        **os.environ,
        "CHECKPOINT_DISABLE": "1",  # no version check against HashiCorp's servers
        "TF_CLI_CONFIG_FILE": os.devnull,
        "TF_IN_AUTOMATION": "1",
        "TF_DATA_DIR": str(folder / ".terraform"),
    }
    args = [f"-var={name}={value}" for name, value in {**REQUIRED, **values}.items()]
    return subprocess.run(
        ["terraform", f"-chdir={folder}", "plan", "-input=false", "-no-color", "-lock=false", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "cidrs",
    [
        '["2001:db8::7/32"]',  # `curl -s ifconfig.me` on a dual-stack machine, then /32
        '["2001:db8::7/128"]',  # IPv6 written right: the control plane still answers on IPv4 only
        '["203.0.113.7"]',  # no prefix length
        '["203.0.113.7/33"]',
        '["300.1.2.3/32"]',
        '["my-laptop"]',
        '["203.0.113.7/32", "10.0.0.0/0"]',  # everyone, written another way
        "[]",
    ],
)
def test_admin_cidrs_refuses_what_is_not_an_ipv4_range_naming_the_variable(
    variables_only: Path, cidrs: str
) -> None:
    result = plan(variables_only, admin_cidrs=cidrs)
    assert result.returncode == 1, result.stdout
    assert "Invalid value for variable" in result.stderr
    assert "admin_cidrs: each entry must be an IPv4 address" in " ".join(result.stderr.split())


def test_admin_cidrs_refuses_everyone_saying_so(variables_only: Path) -> None:
    result = plan(variables_only, admin_cidrs='["0.0.0.0/0"]')
    assert result.returncode == 1
    assert "0.0.0.0/0 would open the control plane to everyone" in " ".join(result.stderr.split())


@pytest.mark.parametrize("cidrs", ['["203.0.113.7/32"]', '["198.51.100.0/24", "203.0.113.7/32"]'])
def test_admin_cidrs_takes_ipv4_addresses_and_ranges(variables_only: Path, cidrs: str) -> None:
    result = plan(variables_only, admin_cidrs=cidrs)
    assert result.returncode == 0, result.stderr
    assert "No changes" in result.stdout


@pytest.mark.parametrize(("runs", "accepted"), [("6", True), ("3", True), ("2", False), ("4.5", False)])
def test_max_concurrent_runs_leaves_a_backfill_at_least_one(
    variables_only: Path, runs: str, accepted: bool
) -> None:
    result = plan(variables_only, admin_cidrs='["203.0.113.7/32"]', max_concurrent_runs=runs)
    assert (result.returncode == 0) is accepted, result.stderr
    if not accepted:
        assert "max_concurrent_runs: a whole number, 3 or more" in " ".join(result.stderr.split())
