"""The TLC's taxi zone lookup: the zone ids every trip's pickup and drop-off refer to, by name.

``taxi_zone_lookup.csv`` (https://d37ci6vzurychx.cloudfront.net/misc/taxi_zone_lookup.csv, linked
from the TLC's trip record page) has 265 rows: ``LocationID`` 1-263 are the taxi zones, 264 and
265 stand for an unknown zone ("Unknown", "N/A", and "Outside of NYC" in later revisions); they are
ids like the others, so trips carrying them have a zone in the lookup.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from taxi_assets.schema import Column
from taxi_assets.source import SourceError, SourceFile

ZONES_FILE = "taxi_zone_lookup.csv"  # the name TaxiSource.zones_url ends in

ZONE_COLUMNS = (
    Column("LocationID", pa.int64(), "TLC taxi zone id, as trips' PULocationID and DOLocationID give it."),
    Column("Borough", pa.string(), "Borough of the zone (EWR: Newark Airport; Unknown, N/A: 264, 265)."),
    Column("Zone", pa.string(), "Name of the zone."),
    Column("service_zone", pa.string(), "Service zone: Yellow Zone, Boro Zone, Airports, EWR."),
)
LOCATION_ID = ZONE_COLUMNS[0].snake_name


def zones_arrow_schema() -> pa.Schema:
    """The lookup as stored everywhere: snake_case names (``location_id``, ``borough``, …)."""
    return pa.schema([pa.field(c.snake_name, c.type) for c in ZONE_COLUMNS])


def zone_descriptions() -> dict[str, str]:
    return {c.snake_name: c.description for c in ZONE_COLUMNS}


def read_zone_lookup(source: SourceFile) -> pa.Table:
    """The lookup file as a table of :func:`zones_arrow_schema`, or an error naming the file, and
    the column or row at fault.
    """
    names = [c.name for c in ZONE_COLUMNS]
    try:
        table = pacsv.read_csv(
            source.path,
            convert_options=pacsv.ConvertOptions(
                # "N/A" is a borough and a zone name in the lookup, not a missing value.
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(
            f"{source.shown_url}: not a readable CSV file ({exc}); nothing was written"
        ) from None
    missing = [name for name in names if name not in table.column_names]
    if missing:
        raise SourceError(
            f"{source.shown_url}: missing column(s) {', '.join(repr(n) for n in missing)} of the taxi zone "
            f"lookup (it has {', '.join(table.column_names)}); nothing was written"
        )
    ids = table.column("LocationID")
    for row, value in enumerate(ids.to_pylist(), 1):
        if value is None or not value.strip().isdigit():
            raise SourceError(
                f"{source.shown_url}: column 'LocationID', data row {row}: {value!r} is not a zone id; "
                "nothing was written"
            )
    located = pc.cast(ids, pa.int64())
    if len(pc.unique(located)) != len(located):
        raise SourceError(f"{source.shown_url}: column 'LocationID' repeats an id; nothing was written")
    columns = [located, *(table.column(name) for name in names[1:])]
    return pa.Table.from_arrays(columns, schema=zones_arrow_schema())
