"""``qit4n demo``: the main job on the built-in default scenario, printed and written as an HTML report."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.report import Curve, Figure, Section, Table, plot_key_rate_vs_distance, write_report
from qit4n.scenario import Scenario, load_scenario

__all__ = ["DEFAULT_SCENARIO", "demo_section", "link_rate_rows", "register"]

#: The built-in scenario the demo runs on.
DEFAULT_SCENARIO = "secoqc-vienna-2008"

#: Protocols drawn in the demo's key-rate figure.
_FIGURE_PROTOCOLS = ("bb84-decoy", "bb84-decoy-finite", "mdi", "tf", "cv-gg02", "plob")
_LINK_COLUMNS = ("link", "km", "protocol", "loss dB", "QBER", "key bit/s")


def link_rate_rows(scenario: Scenario) -> list[tuple]:
    """One row per link: id, length, protocol, loss, QBER and modelled key rate."""
    from qit4n.links import link_budgets

    rows = []
    for index, (link, rate) in enumerate(zip(scenario.links, link_budgets(scenario))):
        rows.append(
            (
                scenario.link_id(index),
                link.length_km,
                link.protocol,
                rate.loss_db,
                rate.qber,
                rate.key_rate_bps,
            )
        )
    return rows


def demo_section(scenario: Scenario, out_dir: Path) -> Section:
    """Links of the scenario with their key rates, and the key-rate-versus-distance comparison."""
    from qit4n.qkd import get_protocol, make_parameters
    from qit4n.qkd.evaluate import key_rate_at_distance

    distance_km = np.linspace(0.0, 400.0, 161)
    curves = []
    for name in _FIGURE_PROTOCOLS:
        spec = get_protocol(name)
        result = key_rate_at_distance(spec, make_parameters(name), distance_km)
        curves.append(Curve(name, distance_km, result.key_rate_per_pulse))
    plot_key_rate_vs_distance(
        curves, out_dir / "key-rate-vs-distance.png", title="Protocols at qit4n's default device parameters"
    )
    return Section(
        "QKD links",
        paragraphs=[
            f"{scenario.description.strip()}",
            "Each link's secret key rate is computed from its fibre length, protocol and device parameters "
            "(qit4n defaults unless the scenario names a preset).",
        ],
        tables=[Table(_LINK_COLUMNS, link_rate_rows(scenario), caption=f"Links of {scenario.name}")],
        figures=[
            Figure(
                "key-rate-vs-distance.png",
                "Secret key rate per pulse versus fibre distance at qit4n's default devices: decoy BB84 (asymptotic and "
                "finite-key), MDI-QKD, sending-or-not-sending twin-field, GG02 CV-QKD, and the PLOB repeaterless bound.",
            )
        ],
    )


def _sections(scenario: Scenario, out_dir: Path, console: Console) -> list[Section]:
    from qit4n.cli import COMMAND_MODULES

    builders = [getattr(importlib.import_module(name), "demo_section", None) for name in COMMAND_MODULES]
    sections = []
    with console.status("") as status:
        for builder in builders:
            if builder is None:
                continue
            part = builder.__module__.rsplit(".", 1)[-1]
            status.update(f"running {part} …")
            try:
                sections.append(builder(scenario, out_dir))
            except ModuleNotFoundError as error:
                note = f"skipped: needs the optional package {error.name!r}; install everything with pip install 'qit4n[all]'"
                console.print(f"[yellow]{part}: {note}[/yellow]")
                sections.append(Section(part, paragraphs=[note.capitalize() + "."]))
    return sections


def demo(
    out: Annotated[Path, typer.Option(help="folder for the HTML report")] = Path("qit4n-report"),
    scenario_name: Annotated[str, typer.Option("--scenario", help="scenario file or built-in name")] = DEFAULT_SCENARIO,
) -> None:
    """Run the main job on the built-in default scenario: link key rates, network, keys, report."""
    console = Console()
    scenario = load_scenario(scenario_name)
    out.mkdir(parents=True, exist_ok=True)
    sections = _sections(scenario, out, console)
    links = sections[0].tables[0]
    table = RichTable(title=links.caption)
    for column in links.columns:
        table.add_column(column, justify="right", no_wrap=True)
    for row in links.rows:
        table.add_row(
            *("–" if cell is None else f"{cell:.3g}" if isinstance(cell, float) else str(cell) for cell in row)
        )
    console.print(table)
    path = write_report(
        out, f"qit4n demo: {scenario.name}", sections, intro="The main job of qit4n on its built-in default scenario."
    )
    console.print(f"report written to {path}")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the CLI."""
    app.command("demo")(demo)
