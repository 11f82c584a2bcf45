"""Metadata every materialisation carries: row count, column schema with descriptions, a preview."""

from collections.abc import Mapping

import dagster as dg
import pandas as pd
import pyarrow as pa

from taxi_assets.transform import to_pandas

PREVIEW_ROWS = 5


def column_schema(schema: pa.Schema, descriptions: Mapping[str, str]) -> dg.TableSchema:
    """Dagster's column metadata from an Arrow schema and the trip schema's descriptions."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=f.name, type=str(f.type), description=descriptions.get(f.name))
            for f in schema
        ]
    )


def frame_metadata(frame: pa.Table | pd.DataFrame, descriptions: Mapping[str, str]) -> dict[str, object]:
    """What a user looks at first: how many rows, which columns, and a few of them."""
    if isinstance(frame, pa.Table):
        arrow, head = frame.schema, to_pandas(frame.slice(0, PREVIEW_ROWS))
    else:
        arrow, head = pa.Schema.from_pandas(frame.head(0), preserve_index=False), frame.head(PREVIEW_ROWS)
    return {
        # Every asset here is partitioned: the count is the partition's, as Dagster's UI expects.
        "dagster/partition_row_count": len(frame),
        "dagster/column_schema": column_schema(arrow, descriptions),
        "preview": dg.MetadataValue.md(head.to_markdown(index=False)),
    }


def descriptions_of(metadata: Mapping[str, object]) -> dict[str, str]:
    """Column descriptions from an asset's ``dagster/column_schema`` definition metadata."""
    schema = metadata.get("dagster/column_schema")
    return {c.name: c.description for c in getattr(schema, "columns", []) if c.description}
