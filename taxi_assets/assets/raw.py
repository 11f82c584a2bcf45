"""Raw trips: one month of a service's published file, typed, as published."""

import dagster as dg
import pyarrow as pa

from taxi_assets.keys import RAW, asset_key
from taxi_assets.metadata import column_schema, frame_metadata
from taxi_assets.partitions import MONTHLY_BACKFILL, monthly_partitions
from taxi_assets.schema import TripSchema
from taxi_assets.source import TaxiSource
from taxi_assets.trip_files import read_trips


def build_raw_trips(schema: TripSchema) -> dg.AssetsDefinition:
    service = schema.service

    @dg.asset(
        key=asset_key(service, RAW),
        description=f"{schema.title} of one month, typed, as published.",
        partitions_def=monthly_partitions(service),
        backfill_policy=MONTHLY_BACKFILL,
        group_name=service,
        kinds={"csv", "pyarrow", "parquet"},
        metadata={
            "dagster/column_schema": column_schema(schema.raw_arrow_schema, schema.descriptions(snake=False))
        },
    )
    def raw_trips(context: dg.AssetExecutionContext, taxi_source: TaxiSource) -> dg.Output[pa.Table]:
        month = context.partition_key
        with taxi_source.fetch(service, month) as source:
            context.log.info(f"downloaded {source.url} ({source.size_bytes:,} bytes)")
            frame = read_trips(source, schema)
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
