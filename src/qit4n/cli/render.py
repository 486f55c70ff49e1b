"""Console rendering shared by the command modules: report tables and quantity lists as rich tables."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from qit4n.report import Table

__all__ = ["cell_text", "progress", "quantities_table", "rich_table"]


def cell_text(value: Any, number_format: str = ".4g") -> str:
    """A cell as text: ``None`` as a dash, floats with ``number_format``, the rest as ``str``."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return format(value, number_format)
    return str(value)


def rich_table(
    table: Table,
    *,
    title: str | None = None,
    number_format: str = ".4g",
    no_wrap: bool = False,
    justify: Literal["left", "right"] = "right",
) -> RichTable:
    """A report :class:`~qit4n.report.Table` for the console (``title`` defaults to the caption)."""
    shown = RichTable(title=table.caption if title is None else title)
    for column in table.columns:
        shown.add_column(column, justify=justify, no_wrap=no_wrap)
    for row in table.rows:
        shown.add_row(*(cell_text(cell, number_format) for cell in row))
    return shown


def quantities_table(title: str, rows: Iterable[tuple[str, Any]], *, number_format: str = ".4g") -> RichTable:
    """A two-column ``quantity | value`` table."""
    shown = RichTable(title=title)
    shown.add_column("quantity")
    shown.add_column("value", justify="right")
    for name, value in rows:
        shown.add_row(name, cell_text(value, number_format))
    return shown


def progress(*, quiet: bool = False) -> Progress:
    """A progress display on stderr (spinner, task, bar, count, elapsed time); silent under ``quiet`` or when
    stderr is not a terminal, so ``--json`` output and pipes stay clean."""
    console = Console(stderr=True)
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet or not console.is_terminal,
    )
