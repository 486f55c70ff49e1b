"""The demo report's "where the bits went" chart keeps its legend off the bars."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from qit4n.emulate import run_link
from qit4n.emulate.decoy_link import LinkRun
from qit4n.emulate.report import _bits_figure


def test_legend_covers_no_bar_and_stays_in_the_figure() -> None:
    run = run_link("bb84-decoy", 25.0, 2_000_000, reconciler="cascade", seed=1)
    assert isinstance(run, LinkRun)
    figure = _bits_figure(run, None)
    try:
        figure.canvas.draw()
        (axis,) = figure.axes
        legend_box = axis.get_legend().get_window_extent()
        bars = [patch for patch in axis.patches if isinstance(patch, Rectangle) and patch.get_width() > 0]
        assert len(bars) >= 6
        assert not any(legend_box.overlaps(bar.get_window_extent()) for bar in bars)
        assert figure.bbox.contains(legend_box.x0, legend_box.y0) and figure.bbox.contains(legend_box.x1, legend_box.y1)
    finally:
        plt.close(figure)
