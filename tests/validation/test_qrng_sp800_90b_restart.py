"""SP 800-90B restart tests (section 3.1.4) against NIST's reference implementation.

Reference values: ``tests/qrng/data/sp800_90b_restart_reference.json`` (``ea_restart`` of
usnistgov/SP800-90B_EntropyAssessment at commit 68ed165; the note there gives the matrix, which
this test regenerates from a seeded numpy generator). The reference prints six decimals, so the
estimates agree to 5e-7; the sanity-check cutoff and the largest count exactly. The lag predictor
on the columns is a case where the local (longest-run) bound sets the estimate, which checks that
root-finding too (relative 1e-7).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qit4n.qrng.assessment import assess_restarts, restart_cutoff

REFERENCE = json.loads((Path(__file__).parents[1] / "qrng" / "data" / "sp800_90b_restart_reference.json").read_text())


def test_sanity_check_cutoffs() -> None:
    for h_initial, cutoff in REFERENCE["x_cutoff_by_h_initial"].items():
        assert restart_cutoff(float(h_initial)) == cutoff
    assert restart_cutoff(REFERENCE["h_initial"]) == REFERENCE["x_cutoff"]


def test_row_and_column_estimates_match_reference() -> None:
    rng = np.random.default_rng(2026)
    matrix = np.clip(np.floor(rng.normal(128, 12, (1000, 1000))), 0, 255).astype(np.uint8)
    result = assess_restarts(matrix, 8, REFERENCE["h_initial"])
    assert result.cutoff == REFERENCE["x_cutoff"]
    assert max(result.max_row_count, result.max_column_count) == REFERENCE["x_max"]
    assert result.rows is not None and result.columns is not None
    for ours, printed in ((result.rows, REFERENCE["rows"]), (result.columns, REFERENCE["columns"])):
        by_name = {e.name: e.min_entropy for e in ours.original}
        assert set(by_name) == set(printed)
        for name, value in printed.items():
            assert by_name[name] == pytest.approx(float(value), abs=5e-7), name
    assert result.rows.h_initial == pytest.approx(float(REFERENCE["h_r"]), abs=5e-7)
    assert result.columns.h_initial == pytest.approx(float(REFERENCE["h_c"]), abs=5e-7)
    lag = next(e for e in result.columns.original if e.name == "lag")
    assert lag.values["p_local"] == pytest.approx(float(REFERENCE["lag_columns_p_local"]), rel=1e-7)
    assert result.passed and result.min_entropy == REFERENCE["h_initial"]
