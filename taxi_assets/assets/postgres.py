"""The course's PostgreSQL tables: a service's cleaned trips, one month replaced per run."""

import dagster as dg
import pyarrow as pa

from taxi_assets.constants import postgres_table
from taxi_assets.keys import CLEANED, POSTGRES, asset_key
from taxi_assets.metadata import column_schema, frame_metadata
from taxi_assets.partitions import MONTHLY_BACKFILL, monthly_partitions
from taxi_assets.resources import POSTGRES_IO_MANAGER
from taxi_assets.schema import PICKUP_DATE, TripSchema


def build_postgres_trips(schema: TripSchema) -> dg.AssetsDefinition:
    service = schema.service
    descriptions = schema.descriptions(snake=True)

    @dg.asset(
        key=asset_key(service, POSTGRES),
        description=f"{schema.title}, cleaned, in PostgreSQL (the course's "
        f"{postgres_table(service)}), one month replaced per run.",
        ins={"cleaned": dg.AssetIn(key=asset_key(service, CLEANED))},
        partitions_def=monthly_partitions(service),
        backfill_policy=MONTHLY_BACKFILL,
        io_manager_key=POSTGRES_IO_MANAGER,
        pool="postgres",  # dagster.yaml limits concurrent writers per pool
        group_name=service,
        kinds={"postgres", "pyarrow"},
        metadata={
            "partition_expr": PICKUP_DATE,
            "dagster/table_name": postgres_table(service),
            "dagster/column_schema": column_schema(schema.cleaned_arrow_schema, descriptions),
        },
    )
    def postgres_trips(cleaned: pa.Table) -> dg.Output[pa.Table]:
        return dg.Output(cleaned, metadata=frame_metadata(cleaned, descriptions))

    return postgres_trips
