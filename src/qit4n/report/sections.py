"""Report sections as one extension family: :data:`REPORT_SECTIONS` and the builder they share.

A package that contributes to ``qit4n demo`` registers one :data:`SectionBuilder` in its own
``report.py``; :func:`build_sections` runs them in registration order. This module names no
package above ``report``: the scenario is passed through untyped.

>>> from pathlib import Path
>>> def toy(scenario: object, out_dir: Path) -> Section:
...     return Section("Toy", paragraphs=[f"{scenario}"])
>>> _ = REPORT_SECTIONS.register("toy", toy)
>>> [outcome.section.title for outcome in build_sections("a scenario", Path("."), names=["toy"])]
['Toy']
>>> REPORT_SECTIONS.unregister("toy")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qit4n.errors import Qit4nError
from qit4n.registry import Registry
from qit4n.report.html import Section

__all__ = [
    "REPORT_SECTIONS",
    "SectionBuilder",
    "SectionOutcome",
    "build_sections",
    "not_applicable_section",
    "skipped_section",
]

#: ``(scenario, out_dir) -> Section``: builds one section from a scenario, writing its figures into ``out_dir``.
SectionBuilder = Callable[[Any, Path], Section]

#: The sections of ``qit4n demo``, in the order they are registered (the order of the data flow).
REPORT_SECTIONS: Registry[SectionBuilder] = Registry("report section", entry_point_group="qit4n.report_sections")


@dataclass(frozen=True)
class SectionOutcome:
    """One built section; ``skipped`` says why it holds only a note (a missing package, or it does not apply)."""

    name: str
    section: Section
    skipped: str | None = None


def skipped_section(name: str, missing_module: str | None) -> SectionOutcome:
    """The note that replaces section ``name`` when an optional package is not installed."""
    note = f"skipped: needs the optional package {missing_module!r}; install everything with pip install 'qit4n[all]'"
    return SectionOutcome(name, Section(name, paragraphs=[note.capitalize() + "."]), note)


def not_applicable_section(name: str, error: Qit4nError) -> SectionOutcome:
    """The note that replaces section ``name`` when the scenario lacks what it needs (``error`` says what)."""
    reason = " ".join(str(error).split())
    note = f"not applicable to this scenario: {reason}"
    return SectionOutcome(name, Section(name, paragraphs=[f"Not built: {reason}."]), note)


def build_sections(scenario: Any, out_dir: Path, names: Sequence[str] | None = None) -> list[SectionOutcome]:
    """Build the registered sections called ``names`` (default: all, in registration order).

    A builder that needs a missing optional package yields :func:`skipped_section`, and one whose scenario
    lacks what it needs (it raises :class:`~qit4n.errors.Qit4nError`) yields :func:`not_applicable_section`,
    instead of failing.
    """
    outcomes = []
    for name in REPORT_SECTIONS.names() if names is None else names:
        try:
            outcomes.append(SectionOutcome(name, REPORT_SECTIONS.get(name)(scenario, out_dir)))
        except ModuleNotFoundError as error:
            outcomes.append(skipped_section(name, error.name))
        except Qit4nError as error:
            outcomes.append(not_applicable_section(name, error))
    return outcomes
