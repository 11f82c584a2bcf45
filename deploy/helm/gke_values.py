"""Helm values for one GKE deployment, from Terraform's outputs and an image tag.

    python deploy/helm/gke_values.py --tag "$TAG" \\
        terraform/outputs.json terraform/gke/outputs.json > deploy/helm/values.gke.yaml

with each JSON from `terraform -chdir=... output -json`. The result goes after values.yaml
(`helm upgrade --install ... -f deploy/helm/values.yaml -f deploy/helm/values.gke.yaml`). Helm
replaces lists instead of merging them, so the code location's entry is written whole: values.yaml's
entry with this deployment's image and settings.
"""

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

VALUES = Path(__file__).with_name("values.yaml")


def outputs_of(paths: list[Path]) -> dict[str, Any]:
    """The values of `terraform output -json` files, merged (the base module's and gke's)."""
    merged: dict[str, Any] = {}
    for path in paths:
        merged |= {name: output["value"] for name, output in json.loads(path.read_text()).items()}
    return merged


def gke_values(outputs: dict[str, Any], tag: str, values: dict[str, Any]) -> dict[str, Any]:
    """What differs from values.yaml for the project and image Terraform's outputs describe."""
    image = {"repository": outputs["image"], "tag": tag}
    [deployment] = copy.deepcopy(values["dagster-user-deployments"]["deployments"])
    deployment["image"] |= image
    deployment["env"] |= {
        "GCP_PROJECT": outputs["project"],
        "TAXI_LAKE_URI": outputs["lake_uri"],
        "BIGQUERY_DATASET": outputs["bigquery_dataset"],
        "GOOGLE_LOCATION": outputs["location"],
        "POSTGRES_HOST": outputs["database_host"],
        "POSTGRES_USER": outputs["database_user"],
    }
    workload_identity = {"iam.gke.io/gcp-service-account": outputs["pipeline_service_account"]}
    database = {"postgresqlHost": outputs["database_host"], "postgresqlUsername": outputs["database_user"]}
    return {
        "global": {"serviceAccountName": outputs["kubernetes_service_account"]},
        "serviceAccount": {"annotations": workload_identity},
        "dagsterWebserver": {"image": image},
        "dagsterDaemon": {"image": image},
        "dagster-user-deployments": {"deployments": [deployment]},
        "postgresql": database,
        "computeLogManager": {"config": {"gcsComputeLogManager": {"bucket": outputs["logs_bucket"]}}},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", required=True, help="the image tag pushed (e.g. the commit)")
    parser.add_argument("outputs", nargs="+", type=Path, help="`terraform output -json` files")
    args = parser.parse_args(argv)
    values = yaml.safe_load(VALUES.read_text())
    yaml.safe_dump(gke_values(outputs_of(args.outputs), args.tag, values), sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
