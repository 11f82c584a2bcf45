"""Reading a downloaded trip file, whatever its era, into the service's canonical layout.

A file is read a record batch at a time (a parquet file by row group, a CSV by block) and each
batch is converted to the canonical layout on its own: columns matched by their published
spellings, integers cast from int32 or whole doubles, timestamps to microseconds, a column the
file lacks filled with nulls. The raw asset hands :func:`canonical_batches` to the lake as they
come, so a month of any size is never in memory whole. The lake's files are read back with the
same parquet readers (:func:`parquet_file`, :func:`parquet_batches`).

Every error's first line names the file (URL), the service and month, the column, the data row
where there is one, and what to do; nothing downstream runs, so no sink changes.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from isal import igzip, isal_zlib

from taxi_assets import batches
from taxi_assets.published_text import Unreadable, converted
from taxi_assets.schema import (
    DROPOFF_POINT,
    DROPOFF_ZONE,
    EVOLVE,
    FREEZE,
    IGNORED_COLUMNS,
    PICKUP_DATE,
    PICKUP_POINT,
    PICKUP_ZONE,
    REJECT_REASON,
    Column,
    TripSchema,
    accepts,
    added_column_description,
    stored_type,
)
from taxi_assets.source import SourceError, SourceFile

# A CSV file is parsed a chunk of BATCH_ROWS × this many bytes at a time (32 MB, about a batch of
# the TLC's 90-130-character rows), each chunk by read_csv in blocks of _CSV_BLOCK on every core.
_CSV_BYTES_PER_ROW = 128
_CSV_BLOCK = 4 << 20
_CSV_ERROR = re.compile(
    r"CSV column #(\d+): (?:Row #(\d+): )?CSV conversion error to ([^:]+): invalid value '(.*)'"
)
_NOTHING_WRITTEN = "nothing was written"
_FIX_THE_FILE = (
    "fix or re-publish the file, or point TAXI_SOURCE_URL_TEMPLATE at a good copy; " + _NOTHING_WRITTEN
)


@dataclass(frozen=True)
class Plan:
    """Which published column becomes which canonical one, for one file."""

    published: dict[str, str]  # canonical name → the file's name for it
    published_types: dict[str, pa.DataType]  # canonical name → the file's type (parquet only)
    # The load's layout: the service's, plus the columns no layout has that evolve added.
    schema: TripSchema
    # Columns no layout has that this load leaves out (discard; under evolve, those typed null).
    dropped: tuple[str, ...] = ()

    @property
    def added(self) -> tuple[Column, ...]:
        return self.schema.added


def read_plan(source: SourceFile, schema: TripSchema, contract: str = FREEZE) -> Plan:
    """How the file's columns (its parquet footer, or its CSV header) map to ``schema`` under the
    schema ``contract``; a file that cannot be read this way fails here, before any row is read.
    """
    if source.format == "parquet":
        footer = _footer(source).schema_arrow
        columns = [(f.name, f.type) for f in footer if f.name not in IGNORED_COLUMNS]
        return plan_columns(source, schema, columns, contract)
    header = read_header(source)
    unknown = [name for name in header if schema.published_as(name) is None]
    inferred = _csv_types(source, header, unknown) if unknown and contract == EVOLVE else {}
    return plan_columns(source, schema, [(name, inferred.get(name)) for name in header], contract)


def canonical_batches(source: SourceFile, plan: Plan | TripSchema) -> Iterator[pa.RecordBatch]:
    """The file's rows as record batches of the load's canonical layout (``plan.schema``; a schema
    alone is planned under freeze), in file order.
    """
    if isinstance(plan, TripSchema):
        plan = read_plan(source, plan)
    if source.format == "parquet":
        yield from _parquet_batches(source, plan)
    else:
        yield from batches.rebatched(_csv_batches(source, plan))


# --- matching a file's columns to the canonical layout ----------------------------------------


def plan_columns(
    source: SourceFile,
    schema: TripSchema,
    columns: Sequence[tuple[str, pa.DataType | None]],
    contract: str = FREEZE,
) -> Plan:
    """Match a file's columns (name, type or None for CSV) to the canonical layout, or fail naming
    every doubled, missing or impossibly typed column; a column no layout has is added, refused or
    left out as ``contract`` says (evolve, freeze, discard).
    """
    where, service = source.where, schema.service
    unknown = [(name, type_) for name, type_ in columns if schema.published_as(name) is None]
    dropped: tuple[str, ...] = ()
    if unknown and contract == FREEZE:
        them = "it" if len(unknown) == 1 else "them"
        raise SourceError(
            f"{where}: unknown column(s) {', '.join(repr(n) for n, _ in unknown)}, in no known {service} "
            f"layout; if the publisher added {them}, add {them} to the {service} columns in "
            f"taxi_assets/schema.py (type, the layout that has {them}) and data_dictionary.yaml "
            f"(description) and re-run, or load with TAXI_SCHEMA_CONTRACT=evolve (add {them}) or discard "
            f"(leave {them} out); "
            f"{_NOTHING_WRITTEN}"
        )
    if unknown and contract == EVOLVE:
        added = _added_columns(source, schema, unknown)
        dropped = tuple(name for name, _ in unknown if name not in {c.name for c in added})
        schema = schema.with_added(added)
    elif unknown:
        dropped = tuple(name for name, _ in unknown)
    published: dict[str, str] = {}
    types: dict[str, pa.DataType] = {}
    for name, type_ in columns:
        column = schema.published_as(name)
        if column is None:
            continue  # left out: discarded, or empty and typed null
        if column.name in published:
            raise SourceError(
                f"{where}: columns {published[column.name]!r} and {name!r} are both {column.name!r}; "
                f"{_FIX_THE_FILE}"
            )
        published[column.name] = name
        if type_ is not None:
            types[column.name] = type_
    missing = [name for name in schema.required if name not in published]
    # Where each trip began and ended: zone ids from 2011, positions to place in zones before (yellow
    # 2009-2010); so a zone id is not in every layout, yet a file with neither is broken.
    for zone, point in ((PICKUP_ZONE, PICKUP_POINT), (DROPOFF_ZONE, DROPOFF_POINT)):
        unplaced = schema.has(zone) and zone not in published and zone not in missing
        if unplaced and not all(part in published for part in point):
            raise SourceError(
                f"{where}: missing column(s) {zone!r}, and no positions to place the trips in zones "
                f"({', '.join(repr(part) for part in point)}); {_FIX_THE_FILE}"
            )
    if missing:
        raise SourceError(
            f"{where}: missing column(s) {', '.join(repr(n) for n in missing)}, which every {service} "
            f"layout has; {_FIX_THE_FILE}"
        )
    for name, type_ in types.items():
        column = schema.column(name)
        if not column.takes(type_):
            raise SourceError(
                f"{where}: column {published[name]!r} is {type_} in this file, where {service} "
                f"needs {column.type} (published as {_accepted(column)}); {_FIX_THE_FILE}"
            )
    return Plan(published, types, schema, dropped)


def _added_columns(
    source: SourceFile, schema: TripSchema, unknown: Sequence[tuple[str, pa.DataType | None]]
) -> list[Column]:
    """The unknown columns evolve adds, each typed as the stores hold its published type; one typed
    null (empty all month) has no type yet and is left out. A type no store can hold fails.
    """
    added: list[Column] = []
    taken = {c.snake_name for c in schema.columns} | {PICKUP_DATE, REJECT_REASON}
    for name, published in unknown:
        try:
            type_ = stored_type(published if published is not None else pa.string())
        except TypeError as exc:
            raise SourceError(
                f"{source.where}: new column {name!r} is {published}, which the stores cannot hold ({exc}); "
                f"load with TAXI_SCHEMA_CONTRACT=discard to leave it out, or add it to the "
                f"{schema.service} columns in taxi_assets/schema.py; {_NOTHING_WRITTEN}"
            ) from None
        if type_ is None:
            continue
        month = source.month or ""
        column = Column(name, type_, added_column_description(month), published_from=month)
        if column.snake_name in taken:
            raise SourceError(
                f"{source.where}: new column {name!r} would be stored as {column.snake_name!r}, which the "
                f"{schema.service} trips already have; {_FIX_THE_FILE}"
            )
        taken.add(column.snake_name)
        added.append(column)
    return added


def _accepted(column: Column) -> str:
    if column.is_integer or pa.types.is_floating(column.type):
        return "an integer or a double"
    if pa.types.is_timestamp(column.type):
        return "a timestamp without zone, any unit"
    return "text"


def to_canonical(batch: pa.RecordBatch, plan: Plan, source: SourceFile, first_row: int) -> pa.RecordBatch:
    """One batch of the file in the load's layout; ``first_row`` is its first data row (0-based)."""
    schema = plan.schema
    arrays = []
    for column in schema.columns:
        name = plan.published.get(column.name)
        if name is None:
            arrays.append(pa.nulls(batch.num_rows, column.type))  # a column this era lacks
        else:
            arrays.append(_convert(batch.column(name), column, name, source, first_row))
    return pa.RecordBatch.from_arrays(arrays, schema=schema.raw_arrow_schema)


def _convert(values: pa.Array, column: Column, name: str, source: SourceFile, first_row: int) -> pa.Array:
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), column.type)
    if not accepts(column.type, values.type):
        # Text where the canonical type is not (the 2009-2010 files), or numbers where it is.
        try:
            return converted(values, column)
        except Unreadable as exc:
            raise SourceError(
                f"{source.where}: column {name!r}, data row {first_row + exc.index + 1}: {exc}; "
                f"{_FIX_THE_FILE}"
            ) from None
    if column.is_integer and pa.types.is_floating(values.type):
        # Whole doubles (1.0) are integers written as floats; a NaN is a missing value.
        values = pc.if_else(pc.is_nan(values), pa.scalar(None, values.type), values)
        fractional = pc.fill_null(pc.not_equal(values, pc.floor(values)), False)
        if pc.any(fractional).as_py():
            index = pc.index(fractional, True).as_py()
            raise SourceError(
                f"{source.where}: column {name!r}, data row {first_row + index + 1}: non-integer value "
                f"{values[index].as_py()!r} where a whole number belongs; {_FIX_THE_FILE}"
            )
    if values.type == column.type:
        return values
    try:
        # Timestamps: the TLC's times are whole seconds, so nanoseconds truncate to microseconds
        # without loss (and ns → µs cannot overflow).
        return pc.cast(values, column.type, safe=not pa.types.is_timestamp(column.type))
    except pa.ArrowInvalid as exc:
        raise SourceError(
            f"{source.where}: column {name!r}: {values.type} values do not fit {column.type} ({exc}); "
            f"{_FIX_THE_FILE}"
        ) from exc


# --- parquet ------------------------------------------------------------------------------------


def _footer(source: SourceFile) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(source.path)
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(
            f"{source.where}: not a readable parquet file ({source.size_bytes:,} bytes): it is truncated "
            f"or corrupt, so its footer (the list of columns) cannot be read and no column can be named "
            f"({exc}); download it again, or {_FIX_THE_FILE}"
        ) from exc


# Column chunks read as asked for, not the whole row group's up front.
_PARQUET = ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False))


def parquet_file(path: str, filesystem: pafs.FileSystem) -> ds.ParquetFileFragment:
    """A parquet file to read a row group at a time; its footer (schema, row groups) is read now.

    A dataset fragment, not ``pq.ParquetFile``: that one holds the GIL while it opens a file on
    GCS, which deadlocks against a server in the same process (the tests' emulator).
    """
    fragment = _PARQUET.make_fragment(path, filesystem=filesystem)
    fragment.ensure_complete_metadata()
    return fragment


def parquet_batches(
    fragment: ds.ParquetFileFragment, columns: Sequence[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """A parquet file's rows, a row group at a time, in batches of at most ``batches.BATCH_ROWS``.

    Not ``ParquetFile.iter_batches``: over a whole file it holds on to memory as it goes (a 15M-row
    file peaked at 450 MB where a row group at a time peaks at 235 MB, as a 1.37M-row file does).
    """
    for group in fragment.split_by_row_group():
        yield from group.to_batches(
            batch_size=batches.BATCH_ROWS, columns=columns, batch_readahead=0, fragment_readahead=0
        )


def _parquet_batches(source: SourceFile, plan: Plan) -> Iterator[pa.RecordBatch]:
    parquet = _footer(source)
    wanted = list(plan.published.values())
    row = 0
    try:
        for batch in parquet_batches(parquet_file(str(source.path), pafs.LocalFileSystem()), wanted):
            canonical = to_canonical(batch, plan, source, row)
            row += batch.num_rows
            yield canonical
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable_column(parquet, wanted, source, exc) from exc


def _unreadable_column(
    parquet: pq.ParquetFile, columns: list[str], source: SourceFile, exc: Exception
) -> SourceError:
    """A file whose footer reads but whose data does not: find the column chunk that fails."""
    first_row = 0
    for group in range(parquet.num_row_groups):
        rows = parquet.metadata.row_group(group).num_rows
        for name in columns:
            try:
                parquet.read_row_group(group, columns=[name])
            except (pa.ArrowException, OSError) as column_exc:
                return SourceError(
                    f"{source.where}: column {name!r}, data rows {first_row + 1}-{first_row + rows} "
                    f"(row group {group}): the stored data is corrupt or cut short ({column_exc}); "
                    f"download it again, or {_FIX_THE_FILE}"
                )
        first_row += rows
    return SourceError(
        f"{source.where}: unreadable parquet data ({exc}); download it again, or {_FIX_THE_FILE}"
    )


# --- CSV ----------------------------------------------------------------------------------------


def _csv_chunk() -> int:
    return batches.BATCH_ROWS * _CSV_BYTES_PER_ROW


def _open_csv(source: SourceFile):
    # ISA-L inflates about 3× faster than zlib; pyarrow's own gzip stream is zlib.
    return igzip.open(source.path, "rb") if source.format == "csv.gz" else source.path.open("rb")


def read_header(source: SourceFile) -> list[str]:
    try:
        with _open_csv(source) as f:
            line = f.readline().decode("utf-8-sig")
    except (OSError, EOFError, zlib.error, isal_zlib.error, UnicodeDecodeError) as exc:
        raise SourceError(
            f"{source.where}: not a readable {source.format} file ({exc}); {_FIX_THE_FILE}"
        ) from exc
    if not line.strip():
        raise SourceError(
            f"{source.where}: the file is empty (no header, no rows); the publisher may not have "
            f"finished writing it: wait and re-run, or {_FIX_THE_FILE}"
        )
    return [name.strip().strip('"') for name in line.rstrip("\r\n").split(",")]


def _parse_type(column: Column) -> pa.DataType:
    # Integers are read as float64 first: some published files write them as "1.0".
    return pa.float64() if column.is_integer else column.type


def _csv_types(source: SourceFile, header: list[str], names: list[str]) -> dict[str, pa.DataType]:
    """The types Arrow infers for ``names`` from the file's first chunk: what a new column is typed
    as (a CSV says nothing of types); a later value that does not parse as it fails naming its row.
    """
    with _open_csv(source) as stream:
        stream.readline()
        chunk = next(_line_chunks(stream, _csv_chunk()), b"")
    if not chunk:
        return {}
    try:
        table = pacsv.read_csv(
            pa.BufferReader(chunk),
            read_options=pacsv.ReadOptions(column_names=header, block_size=_CSV_BLOCK),
            convert_options=pacsv.ConvertOptions(
                include_columns=names,
                strings_can_be_null=True,
                timestamp_parsers=[pacsv.ISO8601, "%Y-%m-%d %H:%M:%S"],
            ),
        )
    except pa.ArrowInvalid as exc:
        raise SourceError(f"{source.where}: {exc}; {_FIX_THE_FILE}") from exc
    return {name: table.schema.field(name).type for name in names}


def _csv_batches(source: SourceFile, plan: Plan) -> Iterator[pa.RecordBatch]:
    header = read_header(source)
    schema = plan.schema
    parse_types = {plan.published[c.name]: _parse_type(c) for c in schema.columns if c.name in plan.published}
    read_options = pacsv.ReadOptions(column_names=header, block_size=_CSV_BLOCK)
    convert_options = pacsv.ConvertOptions(
        column_types=parse_types,
        include_columns=[name for name in header if schema.published_as(name) is not None],
        strings_can_be_null=True,
        # Arrow's own ISO 8601 parser reads the TLC's "2021-01-01 00:30:10" several times faster
        # than strptime; strptime stays as the fallback, so the same values parse.
        timestamp_parsers=[pacsv.ISO8601, "%Y-%m-%d %H:%M:%S"],
    )
    row = 0
    try:
        with _open_csv(source) as stream:
            stream.readline()  # the header, read above
            # Whole lines a chunk at a time, inflated one chunk ahead: each chunk is parsed by
            # read_csv on every core, which is twice as fast as Arrow's streaming reader (serial).
            for chunk in batches.read_ahead(_line_chunks(stream, _csv_chunk())):
                parsed = pacsv.read_csv(
                    pa.BufferReader(chunk), read_options=read_options, convert_options=convert_options
                )
                if parsed.num_rows:
                    # One batch per chunk: converting many small blocks costs more than one copy.
                    batch = parsed.combine_chunks().to_batches()[0]
                    yield to_canonical(batch, plan, source, row)
                    row += batch.num_rows
    except pa.ArrowInvalid as exc:
        raise _conversion_error(exc, header, parse_types, source) from exc
    except (OSError, EOFError, zlib.error, isal_zlib.error) as exc:
        raise SourceError(f"{source.where}: corrupt gzip data ({exc}); {_FIX_THE_FILE}") from exc


def _line_chunks(stream: BinaryIO, size: int) -> Iterator[bytes]:
    """The stream's bytes in chunks of about ``size``, each topped up to the end of its last line."""
    while chunk := stream.read(size):
        chunk += stream.readline()
        if chunk.strip():
            yield chunk


def _conversion_error(
    exc: pa.ArrowInvalid, header: list[str], parse_types: dict[str, pa.DataType], source: SourceFile
) -> SourceError:
    message = str(exc)
    match = _CSV_ERROR.search(message)
    if match:
        index, _, _, value = match.groups()
        name = header[int(index)] if int(index) < len(header) else f"#{index}"
        target = parse_types.get(name, pa.string())
        # Arrow names neither the column nor the row in the file (a row it names counts from the
        # chunk's start): find the row by reading that one column again as text, which costs a
        # second read only when the file is bad.
        found = _first_unparsable(source, name, target)
        row_text, value = (f", data row {found[0]}", found[1]) if found else ("", value)
        kind = "a timestamp (YYYY-MM-DD HH:MM:SS)" if pa.types.is_timestamp(target) else "a number"
        return SourceError(
            f"{source.where}: column {name!r}{row_text}: cannot read {value!r} as {kind}; {_FIX_THE_FILE}"
        )
    lowered = message.lower()
    if "gzip" in lowered or "zlib" in lowered or "decompress" in lowered:
        return SourceError(f"{source.where}: corrupt gzip data ({message}); {_FIX_THE_FILE}")
    return SourceError(f"{source.where}: {message}; {_FIX_THE_FILE}")


def _first_unparsable(source: SourceFile, name: str, target: pa.DataType) -> tuple[int, str] | None:
    """The first data row (1-based) of column ``name`` whose text does not convert to ``target``."""
    first_row = 0
    try:
        with _open_csv(source) as stream:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK),
                convert_options=pacsv.ConvertOptions(
                    include_columns=[name], column_types={name: pa.string()}, strings_can_be_null=True
                ),
            )
            for batch in reader:
                found = _first_failing(batch.column(0), target)
                if found is not None:
                    return first_row + found + 1, batch.column(0)[found].as_py()
                first_row += batch.num_rows
    except (pa.ArrowException, OSError, EOFError, zlib.error, isal_zlib.error):
        return None
    return None


def _first_failing(text: pa.Array, target: pa.DataType) -> int | None:
    """The index of the first value of ``text`` that does not convert to ``target``, if any."""
    values = pc.if_else(pc.equal(pc.utf8_trim_whitespace(text), ""), pa.scalar(None, pa.string()), text)

    def fails(first: int, end: int) -> bool:
        try:
            pc.cast(values.slice(first, end - first), target)
        except pa.ArrowInvalid:
            return True
        return False

    first, end = 0, len(values)
    if not fails(first, end):
        return None
    # Halving the failing range: about 2n values converted in all, and no Python loop over rows.
    while end - first > 1:
        middle = (first + end) // 2
        first, end = (first, middle) if fails(first, middle) else (middle, end)
    return first
