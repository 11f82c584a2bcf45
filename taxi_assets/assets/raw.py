"""Raw trips: one month of a service's published file, typed, as published."""

import dagster as dg
import pyarrow as pa
from pydantic import Field

from taxi_assets.errors import reported
from taxi_assets.keys import RAW, asset_key
from taxi_assets.metadata import column_schema, frame_metadata
from taxi_assets.partitions import MONTHLY_BACKFILL, monthly_partitions, wall_clock
from taxi_assets.schema import TripSchema
from taxi_assets.source import SourceError, TaxiSource
from taxi_assets.transform import implausible_month
from taxi_assets.trip_files import read_trips


class RawTripsConfig(dg.Config):
    accept_implausible_month: bool = Field(
        default=False,
        description="Load the month even if its file holds no trips or mostly another month's: "
        "it then replaces that month in every sink. Off, such a file fails the run and changes nothing.",
    )


class ImplausibleMonth(SourceError):
    """A file that parses but cannot be the month it is published as."""


def build_raw_trips(schema: TripSchema) -> dg.AssetsDefinition:
    service = schema.service
    key = asset_key(service, RAW)

    @dg.asset(
        key=key,
        description=f"{schema.title} of one month, typed, as published.",
        partitions_def=monthly_partitions(service),
        backfill_policy=MONTHLY_BACKFILL,
        group_name=service,
        kinds={"csv", "pyarrow", "parquet"},
        metadata={
            "dagster/column_schema": column_schema(schema.raw_arrow_schema, schema.descriptions(snake=False))
        },
    )
    @reported
    def raw_trips(
        context: dg.AssetExecutionContext, config: RawTripsConfig, taxi_source: TaxiSource
    ) -> dg.Output[pa.Table]:
        month = context.partition_key
        with taxi_source.fetch(service, month) as source:
            context.log.info(f"downloaded {source.url} ({source.size_bytes:,} bytes)")
            frame = read_trips(source, schema)
        problem = implausible_month(frame, schema.pickup_column, *wall_clock(context.partition_time_window))
        if problem and not config.accept_implausible_month:
            op = key.to_python_identifier()
            raise ImplausibleMonth(
                f"{service} {month} ({source.url}): {problem}; nothing was written. If the file is right, "
                f"run it with the config ops: {{{op}: {{config: {{accept_implausible_month: true}}}}}}"
            )
        if problem:
            context.log.warning(f"{service} {month}: {problem}; loaded as asked (accept_implausible_month)")
        return dg.Output(
            frame,
            metadata={
                **frame_metadata(frame, schema.descriptions(snake=False)),
                "source_url": dg.MetadataValue.url(source.url),
                "source_bytes": source.size_bytes,
                "source_sha256": source.sha256,
            },
        )

    return raw_trips
