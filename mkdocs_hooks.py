"""MkDocs hook (``hooks:`` in mkdocs.yml): render doctest blocks as code on the documentation site.

The guides and the docstrings hold doctests as bare ``>>>`` lines (pytest runs them with
``--doctest-glob='*.md'`` and ``--doctest-modules``). Markdown would read them as nested block
quotes, and an output such as ``[1, 0]`` followed by ``[2, 3]`` as a reference link; this hook adds a
preprocessor that fences each bare block (its ``>>>`` and ``...`` lines and the output up to the next
blank line) as ``pycon`` code, in the pages and in the docstrings that mkdocstrings renders.
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority

_FENCE = re.compile(r"^\s*(```|~~~)")
_PROMPT = re.compile(r"^(\s*)>>>( |$)")


class _DoctestFences(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        in_fence = False
        index = 0
        while index < len(lines):
            line = lines[index]
            if _FENCE.match(line):
                in_fence = not in_fence
            prompt = None if in_fence else _PROMPT.match(line)
            if prompt is None:
                out.append(line)
                index += 1
                continue
            indent = prompt.group(1)
            block: list[str] = []
            while index < len(lines) and lines[index].strip():
                block.append(lines[index])
                index += 1
            out += ["", f"{indent}```pycon", *block, f"{indent}```", ""]
        return out


class DoctestFencesExtension(Extension):
    """Fence bare doctest blocks (runs before the fenced-code preprocessors, priority 25)."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_DoctestFences(md), "doctest_fences", 35)


@event_priority(100)  # before mkdocstrings reads the Markdown extensions in its own on_config
def on_config(config: Any) -> Any:
    config.markdown_extensions.append(DoctestFencesExtension())
    return config
