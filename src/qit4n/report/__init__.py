"""HTML reports and figures built from results (never computes results itself), and the report-section family."""

from qit4n.report.figures import Curve, plot_key_rate_vs_distance
from qit4n.report.html import Figure, Section, Table, write_report
from qit4n.report.provenance import Provenance
from qit4n.report.sections import (
    REPORT_SECTIONS,
    SectionBuilder,
    SectionOutcome,
    build_sections,
    not_applicable_section,
    skipped_section,
)

__all__ = [
    "REPORT_SECTIONS",
    "Curve",
    "Figure",
    "Provenance",
    "Section",
    "SectionBuilder",
    "SectionOutcome",
    "Table",
    "build_sections",
    "not_applicable_section",
    "plot_key_rate_vs_distance",
    "skipped_section",
    "write_report",
]
