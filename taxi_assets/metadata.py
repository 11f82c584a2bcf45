"""Metadata the assets carry: row count, column schema with descriptions, a preview, files written."""

import itertools
from collections.abc import Mapping

import dagster as dg
import pandas as pd
import pyarrow as pa

from taxi_assets.batches import CountedRows
from taxi_assets.schema import SCHEMAS, added_descriptions
from taxi_assets.transform import to_pandas


def column_schema(schema: pa.Schema, descriptions: Mapping[str, str]) -> dg.TableSchema:
    """Dagster's column metadata from an Arrow schema and the trip schema's descriptions."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=f.name, type=str(f.type), description=descriptions.get(f.name))
            for f in schema
        ]
    )


def preview_metadata(counted: CountedRows, descriptions: Mapping[str, str]) -> dict[str, object]:
    """Of rows a writer has just stored: which columns, a few of them, what their reader summed up."""
    head: pd.DataFrame = to_pandas(counted.head)
    return {
        "dagster/column_schema": column_schema(
            counted.rows.schema, {**descriptions, **added_descriptions(counted.rows.schema)}
        ),
        "preview": dg.MetadataValue.md(head.to_markdown(index=False)),
    }


def rows_metadata(counted: CountedRows, descriptions: Mapping[str, str]) -> dict[str, object]:
    """What a user looks at first, of one partition a writer has just stored: how many rows, which
    columns, a few.
    """
    return {**run_rows(counted.count, 1), **preview_metadata(counted, descriptions)}


def run_rows(rows: int, partitions: int) -> dict[str, object]:
    """How many rows a run wrote. Every partition of a range run gets the same output metadata
    (the daily writers count a window, not each day; a month's own goes through
    ``partition_metadata.py``), and Dagster's UI reads ``dagster/partition_row_count`` as each
    partition's own: a run over several partitions says how many rows the whole run wrote, under
    names of its own.
    """
    if partitions == 1:
        return {"dagster/partition_row_count": rows}
    return {"rows_written_by_run": rows, "partitions_in_run": partitions}


# A range run's files are listed in every day's materialisation event: a month's worth of names,
# not a year's (943 days listed in each of 943 events made the history backfill's events 100 KB each).
_FILES_LISTED = 31


def written_files(where: str, written: Mapping[str, int]) -> dict[str, object]:
    """Where a lake write went: the asset's folder, the files (the first month's worth, if more)
    with their sizes.
    """
    listed = [f"- `{uri}` ({size:,} B)" for uri, size in itertools.islice(written.items(), _FILES_LISTED)]
    if len(written) > _FILES_LISTED:
        listed.append(f"- … and {len(written) - _FILES_LISTED:,} more under `{where}`")
    return {
        "lake_uri": dg.MetadataValue.path(where),
        "files_written": len(written),
        "bytes_written": sum(written.values()),
        "files": dg.MetadataValue.md("\n".join(listed)),
    }


def descriptions_of(metadata: Mapping[str, object]) -> dict[str, str]:
    """Column descriptions from an asset's ``dagster/column_schema`` definition metadata."""
    schema = metadata.get("dagster/column_schema")
    return {c.name: c.description for c in getattr(schema, "columns", []) if c.description}


def table_descriptions(service: str, rows: pa.Schema) -> dict[str, str]:
    """What a service's table says of each column of ``rows``: the trip schema's descriptions, and
    those the columns a load added under evolve carry.
    """
    return {**SCHEMAS[service].descriptions(snake=True), **added_descriptions(rows)}


def counts_agree(store: Mapping[str, int], lake: Mapping[str, int], name: str) -> dg.AssetCheckResult:
    """A check's answer to "does ``name`` hold, each day, as many rows as the lake?"."""
    differing = {
        day: {name: store.get(day, 0), "lake": lake.get(day, 0)}
        for day in sorted(set(store) | set(lake))
        if store.get(day, 0) != lake.get(day, 0)
    }
    return dg.AssetCheckResult(
        passed=not differing,
        metadata={
            f"{name}_rows": sum(store.values()),
            "lake_rows": sum(lake.values()),
            "days_differing": dg.MetadataValue.json(differing),
        },
    )
