"""Published files as a test reads or rewrites them: a month fetched and read whole, what a refusal
says, a CSV rewritten, a generated month as an era's layout holds it.
"""

import gzip
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from taxi_assets.schema import (
    FREEZE,
    SCHEMAS,
    Layout,
    TripSchema,
)
from taxi_assets.source import SourceError
from taxi_assets_tests.support.source_server import SourceServer
from taxi_dev.month_tables import read_trips
from taxi_dev.synthetic import generate_trips


def rewrite(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    """Rewrite a published gzip CSV through ``edit(lines) -> lines``."""
    with gzip.open(path, "rt") as f:
        lines = f.read().splitlines()
    with gzip.open(path, "wt") as f:
        f.write("\n".join(edit(lines)) + "\n")


def fetch_table(server: SourceServer, service: str, month: str, contract: str = FREEZE) -> pa.Table:
    """The month fetched from ``server`` and read under the schema ``contract``, every row."""
    with server.source().fetch(service, month) as fetched:
        return read_trips(fetched, SCHEMAS[service], contract)


def refusal(server: SourceServer, service: str, month: str, contract: str = FREEZE) -> str:
    """What a user reads first when the month is refused: the SourceError's first line, which must
    begin with the file's URL, service and month; the rest of the line is returned.
    """
    with pytest.raises(SourceError) as error:
        fetch_table(server, service, month, contract)
    line = str(error.value).splitlines()[0]
    where = f"{server.url(service, month)} ({service} {month}): "
    assert line.startswith(where)
    return line.removeprefix(where)


def unknown_column(column: str, service: str) -> str:
    """What the reader says of a column in no known layout of ``service``, under freeze."""
    return (
        f"unknown column(s) '{column}', in no known {service} layout; if the publisher added it, add it "
        f"to the {service} columns in taxi_assets/schema.py (type, the layout that has it) and "
        "data_dictionary.yaml (description) and re-run, or load with TAXI_SCHEMA_CONTRACT=evolve (add it) "
        "or discard (leave it out); nothing was written"
    )


# Rows of a generated month in an era's layout.
ROWS = 3_000


def as_the_era_has_it(schema: TripSchema, layout: Layout, month: str) -> pa.Table:
    """The generated month as the canonical layout holds it after ``layout``: the columns the era
    lacks, or publishes typed null, are null.
    """
    canonical = generate_trips(schema.service, month, ROWS)
    present = {schema.published_as(f.name).name for f in layout.fields if not pa.types.is_null(f.type)}
    columns = [
        canonical.column(c.name) if c.name in present else pa.nulls(ROWS, c.type) for c in schema.columns
    ]
    return pa.Table.from_arrays(columns, schema=schema.raw_arrow_schema)
