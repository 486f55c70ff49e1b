"""docs/api.md lists the public API of every qit4n package (its ``__all__``) with one-line summaries.

The page is generated from ``__all__`` and the docstrings by :func:`api_reference_markdown`, so it
cannot drift: this test fails when the code and the page differ, and ``QIT4N_REGOLD=1`` rewrites it.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from pathlib import Path

import qit4n

PAGE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
MARKER = "<!-- generated below: do not edit by hand -->\n"


def _modules() -> list[str]:
    """``qit4n``'s packages and top-level modules, except the ``python -m qit4n`` entry point."""
    names = [f"qit4n.{info.name}" for info in pkgutil.iter_modules(qit4n.__path__) if info.name != "__main__"]
    return sorted(names)


def _summary(value: object) -> tuple[str, str]:
    """``(kind, first line of the docstring)``; values without their own docstring show their type."""
    if inspect.isclass(value) and value.__module__ == "builtins":
        return "alias", f"of `{value.__name__}`"
    if inspect.isclass(value):
        kind = "exception" if issubclass(value, BaseException) else "class"
    elif inspect.isfunction(value) or inspect.isbuiltin(value):
        kind = "function"
    elif inspect.ismodule(value):
        kind = "module"
    elif isinstance(value, int | float | str | tuple | frozenset) and len(repr(value)) <= 60:
        return "value", f"`{value!r}`".replace("|", "/")
    else:
        return "value", f"`{type(value).__name__}`"
    doc = inspect.getdoc(value) or ""
    return kind, " ".join(doc.split("\n\n")[0].split()).replace("|", "/")


def api_reference_markdown() -> str:
    """One section per module: its summary line, then a table of its ``__all__``."""
    lines: list[str] = []
    for name in _modules():
        module = importlib.import_module(name)
        exported = list(getattr(module, "__all__", []))
        summary = " ".join((inspect.getdoc(module) or "").split("\n\n")[0].split())
        lines += [f"## `{name}`", "", summary, ""]
        if exported:
            lines += ["| name | kind | summary |", "|---|---|---|"]
            for item in exported:
                kind, text = _summary(getattr(module, item))
                lines.append(f"| `{item}` | {kind} | {text} |")
            lines.append("")
    return "\n".join(lines)


def test_every_exported_name_exists_and_has_a_docstring_when_it_is_a_class_or_function() -> None:
    for name in _modules():
        module = importlib.import_module(name)
        for item in getattr(module, "__all__", []):
            value = getattr(module, item)  # AttributeError: __all__ names something that is not there
            if inspect.isclass(value) or inspect.isfunction(value):
                assert inspect.getdoc(value), f"{name}.{item} has no docstring"


def test_the_api_page_matches_the_code() -> None:
    head, _, generated = PAGE.read_text(encoding="utf-8").partition(MARKER)
    expected = "\n" + api_reference_markdown()
    if os.environ.get("QIT4N_REGOLD"):
        PAGE.write_text(head + MARKER + expected, encoding="utf-8")
        generated = expected
    assert generated == expected, (
        "docs/api.md is stale: rerun tests/architecture/test_api_reference.py with QIT4N_REGOLD=1"
    )
