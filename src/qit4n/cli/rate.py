"""``qit4n rate`` and ``qit4n presets``: key rate versus distance for one protocol or a comparison."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.options import check_figure_path, parse_distances_km, parse_settings
from qit4n.cli.render import tracked
from qit4n.errors import ParameterError
from qit4n.qkd.registry import protocol_names

if TYPE_CHECKING:
    from qit4n.qkd.compare import ComparisonResult, MaxDistance

__all__ = ["register"]

_MAX_DISTANCE_TEXT = {"no-key": "none: no key even at 0 km", "unbounded": "unbounded (the rate never reaches zero)"}


def _table_text(result: ComparisonResult) -> str:
    """The key-rate table as the terminal shows it (rendered here, printed by the caller: rendering a long
    table takes a while, under the status line)."""
    table = RichTable(title="secret key rate")
    for column in ("protocol", "distance (km)", "loss (dB)", "key/pulse", "key rate (bit/s)", "QBER"):
        table.add_column(column, justify="right")
    for point in result.points:
        table.add_row(
            point.protocol,
            f"{point.distance_km:g}",
            f"{point.loss_db:.2f}",
            f"{point.key_rate_per_pulse or 0.0:.4e}",
            f"{point.key_rate_bps or 0.0:.4e}",
            "–" if point.qber is None else f"{point.qber:.4f}",
        )
    console = Console()
    with console.capture() as captured:
        console.print(table)
    return captured.get()


def _print_max_distances(results: tuple[MaxDistance, ...], as_json: bool) -> None:
    if as_json:
        objects = [item.to_json() for item in results]
        typer.echo(json.dumps(objects[0] if len(objects) == 1 else objects))
        return
    for item in results:
        shown = (
            f"{item.max_distance_km:.2f} km" if item.max_distance_km is not None else _MAX_DISTANCE_TEXT[item.status]
        )
        typer.echo(f"{item.protocol}: maximal distance {shown}")


def rate(
    protocol: Annotated[str | None, typer.Argument(help=", ".join(protocol_names()))] = None,
    distance_km: Annotated[
        str, typer.Option("--distance-km", help="comma list (0,50,100) or range START:STOP:STEP")
    ] = "0:200:10",
    preset: Annotated[str | None, typer.Option(help="published parameter set (see `qit4n presets`)")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a parameter: NAME=VALUE (repeatable)")
    ] = None,
    pulses: Annotated[float | None, typer.Option(help="pulses sent (finite-key protocols)")] = None,
    compare: Annotated[
        str | None, typer.Option(help="comma list of protocols to compare, e.g. bb84-decoy,tf,plob")
    ] = None,
    max_distance_only: Annotated[
        bool, typer.Option("--max-distance", help="print the largest distance with positive key")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
    plot: Annotated[Path | None, typer.Option(help="write a key-rate-versus-distance PNG")] = None,
) -> None:
    """Secret key rate versus fibre distance (per pulse and per second), QBER and maximal distance."""
    from qit4n.qkd.compare import compare_max_distances, compare_protocols, max_distance, rate_curve

    protocols = [name.strip() for name in compare.split(",") if name.strip()] if compare else []
    if not protocols and not protocol:
        raise ParameterError("PROTOCOL: give a protocol, or --compare with a comma list of protocols")
    if preset is not None and not preset.strip():
        raise ParameterError("--preset '': name a preset (see `qit4n presets`) or leave the option out")
    if compare is not None and not protocols:
        raise ParameterError(f"--compare {compare!r}: name protocols, e.g. bb84-decoy,tf, or leave the option out")
    settings = parse_settings("--set", set_ or [])
    if pulses is not None:
        settings["pulses"] = pulses
    if max_distance_only:
        with tracked("searching the largest distance with key", quiet=as_json):
            results = (
                compare_max_distances(protocols, preset, settings)
                if compare
                else (max_distance(str(protocol), preset, settings),)
            )
        _print_max_distances(results, as_json)
        return
    distances = parse_distances_km("--distance-km", distance_km)
    if plot is not None:
        check_figure_path("--plot", plot)
    what = f"key rates of {len(protocols) or 1} protocol(s) at {distances.size:,} distances"
    with tracked(what, quiet=as_json or as_csv):
        result = (
            compare_protocols(protocols, distances, preset, settings)
            if compare
            else rate_curve(str(protocol), distances, preset, settings)
        )
        if plot is not None:
            from qit4n.qkd.report import plot_comparison

            plot_comparison(result, plot)
        text = None if as_json or as_csv else _table_text(result)
    if as_json:
        typer.echo(json.dumps(result.to_json()))
    elif as_csv:
        typer.echo(result.to_csv(), nl=False)
    else:
        if plot is not None:
            typer.echo(f"figure written to {plot}")
        typer.echo(text, nl=False)


def presets(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """List the published parameter sets shipped with qit4n, with their sources."""
    from qit4n.qkd import all_presets

    items = all_presets()
    if as_json:
        typer.echo(json.dumps([preset.model_dump() for preset in items.values()]))
        return
    table = RichTable(title="presets")
    for column in ("name", "protocols", "title", "source"):
        table.add_column(column, overflow="fold")
    for preset in items.values():
        table.add_row(preset.name, ", ".join(preset.protocols), preset.title, preset.source)
    Console().print(table)
    width = max(40, shutil.get_terminal_size().columns)
    for preset in items.values():
        if preset.notes:
            typer.echo(
                textwrap.fill(f"{preset.name}: {' '.join(preset.notes.split())}", width, subsequent_indent="    ")
            )


def params(
    protocol: Annotated[str, typer.Argument(help="protocol name, as for `qit4n rate`")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List a protocol's parameters (the --set names): unit, allowed range, default, meaning, presets that set it."""
    from qit4n.qkd import all_presets, get_protocol
    from qit4n.scenario.reference import field_rows

    spec = get_protocol(protocol)
    setters: dict[str, list[str]] = {}
    for preset in all_presets().values():
        if protocol in preset.protocols:
            for name in {**preset.parameters, **preset.protocol_parameters.get(protocol, {})}:
                setters.setdefault(name, []).append(preset.name)
    rows = [
        [text.replace("`", "").replace("**", "") for text in row] + [", ".join(setters.get(row[0].strip("`"), []))]
        for row in field_rows(spec.parameters)
    ]
    columns = ["name", "type", "unit", "allowed", "default", "meaning", "set by presets"]
    if as_json:
        typer.echo(json.dumps([dict(zip(columns, row, strict=True)) for row in rows]))
        return
    table = RichTable(title=f"parameters of {protocol} (--set NAME=VALUE; --preset NAME)")
    for column in ("name", "unit", "allowed", "default", "meaning", "set by presets"):
        table.add_column(column, overflow="fold", no_wrap=column == "name")
    for row in rows:
        table.add_row(row[0], row[2], row[3], row[4], row[5], row[6])
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``rate``, ``presets`` and ``params`` to the CLI."""
    app.command("rate")(rate)
    app.command("presets")(presets)
    app.command("params")(params)
