"""Report part of key management: the KMEs of a scenario agreeing hybrid keys across a trusted relay."""

from __future__ import annotations

from pathlib import Path

from qit4n.report import REPORT_SECTIONS, Section
from qit4n.scenario import Scenario

__all__ = ["key_management_section"]


def key_management_section(scenario: Scenario, out_dir: Path) -> Section:
    """Run the scenario's KMEs for a few seconds; an SAE pair across a trusted relay agrees hybrid keys."""
    from qit4n.kms.demo import run_demo

    section: Section = run_demo(scenario, out_dir)
    return section


REPORT_SECTIONS.register("kms", key_management_section)
