"""The package stands on Dagster's public API: every Dagster name and attribute it uses is one
Dagster marks ``@public`` (dagster/_symbol_annotations/public.py), but a short, explained list.

What is checked, read from the package's source: attributes of what ``dagster`` exports
(``dg.AutomationCondition.eager``), and attributes of parameters typed with a Dagster class
(``context: dg.OutputContext`` → ``context.asset_partition_keys``), one property deep
(``context.instance.get_run_records``). The names ``dagster`` exports are its public API by its
own convention (everything else lives in ``dagster._*``, which the package never imports); the
marks tell which of their methods and properties are public. Attributes Dagster inherits from
elsewhere (a logger's ``info``) are not Dagster's to mark.
"""

import ast
import enum
import inspect
import typing
from pathlib import Path

import dagster
from dagster._annotations import is_public

PACKAGE = Path(__file__).resolve().parents[1] / "taxi_assets"

# Dagster methods and properties used that carry no @public mark, each with why: none.
ALLOWED: dict[str, str] = {}


def _dagster_class(annotation: ast.expr | None, aliases: set[str], imported: dict[str, str]) -> type | None:
    """The Dagster class an annotation names (``dg.OutputContext``, ``OutputContext``), if any."""
    if (
        isinstance(annotation, ast.Attribute)
        and isinstance(annotation.value, ast.Name)
        and annotation.value.id in aliases
    ):
        found = getattr(dagster, annotation.attr, None)
        return found if inspect.isclass(found) else None
    if isinstance(annotation, ast.Name) and annotation.id in imported:
        found = getattr(dagster, imported[annotation.id], None)
        return found if inspect.isclass(found) else None
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return _dagster_class(ast.parse(annotation.value, mode="eval").body, aliases, imported)
        except SyntaxError:
            return None
    return None


def _defined_by_dagster(owner: type, name: str) -> bool:
    for klass in inspect.getmro(owner):
        if name in vars(klass):
            return klass.__module__.startswith("dagster")
    return False


def _returned_class(member: object) -> type | None:
    """The Dagster class a property or method returns, from its annotation."""
    target = member.fget if isinstance(member, property) else member
    try:
        hint = typing.get_type_hints(target).get("return")
    except Exception:
        hint = getattr(target, "__annotations__", {}).get("return")
    if isinstance(hint, str):
        hint = getattr(dagster, hint.strip("'\"").removeprefix("Optional[").rstrip("]"), None)
    for candidate in (hint, *typing.get_args(hint)):
        if inspect.isclass(candidate) and candidate.__module__.startswith("dagster"):
            return candidate
    return None


def _check_member(owner: type, name: str, where: str, found: dict[str, str]) -> object | None:
    if not _defined_by_dagster(owner, name):
        return None
    member = inspect.getattr_static(owner, name)
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    if isinstance(member, enum.Enum) or not (callable(member) or isinstance(member, property)):
        return None  # enum members and plain fields carry no mark
    if not is_public(member.fget if isinstance(member, property) else member):
        found.setdefault(f"{owner.__module__.split('.')[0]}.{owner.__name__}.{name}", where)
    return member


def non_public_uses() -> dict[str, str]:
    """Each non-public Dagster name or attribute the package uses, with one place that uses it."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        aliases = {a for a in aliases if a in ("dg", "dagster")}
        imported = {
            a.asname or a.name: a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module == "dagster"
            for a in n.names
        }
        where = str(path.relative_to(PACKAGE.parent))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dagster._"):
                found.setdefault(node.module, where)
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id in aliases
            ):
                owner = getattr(dagster, node.value.attr)
                if inspect.isclass(owner):
                    _check_member(owner, node.attr, where, found)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                typed = {
                    arg.arg: klass
                    for arg in node.args.args + node.args.kwonlyargs
                    if (klass := _dagster_class(arg.annotation, aliases, imported))
                }
                for inner in ast.walk(node):
                    if not isinstance(inner, ast.Attribute):
                        continue
                    if isinstance(inner.value, ast.Name) and inner.value.id in typed:
                        _check_member(typed[inner.value.id], inner.attr, where, found)
                    elif (
                        isinstance(inner.value, ast.Attribute)
                        and isinstance(inner.value.value, ast.Name)
                        and inner.value.value.id in typed
                    ):
                        owner = typed[inner.value.value.id]
                        if _defined_by_dagster(owner, inner.value.attr):
                            returned = _returned_class(inspect.getattr_static(owner, inner.value.attr))
                            if returned is not None:
                                _check_member(returned, inner.attr, where, found)
    return found


def test_the_package_uses_only_what_dagster_marks_public() -> None:
    used = non_public_uses()
    assert {name: where for name, where in used.items() if name not in ALLOWED} == {}


def test_the_check_would_see_a_non_public_call(tmp_path: Path, monkeypatch) -> None:
    """The scanner itself: a method Dagster does not mark public is found."""
    assert not is_public(dagster.DagsterInstance.get_runs)
    module = PACKAGE / "_probe_for_test_dagster_api.py"
    module.write_text(
        "import dagster as dg\n\n\ndef f(instance: dg.DagsterInstance) -> None:\n    instance.get_runs()\n"
    )
    try:
        assert "dagster.DagsterInstance.get_runs" in non_public_uses()
    finally:
        module.unlink()
