"""Shared pydantic base model and the translation of validation errors into user messages.

Every configuration object of qit4n (scenarios, protocol parameters, presets, optics) derives from
:class:`StrictModel`, which rejects unknown fields, so a typo is an error rather than a silently
ignored setting. :func:`problems_from` turns a pydantic error into lines of the form
``links[3].length_km = -5: must be >= 0``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from qit4n.errors import InputError, ParameterError

__all__ = ["StrictModel", "format_location", "problems_from", "validate_document", "validate_parameters"]

ModelT = TypeVar("ModelT", bound=BaseModel)


class StrictModel(BaseModel):
    """A frozen pydantic model that rejects unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def format_location(location: Sequence[str | int]) -> str:
    """Render a pydantic location tuple as ``links[3].length_km``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _allowed(error: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    comparisons = {
        "greater_than_equal": ">=",
        "greater_than": ">",
        "less_than_equal": "<=",
        "less_than": "<",
    }
    if kind in comparisons:
        bound = next(iter(ctx.values()))
        shown = f"{bound:g}" if isinstance(bound, (int, float)) else bound
        return f"must be {comparisons[kind]} {shown}"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = sorted(model.model_fields) if model is not None and len(error["loc"]) == 1 else None
        hint = f"; allowed fields: {', '.join(allowed)}" if allowed else ""
        return f"unknown field{hint}"
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected', '')}"
    if kind.endswith(("_parsing", "_type")):
        return error["msg"].replace("Input should be", "must be")
    message = error["msg"]
    return message.removeprefix("Value error, ")


def problems_from(error: ValidationError, prefix: str = "", model: type[BaseModel] | None = None) -> list[str]:
    """One line per problem in ``error``: ``path = value: what is allowed``."""
    lines = []
    for item in error.errors(include_url=False):
        location = format_location(item["loc"])
        path = ".".join(part for part in (prefix, location) if part)
        value = item.get("input")
        shown = "" if item["type"] == "missing" or isinstance(value, (dict, list)) else f" = {value!r}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = f" = {value:g}"
        lines.append(f"{path or '(top level)'}{shown}: {_allowed(item, model)}")
    return lines


def validate_parameters(model: type[ModelT], values: Mapping[str, Any], context: str = "") -> ModelT:
    """Build ``model`` from ``values``, raising :class:`ParameterError` that names every bad field."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        problems = problems_from(error, prefix=context, model=model)
        raise ParameterError("; ".join(problems)) from None


def validate_document(model: type[ModelT], data: Any, source: str, expected: str) -> ModelT:
    """Build ``model`` from a parsed file; :class:`InputError` names ``source`` and every bad field.

    ``expected`` says what the top-level mapping should hold, e.g. ``"assets"``.
    """
    if not isinstance(data, dict):
        raise InputError(f"{source}: (top level) must be a mapping with {expected}, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InputError(f"{source}: " + "; ".join(problems_from(error, model=model))) from None
