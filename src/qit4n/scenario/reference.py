"""The scenario format as a Markdown reference, generated from the models so that it cannot drift.

``docs/scenario-format.md`` ends with :func:`scenario_format_markdown`'s text; a test regenerates it
and fails when the page and the models differ (``QIT4N_REGOLD=1`` rewrites the page).
"""

from __future__ import annotations

import enum
import types
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from qit4n.scenario.model import ClassicalChannel, Demand, Link, Node, QuantumReceiver, Request, Scenario

__all__ = ["UNIT_SUFFIXES", "field_rows", "scenario_format_markdown"]

#: Name endings and the unit each stands for (the house rule: units in every dimensional name).
UNIT_SUFFIXES = {
    "_db_per_km": "dB/km",
    "_hz": "Hz",
    "_km": "km",
    "_db": "dB",
    "_dbm": "dBm",
    "_nm": "nm",
    "_m": "m",
    "_s": "s",
    "_deg": "degrees",
    "_bps": "bit/s",
    "_bits": "bits",
    "_per_s": "1/s",
}

#: The models in the order the page describes them.
MODELS: tuple[type[BaseModel], ...] = (Scenario, Node, Link, ClassicalChannel, QuantumReceiver, Demand, Request)


def _type_text(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_text(arg) for arg in get_args(annotation) if arg is not type(None)) + " or null"
    if origin is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in get_args(annotation))
    if origin is tuple:
        return "pair of " + _type_text(get_args(annotation)[0]) if len(set(get_args(annotation))) == 1 else "tuple"
    if origin is list:
        return "list of " + _type_text(get_args(annotation)[0])
    if origin is dict:
        return "mapping"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return {str: "text", float: "number", int: "integer", bool: "true/false"}.get(annotation, str(annotation))


def _unit(name: str) -> str:
    for suffix in sorted(UNIT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return UNIT_SUFFIXES[suffix]
    return ""


def _allowed(metadata: list[Any]) -> str:
    parts = []
    for item in metadata:
        if isinstance(item, Ge):
            parts.append(f">= {item.ge:g}")
        elif isinstance(item, Gt):
            parts.append(f"> {item.gt:g}")
        elif isinstance(item, Le):
            parts.append(f"<= {item.le:g}")
        elif isinstance(item, Lt):
            parts.append(f"< {item.lt:g}")
        elif isinstance(item, MinLen):
            parts.append(f"at least {item.min_length} long")
        elif isinstance(item, MaxLen):
            parts.append(f"at most {item.max_length} long")
        elif getattr(item, "pattern", None):
            parts.append(f"matches `{item.pattern}`")
    return ", ".join(parts)


def _default(field: Any) -> str:
    if field.default_factory is not None:
        made = field.default_factory()
        return "empty" if made in ([], {}) else "its defaults"
    if field.default is PydanticUndefined:
        return "**required**"
    if field.default is None:
        return "none"
    value = field.default.value if isinstance(field.default, enum.Enum) else field.default
    return f"`{value}`" if value != "" else "empty"


def field_rows(model: type[BaseModel]) -> list[tuple[str, str, str, str, str, str]]:
    """``(field, type, unit, allowed, default, meaning)`` for every field of ``model``."""
    return [
        (
            f"`{name}`",
            _type_text(field.annotation),
            _unit(name),
            _allowed(field.metadata),
            _default(field),
            (field.description or "").replace("|", "/"),
        )
        for name, field in model.model_fields.items()
    ]


def scenario_format_markdown() -> str:
    """The generated part of ``docs/scenario-format.md``: one table per model, every field.

    >>> text = scenario_format_markdown()
    >>> "| `length_km` | number or null | km | >= 0, <= 100000 | none |" in text
    True
    """
    lines: list[str] = []
    for model in MODELS:
        summary = " ".join((model.__doc__ or "").split())
        lines += [f"### {model.__name__}", "", summary, ""]
        lines += ["| field | type | unit | allowed | default | meaning |", "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in field_rows(model)]
        lines.append("")
    return "\n".join(lines)
