#!/usr/bin/env bash
# Dagster on GKE, as docs/google-cloud.md describes it, from a project with billing:
#
#   deploy/gke.sh up      terraform/ and terraform/gke/ (each enables its APIs), the image, secrets,
#                         the Helm release
#   deploy/gke.sh ui      the UI on http://127.0.0.1:3000 (a port-forward; stop it with Ctrl-C)
#   deploy/gke.sh pods    the run pods spreading over nodes (kubectl --watch)
#   deploy/gke.sh down    the Helm release and terraform/gke/ destroyed (the lake and dataset stay)
#
# Each step takes what it needs from the steps before it (Terraform's outputs, the image tag),
# never from a copy typed by hand. TAG overrides the image tag (default: the commit); PYTHON, the
# Python with PyYAML that writes the values (default: the project's .venv if made, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=terraform
GKE=terraform/gke
VALUES=deploy/helm/values.yaml
VALUES_GKE=deploy/helm/values.gke.yaml
RELEASE=dagster
if [[ -z ${PYTHON:-} ]]; then
  PYTHON=python3
  [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
# The chart's version is the pinned dagster's (pyproject.toml): the chart and the image agree.
CHART_VERSION=$(sed -n 's/^ *"dagster==\([0-9.]*\)".*/\1/p' pyproject.toml)
# The web server's service port (values.yaml); the chart names its service <release>-webserver.
UI_PORT=3000
# The VPC peering Cloud SQL's private connection makes on the network (terraform/gke/network.tf).
PEERING=servicenetworking-googleapis-com

fail() {
  echo "deploy/gke.sh: $*" >&2
  exit 1
}

# kubectl reaches a GKE cluster only through gke-gcloud-auth-plugin (gcloud components install
# gke-gcloud-auth-plugin); without it, get-credentials succeeds and every kubectl call then fails.
require_tools() {
  local tool
  for tool in gcloud gke-gcloud-auth-plugin terraform docker kubectl helm git; do
    command -v "$tool" >/dev/null || fail "$tool is not on PATH (docs/google-cloud.md, prerequisites)"
  done
  "$PYTHON" -c 'import yaml' 2>/dev/null ||
    fail "PYTHON=$PYTHON cannot import yaml: run make .venv/.installed, or pip install pyyaml"
}

# A tfvars file the user has filled in: present, and none of the example's placeholders left.
require_tfvars() {
  local file=$1/terraform.tfvars
  [[ -f $file ]] || fail "$file is missing: copy $1/terraform.tfvars.example to it and fill it in"
  if grep -qE 'my-gcp-project|203\.0\.113\.' "$file"; then
    fail "$file still holds the example's values (my-gcp-project, 203.0.113.x): set your own"
  fi
}

tfvar() {
  sed -n "s/^$2 *= *\"\(.*\)\"/\1/p" "$1/terraform.tfvars"
}

# terraform/gke takes the project and the pipeline's service account from terraform/'s state.
GKE_VARS=()
read_gke_vars() {
  local account
  account=$(terraform -chdir="$BASE" output -raw service_account_email)
  GKE_VARS=("-var=project=$(tfvar "$BASE" project)" "-var=pipeline_service_account=$account")
}

up() {
  require_tools
  require_tfvars "$BASE"
  require_tfvars "$GKE"
  local project
  project=$(tfvar "$BASE" project)
  [[ -n $project ]] || fail "$BASE/terraform.tfvars sets no project"

  # 1. The lake bucket, the dataset and the pipeline's service account; then the deployment. Each
  # module enables the APIs it needs first (apis.tf), and names the project as the quota project of
  # its requests (main.tf), so a new project and plain application-default credentials will do.
  gcloud config set project "$project"
  terraform -chdir="$BASE" init -input=false
  terraform -chdir="$BASE" apply -input=false
  read_gke_vars
  terraform -chdir="$GKE" init -input=false
  terraform -chdir="$GKE" apply -input=false "${GKE_VARS[@]}"

  # 2. The image, built for GKE's nodes (amd64, also from an ARM laptop), pushed under the commit;
  # uncommitted changes get a tag of their own, or nodes holding the commit's image would keep it.
  local image tag
  image=$(terraform -chdir="$GKE" output -raw image)
  tag=${TAG:-$(git describe --always --abbrev=7 --dirty="-dirty-$(date +%s)")}
  gcloud auth configure-docker "${image%%/*}" --quiet
  docker build --platform linux/amd64 -t "$image:$tag" .
  docker push "$image:$tag"

  # 3. The cluster, its namespace and the two secrets (the password goes through stdin, never on a
  # command line), and this deployment's values.
  local cluster region namespace
  cluster=$(terraform -chdir="$GKE" output -raw cluster_name)
  region=$(terraform -chdir="$GKE" output -raw region)
  namespace=$(terraform -chdir="$GKE" output -raw kubernetes_namespace)
  gcloud container clusters get-credentials "$cluster" --region "$region" --project "$project"
  kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f -
  terraform -chdir="$GKE" output -raw database_password |
    kubectl -n "$namespace" create secret generic dagster-postgresql-secret \
      --from-file=postgresql-password=/dev/stdin --dry-run=client -o yaml | kubectl apply -f -
  # The pods' settings: the database password and, where this shell has one, a private mirror's
  # token (docs/sources.md: A private mirror, safely), as an env file on stdin (printf is the shell's own).
  {
    printf 'POSTGRES_PASSWORD=%s\n' "$(terraform -chdir="$GKE" output -raw database_password)"
    printf 'TAXI_SOURCE_TOKEN=%s\n' "${TAXI_SOURCE_TOKEN-}"
  } | kubectl -n "$namespace" create secret generic taxi-assets-secrets \
    --from-env-file=/dev/stdin --dry-run=client -o yaml | kubectl apply -f -
  "$PYTHON" deploy/helm/gke_values.py --tag "$tag" \
    <(terraform -chdir="$BASE" output -json) <(terraform -chdir="$GKE" output -json) >"$VALUES_GKE"

  # 4. Dagster's chart at the pinned dagster's version, with the project's values.
  helm repo add dagster https://dagster-io.github.io/helm --force-update
  helm repo update dagster
  helm upgrade --install "$RELEASE" dagster/dagster --version "$CHART_VERSION" -n "$namespace" \
    -f "$VALUES" -f "$VALUES_GKE" --wait --timeout 15m
  kubectl -n "$namespace" get pods
}

ui() {
  local namespace
  namespace=$(terraform -chdir="$GKE" output -raw kubernetes_namespace)
  kubectl -n "$namespace" port-forward "svc/$RELEASE-webserver" "$UI_PORT:$UI_PORT"
}

pods() {
  local namespace
  namespace=$(terraform -chdir="$GKE" output -raw kubernetes_namespace)
  kubectl -n "$namespace" get pods -l app.kubernetes.io/part-of=taxi-assets -o wide --watch
}

down() {
  require_tools
  require_tfvars "$BASE"
  require_tfvars "$GKE"
  local namespace network
  namespace=$(terraform -chdir="$GKE" output -raw kubernetes_namespace)
  network=$(terraform -chdir="$GKE" output -raw network)
  read_gke_vars
  helm -n "$namespace" uninstall "$RELEASE" --ignore-not-found
  destroy_gke "$network"
}

# terraform/gke/ destroyed. The service-networking connection is abandoned, not deleted
# (network.tf), and its VPC peering may still hold the network: if Compute refuses a deletion for a
# resource in use while that peering is there, the peering goes and the destroy runs again. Any
# other failure stops here with Terraform's error, and nothing else is deleted.
destroy_gke() {
  local network=$1 errors peerings status=0 in_use=0
  errors=$(mktemp)
  terraform -chdir="$GKE" destroy -input=false "${GKE_VARS[@]}" 2>"$errors" || status=$?
  cat "$errors" >&2
  grep -q "already being used by" "$errors" && in_use=1
  rm -f "$errors"
  ((status == 0)) && return
  if ((in_use)); then
    peerings=$(gcloud compute networks peerings list --network "$network" --format='value(name)')
  fi
  if ! grep -qx "$PEERING" <<<"${peerings-}"; then
    fail "terraform destroy of $GKE failed (above); it was not the service peering, so nothing else was removed"
  fi
  echo "deploy/gke.sh: the network $network is still held by its $PEERING peering: removing it" >&2
  gcloud compute networks peerings delete "$PEERING" --network "$network" --quiet
  terraform -chdir="$GKE" destroy -input=false "${GKE_VARS[@]}"
}

case ${1:-} in
  up | ui | pods | down) "$1" ;;
  *) fail "usage: deploy/gke.sh up|ui|pods|down" ;;
esac
