"""Settings from the environment, as the defaults of a resource's config fields.

A resource built here has, for each setting, ``EnvVar(name)`` as its field's default when the
variable is set (the UI shows the name, never the value), else the embedded default. Defaults,
not configured values: a run configuration that sets only some fields of a resource keeps the
environment's value for the others (configured values would be replaced as a whole).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, TypeVar

import dagster as dg
from pydantic import Field, create_model

from taxi_assets.errors import TaxiError

R = TypeVar("R", bound=dg.ConfigurableResource)


class SettingError(TaxiError, ValueError):
    """A setting with a value the project cannot use; the message names it."""


@dataclass(frozen=True)
class Setting:
    """An environment variable that configures one field, and the field's value when it is unset."""

    name: str
    default: Any = None
    whole_number: bool = False

    @property
    def is_set(self) -> bool:
        return bool(os.environ.get(self.name))

    def value(self) -> Any:
        """The setting's value now: what a run in this environment gets."""
        if not self.is_set:
            return self.default
        raw = os.environ[self.name]
        if not self.whole_number:
            return raw
        try:
            return int(raw)
        except ValueError:
            raise SettingError(f"{self.name} {raw!r} is not a whole number") from None

    def config_default(self) -> Any:
        if not self.is_set:
            return self.default
        self.value()  # a bad value fails here, naming the variable, not when a run starts
        return dg.EnvVar.int(self.name) if self.whole_number else dg.EnvVar(self.name)


def from_environment(cls: type[R], **settings: Setting) -> R:
    """``cls`` configured by the environment: each named field defaults to its setting."""
    fields: dict[str, Any] = {
        name: (
            cls.model_fields[name].annotation,
            Field(default=setting.config_default(), description=cls.model_fields[name].description),
        )
        for name, setting in settings.items()
    }
    # A subclass of the same name: the UI and `isinstance` see the class the code defines.
    configured = create_model(cls.__name__, __base__=cls, __module__=cls.__module__, **fields)
    configured.__doc__ = cls.__doc__
    return configured()
