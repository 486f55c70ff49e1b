"""``qit4n postprocess`` and ``qit4n emulate``: the classical stack on real bits, and a link end to end."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from qit4n.cli.options import MAX_DISTANCE_KM, parse_settings
from qit4n.cli.render import quantities_table, tracked
from qit4n.errors import ParameterError
from qit4n.postprocess import HASH_FAMILIES, RECONCILERS

__all__ = ["register"]

RandomnessOption = Annotated[
    str | None,
    typer.Option(
        "--randomness",
        help="source of the random choices and seeds: qrng:MODEL[,FAULT...] (homodyne | phase-noise | "
        "beam-splitter, health-tested and extracted) or file:PATH (default: the seeded generator)",
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``postprocess`` and ``emulate`` to the CLI."""

    @app.command("postprocess")
    def postprocess_command(
        qber: Annotated[float, typer.Option("--qber", help="error rate of Bob's sifted bits")],
        bits: Annotated[int, typer.Option("--bits", help="number of sifted bits")],
        reconciler: Annotated[str, typer.Option("--reconciler", help=" | ".join(RECONCILERS.names()))] = "cascade",
        amplification: Annotated[
            str, typer.Option("--amplification", help="privacy amplification: " + " | ".join(HASH_FAMILIES.names()))
        ] = "modular",
        frame_bits: Annotated[
            int | None, typer.Option("--frame-bits", help="bits reconciled and verified together (default 2^20)")
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="seed of the random generator")] = 0,
        randomness: RandomnessOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    ) -> None:
        """Run the post-processing stack on BITS sifted bits with errors at rate QBER."""
        from qit4n.cli.qrng import open_randomness
        from qit4n.postprocess.report import summary_quantities, summary_title
        from qit4n.postprocess.summary import postprocess_simulated

        source = open_randomness("--randomness", randomness, seed)
        what = f"distilling {bits:,} bits ({reconciler}): bits reconciled"
        with tracked(what, quiet=as_json, budget_option=f"--bits = {bits:g}") as shown:
            summary = postprocess_simulated(
                bits,
                qber,
                reconciler=reconciler,
                amplification=amplification,
                frame_bits=frame_bits,
                seed=seed,
                randomness=source,
                on_progress=shown,
            )
        if as_json:
            typer.echo(json.dumps(summary.to_json()))
        else:
            rows = summary_quantities(summary) + _randomness_rows(source)
            Console().print(quantities_table(summary_title(summary), rows))

    @app.command("emulate")
    def emulate_command(
        protocol: Annotated[str, typer.Argument(help="bb84-decoy | bb84-decoy-finite | bbm92")],
        distance_km: Annotated[float, typer.Option("--distance-km", help="fibre length, km")],
        pulses: Annotated[float, typer.Option("--pulses", help="pulses to emulate, e.g. 1e8")],
        preset: Annotated[str | None, typer.Option("--preset", help="published parameter set")] = None,
        postprocess: Annotated[
            str, typer.Option("--postprocess", help="reconciler: " + " | ".join(RECONCILERS.names()))
        ] = "cascade",
        settings: Annotated[
            list[str] | None, typer.Option("--set", help="NAME=VALUE parameter override (repeatable)")
        ] = None,
        classical: Annotated[
            list[str] | None,
            typer.Option(
                "--classical",
                help="co-propagating classical channel WAVELENGTH_NM:POWER_DBM[:forward|backward] "
                "(Raman noise; repeatable)",
            ),
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="seed of the random generator")] = 0,
        randomness: RandomnessOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    ) -> None:
        """Emulate a link (its detection records, drawn in streamed blocks), distil the key and compare with
        the analytic finite-key rate.

        bbm92: an entangled-pair source on the link; set it with --set mean_pair_number=MU,
        pair_statistics=thermal|poisson, source_position=S (0: at Alice, 0.5: middle).
        """
        from qit4n.cli.qrng import open_randomness
        from qit4n.emulate import run_link
        from qit4n.emulate.report import run_json, run_quantities, run_title

        if not 0 <= distance_km <= MAX_DISTANCE_KM:
            raise ParameterError(f"--distance-km = {distance_km:g}: must be in [0, {MAX_DISTANCE_KM:g}] km")
        source = open_randomness("--randomness", randomness, seed)
        overrides = parse_settings("--set", settings or [])
        channels = [_classical_channel(text) for text in classical or []]
        what = f"emulating {pulses:.3g} pulses of {protocol} and distilling: pulses drawn"
        with tracked(what, quiet=as_json, budget_option=f"--pulses = {pulses:g}") as shown:
            run = run_link(
                protocol,
                distance_km,
                int(pulses),
                preset=preset,
                overrides=overrides,
                reconciler=postprocess,
                seed=seed,
                classical_channels=channels,
                randomness=source,
                on_progress=shown,
            )
        if as_json:
            typer.echo(json.dumps(run_json(run)))
        else:
            Console().print(quantities_table(run_title(run), run_quantities(run) + _randomness_rows(source)))


def _randomness_rows(source: Any) -> list[tuple[str, Any]]:
    """The randomness source's health as table rows (none without a source)."""
    if source is None:
        return []
    state = source.health()
    return [
        ("randomness source", state.source),
        ("randomness healthy", str(state.healthy)),
        ("randomness bytes drawn", state.bytes_delivered),
    ]


def _classical_channel(text: str) -> Any:
    from qit4n.scenario import ClassicalChannel
    from qit4n.schema import validate_parameters

    parts = text.split(":")
    usage = f"--classical = {text!r}: must look like WAVELENGTH_NM:POWER_DBM[:forward|backward], e.g. 1550.92:0:forward"
    if len(parts) not in (2, 3):
        raise ParameterError(usage)
    try:
        values: dict[str, Any] = {"wavelength_nm": float(parts[0]), "launch_power_dbm": float(parts[1])}
    except ValueError:
        raise ParameterError(usage) from None
    if len(parts) == 3:
        values["direction"] = parts[2]
    return validate_parameters(ClassicalChannel, values, context="--classical")
