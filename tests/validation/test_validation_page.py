"""docs/validation.md: one row per published anchor of ``qit4n validate`` (paper, place, published value,
qit4n's value), generated from :func:`qit4n.cli.validate.collect_anchors` so that it cannot drift.

Values are written to four significant digits, so that the last bits of a library's floating point do
not make the page stale; each anchor's own tolerance is checked here on the full value.
"""

from __future__ import annotations

import os
from pathlib import Path

from qit4n.cli.validate import collect_anchors
from qit4n.qkd.anchors import Anchor

PAGE = Path(__file__).resolve().parents[2] / "docs" / "validation.md"
MARKER = "<!-- generated below: do not edit by hand -->\n"


def _cell(value: object) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text.replace("|", "/")


def validation_markdown(anchors: list[Anchor]) -> str:
    """One section per model, each a table of its anchors."""
    models: dict[str, list[Anchor]] = {}
    for anchor in anchors:
        models.setdefault(anchor.model, []).append(anchor)
    lines = [f"{sum(anchor.within for anchor in anchors)} of {len(anchors)} anchors within tolerance.", ""]
    for model, group in models.items():
        lines += [f"## {model}", "", "| paper | place | parameters | published | qit4n | unit | tolerance | verdict |"]
        lines.append("|---|---|---|---|---|---|---|---|")
        for anchor in group:
            row = anchor.as_dict()
            columns = ("paper", "place", "parameters", "published", "qit4n", "unit", "tolerance", "verdict")
            lines.append("| " + " | ".join(_cell(row[column]) for column in columns) + " |")
        lines.append("")
    return "\n".join(lines)


def test_the_page_lists_every_anchor_as_qit4n_computes_it() -> None:
    anchors = collect_anchors()
    assert anchors and all(anchor.within for anchor in anchors), [a.as_dict() for a in anchors if not a.within]
    head, _, generated = PAGE.read_text(encoding="utf-8").partition(MARKER)
    expected = "\n" + validation_markdown(anchors)
    if os.environ.get("QIT4N_REGOLD"):
        PAGE.write_text(head + MARKER + expected, encoding="utf-8")
        generated = expected
    assert generated == expected, "docs/validation.md is stale: rerun this test with QIT4N_REGOLD=1"
