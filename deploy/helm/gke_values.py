"""Helm values for one GKE deployment, from Terraform's outputs and an image tag.

    python deploy/helm/gke_values.py --tag "$TAG" \\
        terraform/outputs.json terraform/gke/outputs.json > deploy/helm/values.gke.yaml

with each JSON from `terraform -chdir=... output -json`. The result goes after values.yaml
(`helm upgrade --install ... -f deploy/helm/values.yaml -f deploy/helm/values.gke.yaml`). Helm
replaces lists instead of merging them, so the code location's entry is written whole: values.yaml's
entry with this deployment's image and settings.

Every string is written in double quotes. Helm reads values with go-yaml, which takes a plain
1234e56 (a commit's short hash, 1 in 50 of them) for a float and 0128000 for a number too, where
PyYAML's YAML 1.1 rules see strings and would write them bare: the image would be
`...:1.234e+59`, and every pod would fail with InvalidImageName.
"""

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

VALUES = Path(__file__).with_name("values.yaml")
# Runs a backfill leaves to schedules, sensors and runs started by hand (dagster.yaml: 4 and 2).
BACKFILL_HEADROOM = 2


class _QuotedStrings(yaml.SafeDumper):
    """YAML whose string values are all double-quoted, so that no parser reads one as a number;
    mapping keys (names of settings) stay plain.
    """

    def represent_mapping(self, tag: str, mapping: Any, flow_style: bool | None = None) -> yaml.MappingNode:
        node = super().represent_mapping(tag, mapping, flow_style)
        for key, _ in node.value:
            key.style = None
        return node


_QuotedStrings.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
)


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
    runs = outputs["max_concurrent_runs"]
    backfills = {"key": "dagster/backfill", "limit": runs - BACKFILL_HEADROOM}
    database = {"postgresqlHost": outputs["database_host"], "postgresqlUsername": outputs["database_user"]}
    return {
        "global": {"serviceAccountName": outputs["kubernetes_service_account"]},
        "serviceAccount": {"annotations": workload_identity},
        "dagsterWebserver": {"image": image},
        "dagsterDaemon": {"image": image},
        "dagster-user-deployments": {"deployments": [deployment]},
        "postgresql": database,
        "computeLogManager": {"config": {"gcsComputeLogManager": {"bucket": outputs["logs_bucket"]}}},
        "concurrency": {"runs": {"maxConcurrentRuns": runs, "tagConcurrencyLimits": [backfills]}},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", required=True, help="the image tag pushed (e.g. the commit)")
    parser.add_argument("outputs", nargs="+", type=Path, help="`terraform output -json` files")
    args = parser.parse_args(argv)
    values = yaml.safe_load(VALUES.read_text())
    yaml.dump(
        gke_values(outputs_of(args.outputs), args.tag, values),
        sys.stdout,
        Dumper=_QuotedStrings,
        sort_keys=False,
    )


if __name__ == "__main__":
    main()
