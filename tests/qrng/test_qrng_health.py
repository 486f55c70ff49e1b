"""Health tests (SP 800-90B 4.4): cutoffs, online state across chunks, failure modes caught, healthy not flagged."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from qit4n.errors import ParameterError
from qit4n.qrng import (
    BeamSplitterSource,
    Fault,
    FaultKind,
    HealthMonitor,
    HomodyneSource,
    PhaseNoiseSource,
    adaptive_proportion_cutoff,
    emulate,
    repetition_count_cutoff,
)


@pytest.mark.parametrize("entropy", [0.3, 1.0, 2.5, 6.0])
@pytest.mark.parametrize("window", [512, 1024])
def test_adaptive_proportion_cutoff_is_the_binomial_quantile(entropy: float, window: int) -> None:
    alpha = 2.0**-20
    cutoff = adaptive_proportion_cutoff(entropy, window, alpha)
    p = 2.0**-entropy
    assert cutoff == window or binom.sf(cutoff - 1, window, p) <= alpha
    assert binom.sf(cutoff - 2, window, p) > alpha


def test_repetition_count_cutoff_formula_and_checks() -> None:
    assert repetition_count_cutoff(0.5) == 1 + math.ceil(20 / 0.5)
    with pytest.raises(ParameterError, match="alpha"):
        repetition_count_cutoff(1.0, alpha=2.0)
    with pytest.raises(ParameterError, match="entropy_bits"):
        HealthMonitor(entropy_bits=9.0, bits_per_sample=8)


def test_state_carries_across_chunks() -> None:
    rng = np.random.default_rng(5)
    data = rng.integers(0, 2, 200_000).astype(np.uint8)
    data[100_000:100_030] = 1
    whole = HealthMonitor(entropy_bits=1.0, bits_per_sample=1)
    whole.feed(data)
    pieces = HealthMonitor(entropy_bits=1.0, bits_per_sample=1)
    for chunk in np.array_split(data, 37):
        pieces.feed(chunk)
    assert whole.alarms == pieces.alarms and whole.alarms


SOURCES = [HomodyneSource(), PhaseNoiseSource(), BeamSplitterSource(eta=(0.6, 0.5))]
FAULTS = [
    Fault(FaultKind.STUCK_VALUE, 50_000, 3),
    Fault(FaultKind.STUCK_BIT, 50_000, 1, bit=0),
    Fault(FaultKind.SIGNAL_LOSS, 50_000),
    Fault(FaultKind.BIAS, 50_000, 0.5),
]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.kind.value)
def test_every_failure_mode_is_caught_after_it_starts(source, fault: Fault) -> None:
    monitor = HealthMonitor(entropy_bits=source.min_entropy_per_sample(), bits_per_sample=source.bits_per_sample)
    for chunk in emulate(source, 150_000, np.random.default_rng(6), chunk_samples=20_000, faults=[fault]):
        monitor.feed(chunk)
    assert monitor.alarms, fault
    assert monitor.alarms[0].sample_index >= fault.start_sample


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: type(s).__name__)
def test_healthy_sources_raise_no_alarm(source) -> None:
    monitor = HealthMonitor(entropy_bits=source.min_entropy_per_sample(), bits_per_sample=source.bits_per_sample)
    for chunk in emulate(source, 500_000, np.random.default_rng(7)):
        monitor.feed(chunk)
    assert monitor.healthy, monitor.alarms[:3]


def test_false_positive_rate_is_at_most_alpha() -> None:
    """Fair bits at their true entropy with alpha = 2^-8: alarms per sample stay below alpha for each test."""
    alpha = 2.0**-8
    monitor = HealthMonitor(entropy_bits=1.0, bits_per_sample=1, alpha=alpha)
    monitor.feed(np.random.default_rng(8).integers(0, 2, 2_000_000).astype(np.uint8), max_alarms=100_000)
    rct = sum(a.test == "repetition count" for a in monitor.alarms) / monitor.samples_seen
    windows = monitor.samples_seen // monitor.window
    apt = sum(a.test == "adaptive proportion" for a in monitor.alarms) / windows
    assert 0 < rct <= alpha
    assert apt <= alpha
