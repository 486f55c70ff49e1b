"""Report parts of the emulator, built from its runs: the ``--json`` object, quantity lists and the demo section."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from qit4n.emulate.decoy_link import LinkRun
from qit4n.emulate.emulator import EmulatedRun
from qit4n.emulate.entangled_link import EntangledLinkRun
from qit4n.emulate.run import run_link
from qit4n.errors import ScenarioError
from qit4n.report import REPORT_SECTIONS, Figure, Section, Table
from qit4n.scenario import Link, Scenario

__all__ = ["emulated_link_section", "run_json", "run_quantities", "run_title"]

_DEMO_PULSES = 50_000_000
#: The demo section describes decoy-state estimation, so it plays the first decoy-BB84 link.
_DEMO_PROTOCOLS = ("bb84-decoy", "bb84-decoy-finite")


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def run_json(run: EmulatedRun) -> dict[str, Any]:
    """The ``--json`` object of ``qit4n emulate``: the run's fields, non-finite numbers as ``null``."""
    return {key: _finite(value) for key, value in run.as_dict().items()}


def run_title(run: EmulatedRun) -> str:
    """One line naming the run: protocol, distance, pulses (and the source position of BBM92)."""
    if isinstance(run, EntangledLinkRun):
        return (
            f"{run.protocol} over {run.distance_km:g} km, {run.pulses:.3g} slots, "
            f"source at {run.source_position:g} of the link"
        )
    if isinstance(run, LinkRun):
        return f"{run.protocol} over {run.distance_km:g} km, {run.pulses:.3g} pulses"
    return f"{run.protocol}, {run.pulses:.3g} pulses"


def _entangled_quantities(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
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
        ("analytic finite-key rate at the realised f_EC (bit/s)", summary["analytic_finite_key_rate_bps_realised_ec"]),
        ("analytic asymptotic rate (bit/s)", summary["analytic_asymptotic_key_rate_bps"]),
    ]


def _decoy_quantities(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for index, label in enumerate(("signal", "decoy", "vacuum")):
        qber = summary["qber_x"][index]
        rows.append((f"gain {label} (mu = {summary['intensities'][index]:g})", f"{summary['gain'][index]:.4e}"))
        rows.append((f"QBER X {label}", "–" if qber is None else f"{qber:.4f}"))
    return rows + [
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
        ("analytic finite-key rate at the realised f_EC (bit/s)", summary["analytic_finite_key_rate_bps_realised_ec"]),
    ]


def run_quantities(run: EmulatedRun) -> list[tuple[str, Any]]:
    """The run's detections, sifted bits, QBER, leak and key against the analytic rate, as (quantity, value).

    Another registered emulator's run lists the numbers and flags of its ``as_dict``.
    """
    if isinstance(run, EntangledLinkRun):
        return _entangled_quantities(run.as_dict())
    if isinstance(run, LinkRun):
        return _decoy_quantities(run.as_dict())
    return [(name, value) for name, value in run_json(run).items() if isinstance(value, int | float | str | None)]


def _bits_figure(run: LinkRun, path: Path | None) -> Any:
    """Where the bits of ``run`` went, as stacked bars: written to ``path``, or the open figure if ``path`` is None."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = run.as_dict()
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
    figure, axis = plt.subplots(figsize=(9.5, 3.2))
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
    # right of the axes: inside, any corner covers the detections bar, which spans the whole width
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    figure.tight_layout()
    if path is None:
        return figure
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return None


def _distilled_table(run: LinkRun) -> Table:
    summary = run.as_dict()
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
    return Table(("quantity", "value"), rows, caption="Emulated link and distilled key")


def _demo_link(scenario: Scenario) -> tuple[int, Link, float]:
    """The first fibre link of ``scenario`` whose protocol is decoy BB84."""
    for index, link in enumerate(scenario.links):
        if link.protocol in _DEMO_PROTOCOLS and link.length_km is not None:
            return index, link, link.length_km
    raise ScenarioError(scenario.name, [f"links: none with length_km and protocol {' or '.join(_DEMO_PROTOCOLS)}"])


def emulated_link_section(scenario: Scenario, out_dir: Path) -> Section:
    """One decoy-BB84 link of the scenario emulated pulse by pulse and distilled, with where the bits went."""
    index, link, length_km = _demo_link(scenario)
    run = run_link(
        link.protocol,
        length_km,
        _DEMO_PULSES,
        preset=link.preset,
        overrides=dict(link.device),
        seed=2008,
        classical_channels=link.classical_channels,
        receiver=link.receiver,
    )
    if not isinstance(run, LinkRun):
        raise ScenarioError(scenario.name, [f"links[{index}].protocol = {link.protocol!r}: must be decoy BB84"])
    _bits_figure(run, out_dir / "postprocess-bits.png")
    return Section(
        "Post-processing of an emulated link",
        paragraphs=[
            f"Link {scenario.link_id(index)} ({link.length_km:g} km, {link.protocol}) emulated pulse by pulse, "
            "then sifted, estimated with the decoy bounds of Lim et al. (2014) on the observed counts, reconciled "
            "with Cascade, verified, privacy-amplified and authenticated by two parties exchanging messages over a "
            "counting channel.",
        ],
        tables=[_distilled_table(run)],
        figures=[Figure("postprocess-bits.png", "Where the bits went, from detections to the net secret key.")],
    )


REPORT_SECTIONS.register("postprocess", emulated_link_section)
