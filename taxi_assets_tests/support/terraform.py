"""terraform/ and terraform/gke/ read as HCL: their resources and data sources by type and name."""

from pathlib import Path
from typing import Any

import hcl2

from taxi_assets_tests.support import REPO

TERRAFORM = REPO / "terraform"

GKE = TERRAFORM / "gke"


def unquote(value: Any) -> Any:
    return value.strip('"') if isinstance(value, str) else value


def module(folder: Path, kinds: tuple[str, ...] = ("resource", "data")) -> dict[str, dict[str, dict]]:
    """Resources and data sources of a module, by type then name, with quotes taken off."""
    found: dict[str, dict[str, dict]] = {}
    for path in sorted(folder.glob("*.tf")):
        with path.open() as f:
            parsed = hcl2.load(f)
        for kind in kinds:
            for block in parsed.get(kind, []):
                for type_, named in block.items():
                    for name, body in named.items():
                        found.setdefault(unquote(type_), {})[unquote(name)] = body
    return found


def blocks(folder: Path, kind: str) -> dict[str, dict]:
    """A module's variables or outputs, by name."""
    found: dict[str, dict] = {}
    for path in sorted(folder.glob("*.tf")):
        with path.open() as f:
            for block in hcl2.load(f).get(kind, []):
                found |= {unquote(name): body for name, body in block.items()}
    return found


def default(folder: Path, variable: str) -> Any:
    return unquote(blocks(folder, "variable")[variable]["default"])


def output(folder: Path, name: str) -> str:
    """An output's value expression, as written in outputs.tf."""
    return unquote(blocks(folder, "output")[name]["value"])
