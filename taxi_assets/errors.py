"""The project's errors: worded for the user, and shown by Dagster as they are.

Every error the project raises on bad input or bad settings derives from :class:`TaxiError`; its
first line names the setting, file, column or row at fault, and what to do. Dagster shows an
exception raised in an asset or IO manager under a line of its own ("Error occurred while
executing op …"), except :class:`dagster.Failure`, whose description it shows first: the
``as_dagster_failure`` decorator turns the one into the other where Dagster calls the project's code.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Generator
from typing import ParamSpec, TypeVar

import dagster as dg

P = ParamSpec("P")
R = TypeVar("R")


class TaxiError(Exception):
    """Bad input or bad settings, worded so that the first line says what to fix."""


def as_dagster_failure(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn``, with a :class:`TaxiError` raised as the failure a user sees first; for a generator
    (an asset that yields), raised while it runs as well.
    """
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args: P.args, **kwargs: P.kwargs) -> Generator[object, object, object]:
            try:
                return (yield from fn(*args, **kwargs))
            except TaxiError as exc:
                raise dg.Failure(description=str(exc)) from exc

        return generator  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except TaxiError as exc:
            raise dg.Failure(description=str(exc)) from exc

    return wrapper
