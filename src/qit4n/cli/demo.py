"""``qit4n demo``: the main job on the built-in default scenario, printed and written as an HTML report."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from rich.console import Console

from qit4n.cli.render import progress, rich_table
from qit4n.errors import ParameterError
from qit4n.report import (
    REPORT_SECTIONS,
    Provenance,
    Section,
    SectionOutcome,
    Table,
    build_sections,
    skipped_section,
    write_report,
)
from qit4n.scenario import Scenario, load_scenario, scenario_digest

__all__ = ["DEFAULT_SCENARIO", "REPORT_MODULES", "references_section", "register", "section_plan"]

#: The built-in scenario the demo runs on.
DEFAULT_SCENARIO = "secoqc-vienna-2008"


def _net_report() -> ModuleType:
    from qit4n.net import report

    return report


def _emulate_report() -> ModuleType:
    from qit4n.emulate import report

    return report


def _qrng_report() -> ModuleType:
    from qit4n.qrng import report

    return report


def _kms_report() -> ModuleType:
    from qit4n.kms import report

    return report


def _qkdn_report() -> ModuleType:
    from qit4n.qkdn import report

    return report


def _qin_report() -> ModuleType:
    from qit4n.qin import report

    return report


def _threat_report() -> ModuleType:
    from qit4n.threat import report

    return report


#: Importers of the packages' report modules, whose import registers the demo's sections in
#: :data:`qit4n.report.REPORT_SECTIONS`, in report order (the data flow: links and networks,
#: post-processing, random numbers, key management, the QKD network under faults, quantum networks,
#: threat). Sections registered
#: by other code follow them.
REPORT_MODULES: tuple[Callable[[], ModuleType], ...] = (
    _net_report,
    _emulate_report,
    _qrng_report,
    _kms_report,
    _qkdn_report,
    _qin_report,
    _threat_report,
)


def _module_of(name: str) -> str:
    """The module that defines section ``name``'s builder (empty when it cannot be imported)."""
    try:
        return str(getattr(REPORT_SECTIONS.get(name), "__module__", ""))
    except ModuleNotFoundError:
        return ""


def section_plan() -> list[str | SectionOutcome]:
    """Registered section names in report order; a module that needs a missing optional package is a skip note."""
    modules: list[str | SectionOutcome] = []
    for load in REPORT_MODULES:
        try:
            modules.append(load().__name__)
        except ModuleNotFoundError as error:
            modules.append(skipped_section(load.__name__.split("_")[1], error.name))
    owners = {name: _module_of(name) for name in REPORT_SECTIONS.names()}
    plan: list[str | SectionOutcome] = []
    for module in modules:
        plan.extend(
            [module] if isinstance(module, SectionOutcome) else [name for name in owners if owners[name] == module]
        )
    plan.extend(name for name in owners if owners[name] not in modules)
    return plan


def _build(scenario: Scenario, out: Path, only: list[str], console: Console) -> list[SectionOutcome]:
    plan = section_plan()
    for name in only:
        REPORT_SECTIONS.get(name)  # an unknown name raises ParameterError listing the registered ones
    plan = [item for item in plan if not only or (isinstance(item, str) and item in only)]
    outcomes = []
    with progress() as bar:
        task = bar.add_task("report sections", total=len(plan))
        for item in plan:
            if isinstance(item, str):
                bar.update(task, description=f"section {item}")
                (item,) = build_sections(scenario, out, [item])
            if item.skipped is not None:
                console.print(f"[yellow]{item.name}: {item.skipped}[/yellow]")
            outcomes.append(item)
            bar.advance(task)
    return outcomes


def _replaceable(out: Path) -> None:
    """Refuse an ``--out`` that is a file, or a non-empty folder that is not a qit4n report."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ParameterError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "index.html").is_file():
        raise ParameterError(f"--out {out}: a non-empty folder that is not a qit4n report; name a new or empty folder")


@contextmanager
def _atomic_folder(out: Path) -> Iterator[Path]:
    """A temporary sibling of ``out`` to write into, renamed to ``out`` on success and removed on failure."""
    _replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield staging
        staging.chmod(0o755)
        if out.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            out.replace(old / out.name)
            staging.replace(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.replace(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def references_section(scenario: Scenario) -> Section:
    """The works the report's models and data come from, each with its DOI, arXiv id or address as a link."""
    from qit4n.qkd.registry import get_protocol, protocol_names
    from qit4n.threat import load_catalog

    rows: list[tuple[str, str]] = [(f"scenario data: {scenario.name}", source) for source in scenario.sources]
    for name in protocol_names():
        spec = get_protocol(name)
        rows.append((f"key rate: {name} ({spec.title})", spec.reference))
    rows.extend((f"CRQC timeline: {timeline.id}", timeline.source) for timeline in load_catalog().timelines)
    return Section(
        "References",
        ["The models behind the numbers above; the validation page lists the published figure each anchor reproduces."],
        [Table(("used for", "reference"), rows)],
    )


def demo(
    out: Annotated[Path, typer.Option(help="folder for the HTML report (replaced as a whole)")] = Path("qit4n-report"),
    scenario_name: Annotated[str, typer.Option("--scenario", help="scenario file or built-in name")] = DEFAULT_SCENARIO,
    section: Annotated[
        list[str] | None, typer.Option(help="build only this registered report section (repeatable; default all)")
    ] = None,
) -> None:
    """Run the main job on a scenario (default: the built-in default): link key rates, network, keys, report."""
    from qit4n.net.report import scenario_link_rates, scenario_links_table

    console = Console()
    scenario = load_scenario(scenario_name)
    with _atomic_folder(out) as staging:
        outcomes = _build(scenario, staging, section or [], console)
        write_report(
            staging,
            f"qit4n demo: {scenario.name}",
            [*(outcome.section for outcome in outcomes), references_section(scenario)],
            intro=f"The main job of qit4n on the scenario {scenario.name}.",
            provenance=Provenance.collect(
                scenario=scenario_digest(scenario), seeds="fixed in each section: the demo is deterministic"
            ),
        )
    console.print(
        rich_table(scenario_links_table(scenario, scenario_link_rates(scenario)), number_format=".3g", no_wrap=True)
    )
    console.print(f"report written to {out / 'index.html'}")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the CLI."""
    app.command("demo")(demo)
