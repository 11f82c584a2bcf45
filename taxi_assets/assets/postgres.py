"""The course's Postgres tables: a service's cleaned trips, one month replaced per run."""

import dagster as dg
import pyarrow as pa

from taxi_assets.assets.cleaned import cleaned_key
from taxi_assets.constants import POSTGRES, postgres_table
from taxi_assets.metadata import column_schema, frame_metadata
from taxi_assets.partitions import monthly_partitions
from taxi_assets.resources import POSTGRES_IO_MANAGER
from taxi_assets.schema import PICKUP_DATE, TripSchema


def postgres_key(schema: TripSchema) -> dg.AssetKey:
    return dg.AssetKey([POSTGRES, postgres_table(schema.service)])


def build_postgres_trips(schema: TripSchema) -> dg.AssetsDefinition:
    service = schema.service
    descriptions = schema.descriptions(snake=True)

    @dg.asset(
        key=postgres_key(schema),
        description=f"{service.title()}-cab cleaned trips in PostgreSQL (the course's "
        f"{postgres_table(service)}), one month replaced per run.",
        ins={"cleaned": dg.AssetIn(key=cleaned_key(schema))},
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
        io_manager_key=POSTGRES_IO_MANAGER,
        pool="postgres",  # dagster.yaml limits concurrent writers per pool
        group_name=service,
        kinds={"postgres", "pyarrow"},
        metadata={
            "partition_expr": PICKUP_DATE,
            "dagster/column_schema": column_schema(schema.cleaned_arrow_schema, descriptions),
        },
    )
    def postgres_trips(cleaned: pa.Table) -> dg.Output[pa.Table]:
        return dg.Output(cleaned, metadata=frame_metadata(cleaned, descriptions))

    return postgres_trips
