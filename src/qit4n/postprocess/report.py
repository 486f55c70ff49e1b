"""Report parts of post-processing, built from typed results: the quantities of a distilled block."""

from __future__ import annotations

from typing import Any

from qit4n.postprocess.summary import PostprocessSummary

__all__ = ["summary_quantities", "summary_title"]


def summary_title(summary: PostprocessSummary) -> str:
    """One line naming the block: bits, QBER and reconciler."""
    return f"post-processing {summary.result.input_bits} bits at QBER {summary.qber:g} ({summary.reconciler})"


def summary_quantities(summary: PostprocessSummary) -> list[tuple[str, Any]]:
    """Where the bits went, stage by stage, then the time each stage took (s)."""
    result, rec = summary.result, summary.result.reconciliation
    rows: list[tuple[str, Any]] = [
        ("estimation_bits", result.estimation_bits),
        ("qber_estimate", result.qber_estimate),
        ("realised_errors", rec.realised_errors),
        ("leak_ec_bits", rec.leak_ec_bits),
        ("efficiency", rec.efficiency),
        ("verification_bits", rec.verification_bits),
        ("frames", rec.frames),
        ("frame_errors", rec.frame_errors),
        ("round_trips", sum(traffic.round_trips for traffic in result.traffic.values())),
        ("amplified_bits", result.amplified_bits),
        ("auth_key_bits", result.auth_key_bits),
        ("final_key_bits", result.net_key_bits),
        ("keys_match", result.keys_match),
    ]
    return rows + [(f"time: {stage} (s)", f"{seconds:.3f}") for stage, seconds in result.seconds.items()]
