# One image for the code server, the web server, the daemon and the runs, under docker compose and
# on Kubernetes (deploy/helm): the package installed from pyproject.toml with its `k8s` extra (the
# K8sRunLauncher) and its `docker` extra (the DockerRunLauncher compose uses), no test or dev
# tools, with compose's instance config (deploy/compose/dagster.yaml: storage on PostgreSQL from
# DAGSTER_POSTGRES_*, a container per run) in DAGSTER_HOME; the Helm chart mounts its own there.
# No secret is baked in.
#
# BASE_IMAGE: the official slim Python image by default. Any Debian-based image works, with or
# without Python: CI builds on a bare Debian made with debootstrap (taxi_dev/ensure-containers.sh), where
# Python comes from Debian's packages below.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# DAGSTER_EVENT_BATCH_SIZE: Dagster (dagster-postgres) writes a range run's events (a planned and
# a materialisation event per day and asset) in multi-row inserts of up to this many, instead of a
# transaction each; the full-size history backfill spent minutes on those (docs/performance.md).
# Memory (docs/performance.md), read by each process as it starts, so every run worker, code
# server, web server and daemon gets them (the Makefile exports the same for local use):
# - ARROW_DEFAULT_MEMORY_POOL, JE_ARROW_MALLOC_CONF: Arrow's default pool (mimalloc) keeps much of
#   what a step frees; jemalloc handing freed pages back at once (decay 0) keeps a 15M-row month's
#   peak where a 1.37M-row month's is (a month is read batch by batch, freeing a batch at a time);
# - MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_: glibc's malloc (DuckDB, libpq, the CSV reader's
#   buffers) otherwise raises its mmap threshold to the largest block freed and keeps an arena
#   per thread, and a run's resident memory grew with the month (15M rows 40% above 1.37M).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/dagster/venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/home \
    DAGSTER_EVENT_BATCH_SIZE=500 \
    ARROW_DEFAULT_MEMORY_POOL=jemalloc \
    JE_ARROW_MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:0,muzzy_decay_ms:0 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072

RUN if ! command -v python3 >/dev/null; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3 python3-venv \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/dagster/venv

WORKDIR /opt/dagster/app

# The dependencies first, with an empty package standing in, so that editing the code or the README
# reinstalls the package alone. Behind a proxy that re-signs TLS, pass its CA bundle as the build
# secret `pip-ca` (`--secret id=pip-ca,src=/etc/ssl/certs/ca-certificates.crt`), as CI does.
COPY pyproject.toml ./
RUN --mount=type=secret,id=pip-ca \
    mkdir taxi_assets && touch README.md taxi_assets/__init__.py \
    && if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && pip install "setuptools>=68" ".[k8s,docker]"
COPY README.md ./
COPY taxi_assets ./taxi_assets
# With the build backend installed above: no download here.
RUN pip install --no-deps --force-reinstall --no-build-isolation .
# The dbt project (taxi_assets/analytics) parsed here, once: its manifest lands in the installed
# package, so a code server reads it and never runs dbt to start (a run's dbt writes its artifacts
# to a temporary folder of its own).
RUN python -c "from taxi_assets.analytics_project import prepared; print(prepared().manifest_path)"

COPY deploy/compose/dagster.yaml deploy/compose/workspace.yaml ./
COPY deploy/healthcheck.py /opt/dagster/healthcheck.py
# data/ in the working directory is the data folder (compose's volume): a relative path from .env,
# such as the local default TAXI_LAKE_URI=data/lake, lands where it does locally, in the data.
RUN useradd --create-home --uid 1000 dagster \
    && mkdir -p "$DAGSTER_HOME/storage" /opt/dagster/data /opt/dagster/keys \
    && ln -s /opt/dagster/data /opt/dagster/app/data \
    && cp dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && chown -R dagster:dagster "$DAGSTER_HOME" /opt/dagster/data

USER dagster
EXPOSE 3000 4000
# Whichever process the container runs (see deploy/healthcheck.py); Kubernetes uses the chart's
# probes instead.
HEALTHCHECK --interval=15s --timeout=25s --start-period=60s --retries=5 \
    CMD ["python", "/opt/dagster/healthcheck.py"]
