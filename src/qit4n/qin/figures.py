"""PNG figures of quantum-network results (matplotlib, Agg backend): written, never computed, here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from qit4n.qin.demo import RepeaterPoint
    from qit4n.qin.network import NetworkRun, RequestOutcome

__all__ = ["plot_chain_versus_repeaters", "plot_network_run", "rates_figure"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def rates_figure(rows: Sequence[RequestOutcome]) -> Any:
    """Delivered against requested pair rate per request, as bars; the legend sits above the axes, off the bars."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 3.8))
    positions = np.arange(len(rows))
    axis.bar(positions - 0.2, [row.rate_pairs_per_s for row in rows], 0.4, label="delivered")
    axis.bar(positions + 0.2, [row.requested_pairs_per_s for row in rows], 0.4, label="requested")
    axis.set_xticks(positions, [row.name for row in rows], rotation=15)
    axis.set_ylabel("pairs per second")
    axis.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    figure.tight_layout()
    return figure


def plot_network_run(run: NetworkRun, out_dir: Path) -> list[tuple[str, str]]:
    """Rates against requested rates, fidelity histograms and memory utilisation; returns (file, caption)."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = run.request_outcomes()
    figures = []
    figure = rates_figure(rows)
    figure.savefig(out_dir / "qin_rates.png", dpi=110)
    plt.close(figure)
    figures.append(("qin_rates.png", "Delivered and requested entangled-pair rates per request."))
    figure, axis = plt.subplots(figsize=(7, 3.5))
    for row, fidelities in zip(rows, run.fidelity):
        if fidelities.size:
            axis.hist(fidelities, bins=40, histtype="step", label=row.name)
            axis.axvline(row.target_fidelity, linestyle=":", color="grey")
    axis.set_xlabel("fidelity of delivered pairs")
    axis.set_ylabel("pairs")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out_dir / "qin_fidelity.png", dpi=110)
    plt.close(figure)
    figures.append(("qin_fidelity.png", "Fidelity of the delivered pairs per request (dotted: targets)."))
    figure, axis = plt.subplots(figsize=(7, 3.5))
    nodes = list(run.memory_use)
    axis.bar(nodes, [run.memory_use[node]["utilisation"] for node in nodes])
    axis.set_ylabel("memory utilisation (reserved / available)")
    axis.set_ylim(0, 1.05)
    figure.tight_layout()
    figure.savefig(out_dir / "qin_memory.png", dpi=110)
    plt.close(figure)
    figures.append(("qin_memory.png", "Mean fraction of each node's memories reserved by requests."))
    return figures


def plot_chain_versus_repeaters(rows: Sequence[RepeaterPoint], out_path: Path, title: str) -> None:
    """Pairs per channel use and fidelity versus the number of repeaters, with the repeaterless bound."""
    plt = _pyplot()
    repeaters = [row.repeaters for row in rows]
    figure, (rate_axis, fidelity_axis) = plt.subplots(1, 2, figsize=(9, 3.5))
    rate_axis.semilogy(repeaters, [row.pairs_per_channel_use for row in rows], "o-", label="repeater chain")
    rate_axis.semilogy(
        repeaters, [row.repeaterless_bound_per_use for row in rows], "k--", label="repeaterless bound (PLOB)"
    )
    rate_axis.set_xlabel("repeaters")
    rate_axis.set_ylabel("ebits per channel use")
    rate_axis.legend(fontsize=8)
    fidelity_axis.plot(repeaters, [row.fidelity_mean for row in rows], "o-")
    fidelity_axis.set_xlabel("repeaters")
    fidelity_axis.set_ylabel("mean fidelity")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(out_path, dpi=110)
    plt.close(figure)
