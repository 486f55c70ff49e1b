"""``qit4n postprocess`` and ``qit4n emulate``: the classical stack on real bits, and a link end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.options import parse_settings
from qit4n.postprocess import HASH_FAMILIES, RECONCILERS
from qit4n.report import Figure, Section, Table
from qit4n.scenario import Scenario

__all__ = ["demo_section", "postprocess_summary", "register"]

_DEMO_PULSES = 50_000_000
#: The demo section describes decoy-state estimation, so it plays the first decoy-BB84 link.
_DEMO_PROTOCOLS = ("bb84-decoy", "bb84-decoy-finite")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def postprocess_summary(
    num_bits: int,
    qber: float,
    reconciler: str,
    seed: int,
    amplification: str = "modular",
    frame_bits: int | None = None,
) -> dict[str, Any]:
    """The ``--json`` contract of ``qit4n postprocess``."""
    from qit4n.postprocess.pipeline import PipelineSettings, distill_simulated
    from qit4n.schema import validate_parameters

    values: dict[str, Any] = {"reconciler": reconciler, "amplification": amplification}
    if frame_bits is not None:
        values["frame_bits"] = frame_bits
    settings = validate_parameters(PipelineSettings, values)
    summary = distill_simulated(num_bits, qber, settings, seed).as_dict()
    summary["qber"] = qber
    summary["reconciler"] = reconciler
    summary["amplification"] = amplification
    summary["frame_bits"] = settings.frame_bits
    summary["efficiency"] = _finite(summary["efficiency"])
    return summary


def _print_postprocess(summary: dict[str, Any]) -> None:
    table = RichTable(
        title=f"post-processing {summary['bits']} bits at QBER {summary['qber']:g} ({summary['reconciler']})"
    )
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for name in (
        "estimation_bits",
        "qber_estimate",
        "realised_errors",
        "leak_ec_bits",
        "efficiency",
        "verification_bits",
        "frames",
        "frame_errors",
        "round_trips",
        "amplified_bits",
        "auth_key_bits",
        "final_key_bits",
        "keys_match",
    ):
        value = summary[name]
        table.add_row(name, f"{value:.4g}" if isinstance(value, float) else str(value))
    for stage, seconds in summary["seconds"].items():
        table.add_row(f"time: {stage} (s)", f"{seconds:.3f}")
    Console().print(table)


def _print_quantities(title: str, rows: list[tuple[str, Any]]) -> None:
    table = RichTable(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, "–" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value))
    Console().print(table)


def _print_emulate_bbm92(summary: dict[str, Any]) -> None:
    rows = [
        (f"mean pairs per slot ({summary['pair_statistics']})", summary["mean_pair_number"]),
        ("arm transmittance Alice / Bob", f"{summary['eta_alice']:.4g} / {summary['eta_bob']:.4g}"),
        ("clicks Alice / Bob", f"{summary['clicks_alice']} / {summary['clicks_bob']}"),
        ("coincidences", summary["detections"]),
        ("coincidence gain (measured)", summary["gain"][0]),
        ("coincidence gain (Ma-Fung-Lo)", summary["analytic_gain"]),
        ("QBER sifted (measured)", summary["qber"]),
        ("QBER (Ma-Fung-Lo)", summary["analytic_qber"]),
        ("sifted bits X / Z", f"{summary['sifted_x_bits']} / {summary['sifted_z_bits']}"),
        ("disclosed sample bits", summary["estimation_bits"]),
        ("QBER estimate (sample)", summary["qber_estimate"]),
        ("reconciliation leak (bits)", summary["leak_ec_bits"]),
        ("reconciliation efficiency", summary["efficiency"]),
        ("final key bits", summary["final_key_bits"]),
        ("keys match", summary["keys_match"]),
        ("measured key rate (bit/s)", summary["measured_key_rate_bps"]),
        ("analytic finite-key rate (bit/s)", summary["analytic_finite_key_rate_bps"]),
        ("analytic asymptotic rate (bit/s)", summary["analytic_asymptotic_key_rate_bps"]),
    ]
    title = f"bbm92 over {summary['distance_km']:g} km, {summary['pulses']:.3g} slots, source at {summary['source_position']:g} of the link"
    _print_quantities(title, rows)


def _print_emulate(summary: dict[str, Any]) -> None:
    if summary["protocol"] == "bbm92":
        _print_emulate_bbm92(summary)
        return
    rows: list[tuple[str, Any]] = []
    for index, label in enumerate(("signal", "decoy", "vacuum")):
        qber = summary["qber_x"][index]
        rows.append((f"gain {label} (mu = {summary['intensities'][index]:g})", f"{summary['gain'][index]:.4e}"))
        rows.append((f"QBER X {label}", "–" if qber is None else f"{qber:.4f}"))
    rows += [
        ("detections", summary["detections"]),
        ("sifted key bits (X)", summary["sifted_x_bits"]),
        ("disclosed test bits (Z)", summary["sifted_z_bits"]),
        ("QBER Z", summary["qber_z"]),
        ("reconciliation leak (bits)", summary["leak_ec_bits"]),
        ("reconciliation efficiency", summary["efficiency"]),
        ("final key bits", summary["final_key_bits"]),
        ("keys match", summary["keys_match"]),
        ("measured key rate (bit/s)", summary["measured_key_rate_bps"]),
        ("analytic finite-key rate (bit/s)", summary["analytic_finite_key_rate_bps"]),
    ]
    _print_quantities(f"{summary['protocol']} over {summary['distance_km']:g} km, {summary['pulses']:.3g} pulses", rows)


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
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    ) -> None:
        """Run the post-processing stack on BITS sifted bits with errors at rate QBER."""
        summary = postprocess_summary(bits, qber, reconciler, seed, amplification, frame_bits)
        if as_json:
            typer.echo(json.dumps(summary))
        else:
            _print_postprocess(summary)

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
                help="co-propagating classical channel WAVELENGTH_NM:POWER_DBM[:forward|backward] (Raman noise; repeatable)",
            ),
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="seed of the random generator")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    ) -> None:
        """Emulate a link pulse by pulse, distil the key and compare with the analytic finite-key rate.

        bbm92: an entangled-pair source on the link; set it with --set mean_pair_number=MU,
        pair_statistics=thermal|poisson, source_position=S (0: at Alice, 0.5: middle).
        """
        from qit4n.emulate import run_link

        overrides = parse_settings("--set", settings or [])
        channels = [_classical_channel(text) for text in classical or []]
        run = run_link(
            protocol,
            distance_km,
            int(pulses),
            preset=preset,
            overrides=overrides,
            reconciler=postprocess,
            seed=seed,
            classical_channels=channels,
        )
        summary = run.as_dict()
        if as_json:
            typer.echo(json.dumps({key: _finite(value) for key, value in summary.items()}))
        else:
            _print_emulate(summary)


def _classical_channel(text: str) -> Any:
    from qit4n.errors import ParameterError
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


def _bits_figure(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = summary["sifted_x_bits"]
    amplified = summary["amplified_bits"]
    parts = [
        ("reconciliation leak", summary["leak_ec_bits"], "#d95f02"),
        ("verification tags", summary["verification_bits"], "#7570b3"),
        (
            "privacy amplification",
            max(0, key - summary["leak_ec_bits"] - summary["verification_bits"] - amplified),
            "#e7298a",
        ),
        ("authentication key", min(summary["auth_key_bits"], amplified), "#66a61e"),
        ("net secret key", summary["final_key_bits"], "#1b9e77"),
    ]
    figure, axis = plt.subplots(figsize=(8.0, 3.2))
    axis.barh(["detections"], [summary["detections"]], color="#999999", label="detections")
    axis.barh(["sifted"], [summary["sifted_z_bits"]], color="#a6761d", label="Z basis (disclosed for estimation)")
    axis.barh(["sifted"], [key], left=[summary["sifted_z_bits"]], color="#1f78b4", label="X basis (key)")
    left = 0
    for label, value, colour in parts:
        axis.barh(["key (X basis)"], [value], left=[left], color=colour, label=label)
        left += value
    axis.set_xlabel("bits")
    axis.set_title(
        f"Where the bits went: {summary['protocol']}, {summary['distance_km']:g} km, {summary['pulses']:.2g} pulses"
    )
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def demo_section(scenario: Scenario, out_dir: Path) -> Section:
    """One link of the scenario emulated pulse by pulse and distilled, with where the bits went."""
    from qit4n.emulate import run_link

    index, link = next(
        (i, link)
        for i, link in enumerate(scenario.links)
        if link.protocol in _DEMO_PROTOCOLS and link.length_km is not None
    )
    run = run_link(
        link.protocol,
        link.length_km,
        _DEMO_PULSES,
        preset=link.preset,
        overrides=dict(link.device),
        seed=2008,
        classical_channels=link.classical_channels,
        receiver=link.receiver,
    )
    summary = run.as_dict()
    _bits_figure(summary, out_dir / "postprocess-bits.png")
    rows = [
        ("pulses", summary["pulses"]),
        ("detections", summary["detections"]),
        ("sifted X (key) bits", summary["sifted_x_bits"]),
        ("sifted Z (test) bits", summary["sifted_z_bits"]),
        ("QBER (Z basis)", summary["qber_z"]),
        ("Raman noise per detector per gate", summary["noise_probability"]),
        ("reconciliation leak, bits", summary["leak_ec_bits"]),
        ("reconciliation efficiency", _finite(summary["efficiency"])),
        ("round trips", summary["round_trips"]),
        ("final key bits", summary["final_key_bits"]),
        ("keys identical", str(summary["keys_match"])),
        ("measured key rate, bit/s", summary["measured_key_rate_bps"]),
        ("analytic finite-key rate, bit/s", summary["analytic_finite_key_rate_bps"]),
    ]
    return Section(
        "Post-processing of an emulated link",
        paragraphs=[
            f"Link {scenario.link_id(index)} ({link.length_km:g} km, {link.protocol}) emulated pulse by pulse, then sifted, "
            "estimated with the decoy bounds of Lim et al. (2014) on the observed counts, reconciled with Cascade, "
            "verified, privacy-amplified and authenticated by two parties exchanging messages over a counting channel.",
        ],
        tables=[Table(("quantity", "value"), rows, caption="Emulated link and distilled key")],
        figures=[Figure("postprocess-bits.png", "Where the bits went, from detections to the net secret key.")],
    )
