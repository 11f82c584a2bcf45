# One image for the code server, the web server, the daemon and the runs, under docker compose and
# on Kubernetes (deploy/helm): the package installed from pyproject.toml with its `k8s` extra (the
# K8sRunLauncher) and no test or dev tools, with the deployment's instance config
# (deploy/dagster.yaml: storage on PostgreSQL from DAGSTER_POSTGRES_*) in DAGSTER_HOME.
# No secret is baked in.
FROM python:3.11-slim

# DAGSTER_EVENT_BATCH_SIZE: Dagster (dagster-postgres) writes a range run's events (a planned and
# a materialisation event per day and asset) in multi-row inserts of up to this many, instead of a
# transaction each; the full-size history backfill spent minutes on those (README: Performance).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/dagster/home \
    DAGSTER_EVENT_BATCH_SIZE=500

WORKDIR /opt/dagster/app

# Dependencies first, so editing code does not reinstall them.
COPY pyproject.toml README.md ./
COPY taxi_assets ./taxi_assets
RUN pip install ".[k8s]"

COPY deploy/dagster.yaml workspace.yaml ./
COPY deploy/healthcheck.py /opt/dagster/healthcheck.py
RUN useradd --create-home --uid 1000 dagster \
    && mkdir -p "$DAGSTER_HOME/storage" /opt/dagster/data /opt/dagster/keys \
    && cp dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && chown -R dagster:dagster "$DAGSTER_HOME" /opt/dagster/data

USER dagster
EXPOSE 3000 4000
# Whichever process the container runs (see deploy/healthcheck.py); Kubernetes uses the chart's
# probes instead.
HEALTHCHECK --interval=15s --timeout=25s --start-period=60s --retries=5 \
    CMD ["python", "/opt/dagster/healthcheck.py"]
