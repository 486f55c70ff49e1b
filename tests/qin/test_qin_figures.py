"""The quantum-network report's bar chart keeps its legend off the bars."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from qit4n.qin.figures import rates_figure
from qit4n.qin.network import RequestOutcome


def _outcome(name: str, rate: float, requested: float) -> RequestOutcome:
    return RequestOutcome(
        name=name,
        endpoints=("A", "B"),
        path=("A", "B"),
        length_km=10.0,
        target_fidelity=0.8,
        requested_pairs_per_s=requested,
        delivered_pairs=int(rate),
        rate_pairs_per_s=rate,
        fidelity_mean=0.9,
        fraction_above_target=1.0,
        waiting_time_mean_s=0.01,
        satisfied=rate >= requested,
        estimated_rate_pairs_per_s=rate,
        estimated_fidelity=0.9,
    )


def test_legend_covers_no_bar_even_when_bars_fill_the_axes() -> None:
    # equal full-height bars in every slot leave matplotlib's "best" place no free corner
    rows = [_outcome(f"request-{index}", 100.0, 100.0) for index in range(4)]
    figure = rates_figure(rows)
    try:
        figure.canvas.draw()
        (axis,) = figure.axes
        legend_box = axis.get_legend().get_window_extent()
        bars = [patch for patch in axis.patches if isinstance(patch, Rectangle)]
        assert len(bars) == 8
        assert not any(legend_box.overlaps(bar.get_window_extent()) for bar in bars)
        assert figure.bbox.contains(legend_box.x0, legend_box.y0) and figure.bbox.contains(legend_box.x1, legend_box.y1)
    finally:
        plt.close(figure)
