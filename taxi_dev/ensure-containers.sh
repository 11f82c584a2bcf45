#!/usr/bin/env bash
# What the container test (taxi_assets_tests/test_compose.py) needs, prepared where this machine
# allows it; `make test` runs this first. The test builds the image and brings the compose stack
# up with podman: podman with runc, docker-compose (Debian's 1.29, talking to podman's Docker API)
# and localhost/bookworm-min, a minimal Debian bookworm made with debootstrap (no Docker Hub:
# see docs/compose.md). Each step is done once; a prepared machine costs a few checks.
#
# As root on Debian it installs and makes what is missing. Elsewhere it prints one line saying what
# is missing and how to get it, and the container test then fails saying the same; under CI (CI
# set) that is a failure here already.
set -euo pipefail

BASE_IMAGE=localhost/bookworm-min
CONF=/etc/containers/containers.conf
TOOLS=(podman runc debootstrap docker-compose)

timed() {
  local start=$SECONDS
  "$@"
  echo "  ($* took $((SECONDS - start)) s)" >&2
}

missing_tools() {
  local tool
  for tool in "${TOOLS[@]}"; do
    command -v "$tool" >/dev/null || printf '%s ' "$tool"
  done
}

ready() {
  [[ -z $(missing_tools) ]] && podman image exists "$BASE_IMAGE" 2>/dev/null
}

cannot() {
  echo "container test not prepared: $1; run \`make containers\` as root on Debian 12 (podman from Debian's packages, a base image made with debootstrap)" >&2
  [[ -z ${CI:-} ]] || exit 1
  exit 0
}

# The machine's own Debian mirror, as its apt sources name it, for debootstrap (the base image's
# packages then come from where this machine's come from).
debian_mirror() {
  local codename=$1
  apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
    awk -v suite="$codename" '$2 == suite { print $1; exit }'
}

if ready; then
  echo "container test: podman, docker-compose and $BASE_IMAGE are ready"
  exit 0
fi
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  what=$(missing_tools)
  podman image exists "$BASE_IMAGE" 2>/dev/null || what+="the base image $BASE_IMAGE"
  cannot "missing ${what% }"
fi

missing=$(missing_tools)
if [[ -n $missing ]]; then
  echo "Installing ${missing% } from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  timed apt-get update -qq
  # shellcheck disable=SC2086  # one word per tool
  timed apt-get install -y -qq $missing >/dev/null
fi

# crun, podman's default runtime, fails on this kernel's hybrid cgroups, and podman's default
# ulimits are more than an unprivileged container may set here.
if [[ ! -e $CONF ]] || grep -q '^# taxi-assets' "$CONF"; then
  mkdir -p "$(dirname "$CONF")"
  cat >"$CONF" <<'CONF'
# taxi-assets (taxi_dev/ensure-containers.sh): runc, and ulimits a container may set on this machine.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
else
  echo "$CONF exists and is not ours: left as it is (the tests need runtime = \"runc\" here)"
fi

if podman image exists "$BASE_IMAGE"; then
  echo "$BASE_IMAGE exists"
else
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ $codename == bookworm ]] || cannot "the base image is Debian bookworm, made with debootstrap from this machine's Debian 12 mirror, and this machine runs '${codename:-unknown}'"
  mirror=$(debian_mirror "$codename")
  if [[ -z $mirror ]]; then
    apt-get update -qq
    mirror=$(debian_mirror "$codename")
  fi
  [[ -n $mirror ]] || cannot "no '$codename' Debian mirror in this machine's apt sources (apt-get indextargets)"
  echo "Making $BASE_IMAGE with debootstrap from $mirror"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  timed debootstrap --variant=minbase "$codename" "$root" "$mirror" >/dev/null
  tar -C "$root" -c . | timed podman import --quiet - "$BASE_IMAGE" >/dev/null
fi
podman --version
docker-compose --version
