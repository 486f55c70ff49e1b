"""``qit4n sweep``: a key-rate grid over distance and device parameters, on local processes or a Dask cluster."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.options import MAX_VALUES, check_scheduler_address, parse_distances_km, parse_settings, parse_value_spec
from qit4n.cli.render import cell_text, tracked
from qit4n.errors import ParameterError
from qit4n.qkd.registry import protocol_names

__all__ = ["register"]


def sweep(
    protocol: Annotated[str, typer.Argument(help="protocol name, as for `qit4n rate`")],
    distance_km: Annotated[str, typer.Option("--distance-km", help="comma list or START:STOP:STEP")] = "0:200:50",
    vary: Annotated[
        list[str] | None, typer.Option(help="another axis: NAME=SPEC, e.g. eta_detector=0.1,0.2 (repeatable)")
    ] = None,
    preset: Annotated[str | None, typer.Option(help="published parameter set")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="fixed parameter: NAME=VALUE (repeatable)")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")] = None,
    workers: Annotated[
        int | None, typer.Option(help="local worker processes (default and most: one per usable core)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Evaluate a protocol over a grid of points; each point reports its own status."""
    from qit4n.qkd import make_parameters
    from qit4n.sweep import grid, key_rate_point, run_sweep
    from qit4n.sweep.report import point_rows
    from qit4n.sweep.runner import usable_cores

    if protocol not in protocol_names():
        raise ParameterError(f"PROTOCOL = {protocol!r}: must be one of {', '.join(protocol_names())}")
    if preset is not None and not preset.strip():
        raise ParameterError("--preset '': name a preset (see `qit4n presets`) or leave the option out")
    if scheduler is not None:
        scheduler = check_scheduler_address("--scheduler", scheduler)
    axes: dict[str, Any] = {"distance_km": parse_distances_km("--distance-km", distance_km).tolist()}
    for item in vary or []:
        name, separator, spec = item.partition("=")
        if not separator:
            raise ParameterError(f"--vary {item!r}: must look like NAME=SPEC")
        axes[name.strip()] = parse_value_spec(f"--vary {name.strip()}", spec).tolist()
    fixed = {"protocol": protocol, **({"preset": preset} if preset else {}), **parse_settings("--set", set_ or [])}
    points = [{**fixed, **point} for point in grid(**axes)]
    if len(points) > MAX_VALUES:
        raise ParameterError(f"the grid asks for {len(points):,} points; at most {MAX_VALUES:,}")
    make_parameters(
        protocol, preset, {k: v for k, v in points[0].items() if k not in ("protocol", "preset", "distance_km")}
    )
    if workers is not None and scheduler is None and workers > usable_cores():
        typer.echo(
            f"note: --workers {workers} is more than the {usable_cores()} usable cores; using {usable_cores()}",
            err=True,
        )
    budget = f"the grid of {len(points):,} points"
    with tracked(f"sweep of {protocol}", total=len(points), quiet=as_json, budget_option=budget) as shown:
        results = run_sweep(key_rate_point, points, scheduler_address=scheduler, workers=workers, on_progress=shown)
    rows = point_rows(results)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = RichTable(title=f"sweep of {protocol}")
    columns = [*axes, "status", "key_rate_bps", "qber"]
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            *(
                cell_text(row.get(column))
                if row["status"] == "ok" or column in axes or column == "status"
                else str(row["error"])
                for column in columns
            )
        )
    Console().print(table)
    if not any(row["status"] == "ok" for row in rows):
        typer.echo("error: sweep: every point failed (see the table)", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``sweep`` to the CLI."""
    app.command("sweep")(sweep)
