"""Self-contained HTML reports: sections with text, tables and PNG figures written beside the page."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qit4n.report.provenance import Provenance

__all__ = ["Figure", "Section", "Table", "linked_text", "write_report"]


@dataclass(frozen=True)
class Table:
    """A table: column headers and rows of cells (numbers are formatted with 4 significant digits)."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """A figure already written as ``file_name`` (PNG) in the report folder."""

    file_name: str
    caption: str


@dataclass
class Section:
    """A titled part of a report: paragraphs, tables and figures, in that order."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


#: ``doi:10.NNNN/...``, ``arXiv:NNNN.NNNNN`` and web addresses in report text (after HTML escaping).
_REFERENCE = re.compile(
    r"(?P<doi>doi:\s*(?P<doi_id>10\.\d{4,9}/[^\s,;<>]+))|(?P<arxiv>arXiv:\s*(?P<arxiv_id>\d{4}\.\d{4,5}(?:v\d+)?))"
    r"|(?P<url>https?://[^\s,;<>]+)"
)


def _reference_link(match: re.Match[str]) -> str:
    text = match.group(0)
    trailing = ""
    while text[-1] in ".)" and (text[-1] == "." or text.count("(") < text.count(")")):
        text, trailing = text[:-1], text[-1] + trailing
    if match.group("doi"):
        target = "https://doi.org/" + text.split(":", 1)[1].strip()
    elif match.group("arxiv"):
        target = "https://arxiv.org/abs/" + text.split(":", 1)[1].strip()
    else:
        target = text
    return f'<a href="{target}">{text}</a>{trailing}'


def linked_text(text: str) -> str:
    """``text`` escaped for HTML, with each DOI, arXiv id and web address a link.

    >>> linked_text("Lim et al., Phys. Rev. A 89, 022307 (2014), doi:10.1103/PhysRevA.89.022307.")
    'Lim et al., Phys. Rev. A 89, 022307 (2014), <a href="https://doi.org/10.1103/PhysRevA.89.022307">\
doi:10.1103/PhysRevA.89.022307</a>.'
    >>> linked_text("(arXiv:1905.09749) & <b>")
    '(<a href="https://arxiv.org/abs/1905.09749">arXiv:1905.09749</a>) &amp; &lt;b&gt;'
    """
    return _REFERENCE.sub(_reference_link, html.escape(text, quote=False))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "–"
    return linked_text(str(value))


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in row) + "</tr>" for row in table.rows)
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { border-bottom: 2px solid #2a6f97; padding-bottom: .3rem; }
h2 { color: #2a6f97; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .92rem; }
caption { text-align: left; font-style: italic; padding-bottom: .3rem; }
th, td { border: 1px solid #ccd; padding: .25rem .6rem; text-align: right; }
th { background: #eef3f7; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #dde; }
figcaption { font-size: .9rem; color: #444; }
nav a { margin-right: 1rem; }
table.provenance { font-size: .85rem; } table.provenance th, table.provenance td { text-align: left; }
"""


def _footer_html(provenance: Provenance) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{'<code>' if label == 'command' else ''}{html.escape(text)}"
        f"{'</code>' if label == 'command' else ''}</td></tr>"
        for label, text in provenance.lines()
    )
    return f"<footer><h2>Provenance</h2><table class='provenance'><tbody>{rows}</tbody></table></footer>"


def write_report(
    out_dir: Path,
    title: str,
    sections: Sequence[Section],
    intro: str = "",
    *,
    provenance: Provenance | None = None,
) -> Path:
    """Write ``index.html`` into ``out_dir`` (figures must already be there); returns its path.

    The page ends with a provenance footer (:class:`~qit4n.report.provenance.Provenance`; collected
    from the running process when not given).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    anchors = [f"s{index}" for index in range(len(sections))]
    nav = " ".join(
        f'<a href="#{anchor}">{html.escape(section.title)}</a>' for anchor, section in zip(anchors, sections)
    )
    parts = []
    for anchor, section in zip(anchors, sections):
        parts.append(f'<section id="{anchor}"><h2>{html.escape(section.title)}</h2>')
        parts.extend(f"<p>{linked_text(paragraph)}</p>" for paragraph in section.paragraphs)
        parts.extend(_table_html(table) for table in section.tables)
        parts.extend(
            f'<figure><img src="{html.escape(figure.file_name)}" alt="{html.escape(figure.caption)}">'
            f"<figcaption>{html.escape(figure.caption)}</figcaption></figure>"
            for figure in section.figures
        )
        parts.append("</section>")
    footer = _footer_html(provenance or Provenance.collect())
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(intro)}</p><nav>{nav}</nav>{''.join(parts)}"
        f"{footer}</body></html>"
    )
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
