"""``qit4n rate`` and ``qit4n presets``: key rate versus distance for one protocol or a comparison."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.options import parse_settings, parse_value_spec
from qit4n.errors import ParameterError
from qit4n.qkd.registry import protocol_names

__all__ = ["rate_rows", "register"]


def _json_number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def rate_rows(
    protocol: str, distance_km: np.ndarray, preset: str | None, settings: dict[str, Any]
) -> list[dict[str, Any]]:
    """One result object per distance: the ``--json`` contract of ``qit4n rate``."""
    from qit4n.physics.fibre import fibre_loss_db
    from qit4n.qkd import get_protocol, make_parameters
    from qit4n.qkd.evaluate import key_rate_at_distance

    spec = get_protocol(protocol)
    params = make_parameters(protocol, preset, settings, context="--set")
    result = key_rate_at_distance(spec, params, distance_km)
    loss_db = fibre_loss_db(distance_km, params.loss_db_per_km)
    rows = []
    for index, distance in enumerate(distance_km):
        row: dict[str, Any] = {
            "protocol": protocol,
            "distance_km": float(distance),
            "loss_db": float(loss_db[index]),
            "key_rate_per_pulse": _json_number(result.key_rate_per_pulse[index]),
            "key_rate_bps": _json_number(result.key_rate_bps[index]),
            "qber": None if result.qber is None else _json_number(result.qber[index]),
        }
        for name, values in result.details.items():
            row[name] = _json_number(np.broadcast_to(values, distance_km.shape)[index])
        rows.append(row)
    return rows


def _max_distance(protocol: str, preset: str | None, settings: dict[str, Any]) -> dict[str, Any]:
    """``max_distance_km`` (null when unbounded or when there is no key at all) and a ``status`` saying which."""
    from qit4n.qkd import get_protocol, make_parameters
    from qit4n.qkd.distance import max_distance_km

    spec = get_protocol(protocol)
    distance = max_distance_km(spec, make_parameters(protocol, preset, settings, context="--set"))
    if distance is None:
        return {"protocol": protocol, "max_distance_km": None, "status": "no-key"}
    if not math.isfinite(distance):
        return {"protocol": protocol, "max_distance_km": None, "status": "unbounded"}
    return {"protocol": protocol, "max_distance_km": float(distance), "status": "finite"}


def _print_table(rows: list[dict[str, Any]]) -> None:
    table = RichTable(title="secret key rate")
    for column in ("protocol", "distance (km)", "loss (dB)", "key/pulse", "key rate (bit/s)", "QBER"):
        table.add_column(column, justify="right")
    for row in rows:
        qber = "–" if row["qber"] is None else f"{row['qber']:.4f}"
        table.add_row(
            row["protocol"],
            f"{row['distance_km']:g}",
            f"{row['loss_db']:.2f}",
            f"{row['key_rate_per_pulse'] or 0.0:.4e}",
            f"{row['key_rate_bps'] or 0.0:.4e}",
            qber,
        )
    Console().print(table)


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    from qit4n.report.figures import Curve, plot_key_rate_vs_distance

    curves = []
    for protocol in dict.fromkeys(row["protocol"] for row in rows):
        mine = [row for row in rows if row["protocol"] == protocol]
        curves.append(
            Curve(
                protocol,
                np.array([row["distance_km"] for row in mine]),
                np.array([row["key_rate_per_pulse"] or 0.0 for row in mine]),
            )
        )
    plot_key_rate_vs_distance(curves, path)


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
    max_distance: Annotated[
        bool, typer.Option("--max-distance", help="print the largest distance with positive key")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
    plot: Annotated[Path | None, typer.Option(help="write a key-rate-versus-distance PNG")] = None,
) -> None:
    """Secret key rate versus fibre distance (per pulse and per second), QBER and maximal distance."""
    protocols = (
        [name.strip() for name in compare.split(",") if name.strip()] if compare else [protocol] if protocol else []
    )
    if not protocols:
        raise ParameterError("PROTOCOL: give a protocol, or --compare with a comma list of protocols")
    settings = parse_settings("--set", set_ or [])
    if pulses is not None:
        settings["pulses"] = pulses
    if max_distance:
        results = [
            _max_distance(
                name,
                _preset_for(name, preset) if compare else preset,
                _settings_for(name, settings, protocols) if compare else settings,
            )
            for name in protocols
        ]
        if as_json:
            typer.echo(json.dumps(results[0] if len(results) == 1 else results))
        else:
            for item in results:
                shown = {
                    "no-key": "none: no key even at 0 km",
                    "unbounded": "unbounded (the rate never reaches zero)",
                }.get(item["status"], f"{item['max_distance_km']:.2f} km")
                typer.echo(f"{item['protocol']}: maximal distance {shown}")
        return
    distances = parse_value_spec("--distance-km", distance_km)
    if np.any(distances < 0):
        raise ParameterError(f"--distance-km = {distance_km!r}: distances must be >= 0")
    if compare:
        rows = [
            row
            for name in protocols
            for row in rate_rows(name, distances, _preset_for(name, preset), _settings_for(name, settings, protocols))
        ]
    else:
        rows = rate_rows(protocols[0], distances, preset, settings)
    if plot is not None:
        _plot(rows, plot)
    if as_json:
        typer.echo(json.dumps(rows))
    elif as_csv:
        typer.echo(_csv_text(rows), nl=False)
    else:
        _print_table(rows)
        if plot is not None:
            typer.echo(f"figure written to {plot}")


def _settings_for(protocol: str, settings: dict[str, Any], protocols: list[str]) -> dict[str, Any]:
    """In a comparison a setting applies to the protocols that have that parameter; one that none has is an error."""
    from qit4n.qkd import get_protocol

    fields = {name: set(get_protocol(name).parameters.model_fields) for name in protocols}
    unknown = [key for key in settings if not any(key in names for names in fields.values())]
    if unknown:
        raise ParameterError(f"--set {unknown[0]}: no compared protocol has this parameter ({', '.join(protocols)})")
    return {key: value for key, value in settings.items() if key in fields[protocol]}


def _preset_for(protocol: str, preset: str | None) -> str | None:
    """In a comparison a preset applies to the protocols it fits and is left out for the others."""
    from qit4n.qkd import get_preset

    if preset is None:
        return None
    return preset if protocol in get_preset(preset).protocols else None


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


def register(app: typer.Typer) -> None:
    """Add ``rate`` and ``presets`` to the CLI."""
    app.command("rate")(rate)
    app.command("presets")(presets)
