"""HTML reports and figures built from results (never computes results itself)."""

from qit4n.report.html import Figure, Section, Table, write_report

__all__ = ["Figure", "Section", "Table", "write_report"]
