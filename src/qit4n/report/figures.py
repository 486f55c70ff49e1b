"""Figures shared by several reports, drawn with matplotlib's non-interactive backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Curve", "plot_key_rate_vs_distance"]


@dataclass(frozen=True)
class Curve:
    """One labelled line of a figure."""

    label: str
    x: np.ndarray
    y: np.ndarray


def plot_key_rate_vs_distance(
    curves: Sequence[Curve], path: Path, *, ylabel: str = "secret key rate (bits per pulse)", title: str = ""
) -> Path:
    """Key rate versus fibre distance on a log scale, one line per curve; zeros are left out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8.0, 4.8), dpi=110)
    for curve in curves:
        positive = curve.y > 0
        axes.plot(curve.x[positive], curve.y[positive], label=curve.label, linewidth=1.8)
    axes.set_yscale("log")
    axes.set_xlabel("fibre distance (km)")
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
