# One image for the code server, the web server and the daemon: the package installed from
# pyproject.toml, with the instance config (dagster.yaml) in DAGSTER_HOME. No secret is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/dagster/home

WORKDIR /opt/dagster/app

# Dependencies first, so editing code does not reinstall them.
COPY pyproject.toml README.md ./
COPY taxi_assets ./taxi_assets
RUN pip install .

COPY dagster.yaml workspace.yaml ./
RUN useradd --create-home --uid 1000 dagster \
    && mkdir -p "$DAGSTER_HOME/storage" /opt/dagster/data /opt/dagster/keys \
    && cp dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && chown -R dagster:dagster "$DAGSTER_HOME" /opt/dagster/data

USER dagster
EXPOSE 3000 4000
