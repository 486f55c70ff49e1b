"""The QRNG section of ``qit4n demo``: built from the models, the assessment and the health tests."""

from __future__ import annotations

from qit4n.qrng.report import FAULT_START, fault_responses, qrng_section


def test_every_injected_fault_is_caught_and_healthy_runs_are_not_flagged():
    responses = fault_responses()
    healthy = [r for r in responses if r.fault is None]
    faulty = [r for r in responses if r.fault is not None]
    assert len(healthy) == 2 and all(r.alarm is None for r in healthy)
    assert len(faulty) == 7 and all(r.alarm is not None and r.delay_samples is not None for r in faulty)
    by_case = {(r.model, r.fault.kind.value): r for r in faulty if r.fault is not None}
    # A value stuck on the homodyne device: the repetition count test fires at its cutoff C = 4
    # (1 + ceil(20 / 6.73), SP 800-90B 4.4.1), i.e. on the fourth stuck sample at the latest.
    stuck = by_case[("homodyne", "stuck-value")]
    assert stuck.alarm is not None and stuck.alarm.test == "repetition count"
    assert 0 <= stuck.delay_samples <= 3  # type: ignore[operator]
    assert all(r.alarm is not None and r.alarm.sample_index >= FAULT_START for r in faulty)


def test_the_section_holds_the_three_tables_and_the_figure(tmp_path):
    section = qrng_section(None, tmp_path)
    assert section.title == "Quantum random numbers"
    entropy, assessment, health = section.tables
    assert [row[0] for row in entropy.rows] == ["homodyne", "phase noise", "beam splitter"]
    h_initial = next(row[1] for row in assessment.rows if str(row[0]).startswith("H_I"))
    assert 0.0 < h_initial < entropy.rows[0][2]  # the statistical estimate stays below the physical bound
    assert len(health.rows) == 9
    assert (tmp_path / "qrng-min-entropy.png").stat().st_size > 0
