"""A published file the project watches for changes: an observable source asset whose data version
is the SHA-256 of its bytes, the job that observes it and the daily schedule that runs that job.

Hashing the bytes is exact whatever caching headers the CDN sends (an ETag or Last-Modified may
change without the content, or be missing behind a mirror), and the files watched are small (the
zone lookup 12 KB, the zone shapes about 1 MB). An eager asset downstream is loaded again by
automation each time an observation finds new bytes.
"""

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pyarrow as pa

from taxi_assets.defs.assets import chosen_beta_apis
from taxi_assets.errors import as_dagster_failure
from taxi_assets.keys import ZONES_GROUP
from taxi_assets.resources.lake import Lake
from taxi_assets.source import SourceFile, TaxiSource

Fetch = Callable[[TaxiSource], AbstractContextManager[SourceFile]]


@dataclass(frozen=True)
class ObservedFile:
    """The source asset of a published file, and its observation job and schedule."""

    asset: dg.SourceAsset
    job: Any  # what dg.define_asset_job returns: its class is not among Dagster's public names
    schedule: dg.ScheduleDefinition


def observed_file(
    key: dg.AssetKey,
    fetch: Fetch,
    *,
    description: str,
    metadata: dict[str, object],
    what: str,
    cron_schedule: str,
) -> ObservedFile:
    """``key``, fetched by ``fetch``, observed daily at ``cron_schedule``; ``what`` names it in the
    job's and schedule's descriptions ("the taxi zone lookup").
    """

    @as_dagster_failure
    def observe(taxi_source: TaxiSource) -> dg.ObserveResult:
        with fetch(taxi_source) as source:
            digest = hashlib.sha256(source.path.read_bytes()).hexdigest()
        return dg.ObserveResult(
            data_version=dg.DataVersion(digest),
            metadata={"url": dg.MetadataValue.url(source.shown_url), "bytes": source.size_bytes},
        )

    observe.__name__ = key.path[-1]
    with chosen_beta_apis():
        asset = dg.observable_source_asset(
            key=key, group_name=ZONES_GROUP, description=description, metadata=metadata
        )(observe)
    name = key.path[-1].removesuffix("_file")
    job = dg.define_asset_job(
        f"observe_{name}",
        selection=dg.AssetSelection.assets(key),
        description=f"Looks at the published {what}: a new data version when its bytes changed.",
    )
    schedule = dg.ScheduleDefinition(
        name=f"observe_{name}_daily",
        job=job,
        cron_schedule=cron_schedule,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"The {what} changes a few times a decade: one small download a day notices it.",
    )
    return ObservedFile(asset, job, schedule)


def loaded_into_lake(
    context: dg.AssetExecutionContext,
    fetched: AbstractContextManager[SourceFile],
    read: Callable[[SourceFile], pa.Table],
    lake: Lake,
    key: dg.AssetKey,
) -> tuple[pa.Table, dict[str, object]]:
    """A watched file downloaded, read and written to the lake as ``key``: its table, and the metadata
    every such asset shows (rows, the SHA-256 its observation compares, the lake's file).
    """
    with fetched as source:
        context.log.info(f"downloaded {source.shown_url} ({source.size_bytes:,} bytes)")
        table = read(source)
        digest = hashlib.sha256(source.path.read_bytes()).hexdigest()
    written = lake.write_file(key.path[:-1], key.path[-1], table)
    return table, {
        "dagster/row_count": table.num_rows,
        "source_sha256": digest,
        "lake_file": dg.MetadataValue.path(next(iter(written))),
    }
