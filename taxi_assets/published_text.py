"""Values the yellow 2009 and 2010 files publish in another form than the canonical layout's:
times and rate codes as text, vendors and payments as words, 2009's store-and-forward flag as a
number. Each converter takes one column of a batch and returns it in the canonical type, or
raises :class:`Unreadable` naming the first value (by its index in the batch) that does not
convert: the reader adds the file, month, column and row.

Times: the files write ``YYYY-MM-DD HH:MM:SS`` (Arrow's ISO 8601 parser, which also takes a ``T``
between date and time and fractions of a second). Empty text is a missing value, as a null is.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from taxi_assets.schema import Column


class Unreadable(ValueError):
    """A published value that does not convert: its index in the batch, and what was expected."""

    def __init__(self, index: int, value: object, expected: str) -> None:
        super().__init__(f"cannot read {value!r} as {expected}")
        self.index, self.value, self.expected = index, value, expected


def _blank_as_null(text: pa.Array) -> pa.Array:
    trimmed = pc.utf8_trim_whitespace(text)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def converted(values: pa.Array, column: Column) -> pa.Array:
    """``values`` (text, or numbers where ``column`` gives text as numbers) as ``column``'s type."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        text = _blank_as_null(pc.cast(values, pa.string()))
        if pa.types.is_timestamp(column.type):
            return _times(text, column.type)
        if column.words is not None:
            return _coded(text, column.words, column.type)
        return _whole_numbers(text, column.type)
    assert column.numbers_as_text is not None, column.name
    return _as_text(values, column.numbers_as_text)


def _cast(text: pa.Array, type_: pa.DataType, expected: str) -> pa.Array:
    try:
        return pc.cast(text, type_)
    except pa.ArrowInvalid:
        pass
    # Only a bad file pays for this: each value on its own, to name the first that fails.
    for index, value in enumerate(text.to_pylist()):
        if value is None:
            continue
        try:
            pc.cast(pa.array([value], pa.string()), type_)
        except pa.ArrowInvalid:
            raise Unreadable(index, value, expected) from None
    raise AssertionError("a cast that failed on the whole failed on no value")  # pragma: no cover


def _times(text: pa.Array, type_: pa.DataType) -> pa.Array:
    return _cast(text, type_, "a time (YYYY-MM-DD HH:MM:SS)")


def _coded(text: pa.Array, words: Mapping[str, int], type_: pa.DataType) -> pa.Array:
    found = pc.index_in(pc.utf8_upper(text), value_set=pa.array(list(words), pa.string()))
    unknown = pc.and_(pc.is_valid(text), pc.is_null(found))
    if pc.any(unknown).as_py():
        index = pc.index(unknown, True).as_py()
        known = ", ".join(sorted(words))
        raise Unreadable(
            index,
            text[index].as_py(),
            f"one of the known words ({known}); a new word is a new fact: add it, with its code and "
            "where it was seen, to the column's words in taxi_assets/schema.py",
        )
    return pc.take(pa.array(list(words.values()), type_), found)


def _whole_numbers(text: pa.Array, type_: pa.DataType) -> pa.Array:
    numbers = _cast(text, pa.float64(), "a number")
    fractional = pc.fill_null(pc.not_equal(numbers, pc.floor(numbers)), False)
    if pc.any(fractional).as_py():
        index = pc.index(fractional, True).as_py()
        raise Unreadable(index, text[index].as_py(), "a whole number")
    return pc.cast(numbers, type_)


def _as_text(numbers: pa.Array, texts: Mapping[int, str]) -> pa.Array:
    as_float = pc.cast(numbers, pa.float64())
    as_float = pc.if_else(pc.is_nan(as_float), pa.scalar(None, pa.float64()), as_float)
    found = pc.index_in(as_float, value_set=pa.array([float(n) for n in texts], pa.float64()))
    unknown = pc.and_(pc.is_valid(as_float), pc.is_null(found))
    if pc.any(unknown).as_py():
        index = pc.index(unknown, True).as_py()
        raise Unreadable(index, numbers[index].as_py(), f"one of {', '.join(str(n) for n in texts)}")
    return pc.take(pa.array(list(texts.values()), pa.string()), found)
