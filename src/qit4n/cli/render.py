"""Console rendering shared by the command modules: report tables and quantity lists as rich tables."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table as RichTable

from qit4n.errors import ParameterError
from qit4n.report import Table

__all__ = [
    "LABEL_MIN_WIDTH",
    "MAX_RUN_S",
    "TEXT_MIN_WIDTH",
    "cell_text",
    "progress",
    "quantities_table",
    "rich_table",
    "tracked",
]


def cell_text(value: Any, number_format: str = ".4g") -> str:
    """A cell as text: ``None`` as a dash, floats with ``number_format``, the rest as ``str``."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return format(value, number_format)
    return str(value)


#: Characters of the first (label) column kept on one line when the table must shrink.
LABEL_MIN_WIDTH = 26

#: Characters of another text column kept on one line when the table must shrink.
TEXT_MIN_WIDTH = 16


def rich_table(
    table: Table,
    *,
    title: str | None = None,
    number_format: str = ".4g",
    no_wrap: bool = False,
    justify: Literal["left", "right"] = "right",
    headers: Mapping[str, str] | None = None,
    width: int | None = None,
) -> RichTable:
    """A report :class:`~qit4n.report.Table` for the console (``title`` defaults to the caption).

    Fits ``width`` columns (default: the terminal's) where it can without cutting anything: a
    number keeps its width, the first column keeps up to :data:`LABEL_MIN_WIDTH` characters on a
    line, headers wrap between words and longer text folds onto the next line instead of being cut.
    ``headers`` renames columns for the console (shorter names than the report's).
    """
    names = [(headers or {}).get(column, column) for column in table.columns]
    cells = [[cell_text(cell, number_format) for cell in row] for row in table.rows]
    widths = _fitted_widths(names, table.rows, cells, Console().width if width is None else width)
    shown = RichTable(title=table.caption if title is None else title)
    for index, name in enumerate(names):
        shown.add_column(
            name,
            justify="left" if index == 0 and justify == "right" and not _numeric(table.rows, index) else justify,
            no_wrap=no_wrap,
            overflow="fold",
            width=None if widths is None else widths[index],
        )
    for row in cells:
        shown.add_row(*row)
    return shown


def _numeric(rows: Sequence[Sequence[Any]], index: int) -> bool:
    values = [row[index] for row in rows if index < len(row) and row[index] is not None]
    return bool(values) and all(isinstance(value, int | float) and not isinstance(value, bool) for value in values)


def _least_widths(
    names: list[str], rows: Sequence[Sequence[Any]], cells: list[list[str]], *, header_word_cap: int | None
) -> list[int]:
    """The narrowest each column may get: a number's full width; some text; the header's longest word
    (at most ``header_word_cap`` characters when given)."""
    least = []
    for index, name in enumerate(names):
        header_word = max(len(word) for word in name.split() or [""])
        if header_word_cap is not None:
            header_word = min(header_word, header_word_cap)
        texts = [row[index] for row in cells if index < len(row)]
        if _numeric(rows, index):
            least.append(max([header_word] + [len(text) for text in texts]))
        else:
            keep = LABEL_MIN_WIDTH if index == 0 else TEXT_MIN_WIDTH
            if header_word_cap is not None:
                keep = header_word_cap
            least.append(max(header_word, min(keep, max((len(text) for text in texts), default=0))))
    return least


def _fitted_widths(
    names: list[str], rows: Sequence[Sequence[Any]], cells: list[list[str]], total: int
) -> list[int] | None:
    """Column widths that fit ``total`` characters, or None when the natural widths fit (or nothing does)."""
    widest = [
        max([len(row[index]) for row in cells if index < len(row)] + [len(name)]) for index, name in enumerate(names)
    ]
    borders = 3 * len(names) + 1
    if sum(widest) + borders <= total:
        return None
    least = _least_widths(names, rows, cells, header_word_cap=None)
    spare = total - borders - sum(least)
    if spare < 0:  # let long header words and text fold too, never a number
        least = _least_widths(names, rows, cells, header_word_cap=6)
        spare = total - borders - sum(least)
    if spare < 0:
        return None
    wants = [full - low for full, low in zip(widest, least, strict=True)]
    extra = [spare * want // max(sum(wants), 1) for want in wants]
    return [low + more for low, more in zip(least, extra, strict=True)]


def quantities_table(title: str, rows: Iterable[tuple[str, Any]], *, number_format: str = ".4g") -> RichTable:
    """A two-column ``quantity | value`` table."""
    shown = RichTable(title=title)
    shown.add_column("quantity", overflow="fold")
    shown.add_column("value", justify="right", overflow="fold")
    for name, value in rows:
        shown.add_row(name, cell_text(value, number_format))
    return shown


def progress(*, quiet: bool = False, counts: bool = True) -> Progress:
    """A progress display on stderr (spinner, task, bar, count or percentage, elapsed and remaining time);
    silent under ``quiet`` or when stderr is not a terminal, so ``--json`` output and pipes stay clean.

    ``counts=False`` shows a percentage instead of ``done/total`` (for totals that are not counts,
    such as simulated picoseconds).
    """
    console = Console(stderr=True)
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if counts else TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        redirect_stdout=False,  # rich would send what the command prints to stdout onto this stderr console
        disable=quiet or not console.is_terminal,
    )


#: The longest a run watched by :func:`tracked` with ``budget_option`` may be projected to take (s).
MAX_RUN_S = 600.0

#: Seconds of measured progress before a run's length is projected.
_MEASURE_S = 2.0


@contextmanager
def tracked(
    description: str,
    *,
    total: float | None = None,
    quiet: bool = False,
    counts: bool = True,
    budget_option: str | None = None,
) -> Iterator[Callable[[float, float], None]]:
    """Show :func:`progress` for one piece of work; yield its ``on_progress(done, total)`` callback.

    Pass the callback to the layer that does the work (the ``on_progress`` parameters of
    :func:`qit4n.net.simulate.simulate_network`, :func:`qit4n.emulate.run_link`...). Until the first
    call, and without a ``total``, the display is a status line: spinner, ``description``, elapsed time.
    With ``budget_option`` the callback measures the pace for :data:`_MEASURE_S` seconds and stops a run
    projected past :data:`MAX_RUN_S` with a :class:`~qit4n.errors.ParameterError` naming that option.
    """
    started = time.monotonic()
    first: list[tuple[float, float]] = []
    with progress(quiet=quiet, counts=counts) as bar:
        task = bar.add_task(description, total=total)

        def on_progress(done: float, whole: float) -> None:
            bar.update(task, completed=done, total=whole)
            if budget_option is not None:
                _check_budget(budget_option, done, whole, started, first)

        yield on_progress


def _check_budget(option: str, done: float, whole: float, started: float, first: list[tuple[float, float]]) -> None:
    now = time.monotonic()
    if not first:  # pace is measured from the first unit done: start-up and compilation do not count
        if done > 0:
            first.append((now, done))
        return
    since, done_then = first[0]
    if now - since < _MEASURE_S or done <= done_then:
        return
    pace = (done - done_then) / (now - since)
    projected_s = now - started + (whole - done) / pace
    if projected_s > MAX_RUN_S:
        raise ParameterError(
            f"{option}: would take about {projected_s / 60:.3g} min at the measured {pace:.3g} per second; "
            f"runs are limited to {MAX_RUN_S / 60:g} min (about {pace * MAX_RUN_S:.2g} in all)"
        )
