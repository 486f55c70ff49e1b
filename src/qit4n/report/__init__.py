"""HTML reports and figures built from results (never computes results itself)."""

from qit4n.report.figures import Curve, plot_key_rate_vs_distance
from qit4n.report.html import Figure, Section, Table, write_report

__all__ = ["Curve", "Figure", "Section", "Table", "plot_key_rate_vs_distance", "write_report"]
