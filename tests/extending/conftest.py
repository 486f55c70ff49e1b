"""Run a recipe of ``docs/extending.md`` as written: its ``python`` code blocks, in order, as one module."""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


def recipe_blocks(heading: str) -> list[str]:
    """The ``python`` code blocks under ``## heading`` of the guide."""
    text = GUIDE.read_text(encoding="utf-8")
    parts = text.split(f"\n## {heading}\n")
    if len(parts) != 2:
        raise LookupError(f"{GUIDE.name}: no single section '## {heading}'")
    section = parts[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture
def run_recipe() -> Iterator[Callable[[str], types.ModuleType]]:
    """Execute a recipe's code blocks in a fresh module (registered in ``sys.modules`` while the
    test runs, so that dataclasses and pydantic models defined there resolve their annotations)."""
    names: list[str] = []

    def run(heading: str) -> types.ModuleType:
        blocks = recipe_blocks(heading)
        if not blocks:
            raise LookupError(f"{GUIDE.name}: section '## {heading}' has no python code block")
        name = "extending_recipe_" + re.sub(r"\W+", "_", heading.lower()).strip("_")
        module = types.ModuleType(name)
        sys.modules[name] = module
        names.append(name)
        for index, block in enumerate(blocks):
            exec(compile(block, f"{GUIDE} ({heading}, block {index + 1})", "exec"), module.__dict__)
        return module

    yield run
    for name in names:
        sys.modules.pop(name, None)
