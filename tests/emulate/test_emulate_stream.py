"""The streamed emulators: the same records whatever the chunk size, the same laws as the per-pulse
emulator (counts, QBER, gaps, dead time, afterpulses), memory that follows the detections.

Tolerances: counts against the model's expected values within 4.5 binomial standard deviations
(Ma et al. 2005, Eqs. 15-17, as :func:`qit4n.emulate.expected_statistics` computes them);
two-sample comparisons with the per-pulse emulator by a chi-square test of homogeneity at
p > 1e-4 (a false alarm once in 10,000 runs; the seeds are fixed, so a pass is reproducible).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy import stats

from qit4n.emulate import (
    DecoyStream,
    EntangledLinkSettings,
    EntangledStream,
    LinkRun,
    LinkSettings,
    StatisticsTally,
    emulate_bb84,
    emulate_bbm92,
    expected_statistics,
    observed_statistics,
    run_link,
)
from qit4n.errors import ParameterError
from qit4n.qrng import HomodyneSource
from qit4n.qrng.source import QrngSource

_FIELDS = ("pulses", "bob_bases", "bob_bits", "double_clicks", "alice_bases", "alice_intensities", "alice_bits")


def _joined(chunks) -> dict[str, np.ndarray]:
    chunks = list(chunks)
    joined = {name: np.concatenate([getattr(chunk, name) for chunk in chunks]) for name in _FIELDS}
    joined["sent"] = np.sum([chunk.sent for chunk in chunks], axis=0)
    return joined


def _tally(stream: DecoyStream):
    tally = StatisticsTally()
    for _ in tally.watch(stream.chunks()):
        pass
    return tally.result()


@pytest.mark.parametrize("dead_time_s, afterpulse", [(0.0, 0.0), (10e-9, 0.05)])
def test_records_do_not_depend_on_the_chunk_size(dead_time_s, afterpulse):
    settings = LinkSettings(eta_channel=0.3, dead_time_s=dead_time_s, afterpulse_probability=afterpulse)
    stream = DecoyStream(settings, 2_000_003, entropy=11, block_pulses=65_536)
    reference = _joined(stream.chunks())
    for chunk_pulses in (1, 200_000, 10**9):
        other = _joined(stream.chunks(chunk_pulses))
        for name, values in reference.items():
            assert np.array_equal(other[name], values), name
    assert reference["sent"].sum() == 2_000_003
    assert np.all(np.diff(reference["pulses"]) > settings.dead_gates)  # dead time holds across blocks
    assert reference["pulses"].max() < 2_000_003


def test_gains_and_qber_per_intensity_match_the_model():
    settings = LinkSettings(eta_channel=0.3, dark_count_probability=1e-4, misalignment_error=0.02)
    observed = _tally(DecoyStream(settings, 20_000_000, entropy=3))
    gain, qber = expected_statistics(settings)
    probabilities = np.asarray(settings.probabilities)
    total = observed.sent.sum()
    assert np.all(np.abs(observed.sent / total - probabilities) < 4.5 * np.sqrt(probabilities / total))
    for index in range(3):
        assert abs(observed.gain[index] - gain[index]) < 4.5 * np.sqrt(gain[index] / observed.sent[index])
        sigma = np.sqrt(qber[index] * (1 - qber[index]) / observed.sifted_x[index])
        assert abs(observed.qber_x[index] - qber[index]) < 4.5 * sigma


def _gap_histogram(pulses: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.histogram(np.diff(pulses), bins=edges)[0]


@pytest.mark.parametrize("dead_time_s, afterpulse", [(0.0, 0.0), (20e-9, 0.1)])
def test_streamed_and_per_pulse_emulators_agree(dead_time_s, afterpulse):
    """Same settings, 4e6 pulses each: clicks per intensity, sifted errors per intensity and the
    histogram of gaps between registered clicks are homogeneous across the two emulators."""
    settings = LinkSettings(
        eta_channel=0.5, dark_count_probability=1e-4, dead_time_s=dead_time_s, afterpulse_probability=afterpulse
    )
    pulses = 4_000_000
    old = emulate_bb84(settings, pulses, np.random.default_rng(21))
    new = _joined(DecoyStream(settings, pulses, entropy=22, block_pulses=1 << 20).chunks())
    old_stats, new_stats = (
        observed_statistics(old),
        _tally(DecoyStream(settings, pulses, entropy=22, block_pulses=1 << 20)),
    )
    table = np.array([old_stats.gain * old_stats.sent, new_stats.gain * new_stats.sent])
    assert stats.chi2_contingency(table).pvalue > 1e-4
    errors = np.array([old_stats.errors_x + old_stats.errors_z, new_stats.errors_x + new_stats.errors_z])
    assert stats.chi2_contingency(errors).pvalue > 1e-4
    gaps = np.diff(old.bob.pulses)
    edges = np.unique(np.quantile(gaps, np.linspace(0, 1, 21)))
    edges[-1] = np.inf
    histograms = np.array([_gap_histogram(old.bob.pulses, edges), _gap_histogram(new["pulses"], edges)])
    assert stats.chi2_contingency(histograms).pvalue > 1e-4
    if afterpulse == 0.0 and dead_time_s == 0.0:
        # Without dead time the gaps are geometric with the total click probability (chi-square fit).
        click = float(settings.probabilities @ expected_statistics(settings)[0])
        observed = _gap_histogram(new["pulses"], edges)
        cdf = stats.geom(click).cdf(np.concatenate([edges[:-1], [np.inf]]) - 1)
        expected = np.diff(cdf) * observed.sum()
        assert stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > 1e-4


def test_afterpulses_land_on_pulses_that_are_not_candidates():
    """With afterpulses and a quiet channel, clicks appear on vacuum pulses far above the dark
    count rate: the afterpulse's slot takes Alice's choices from the non-candidate law."""
    settings = LinkSettings(eta_channel=0.5, dead_time_s=10e-9, afterpulse_probability=0.2)
    observed = _tally(DecoyStream(settings, 4_000_000, entropy=5))
    old = observed_statistics(emulate_bb84(settings, 4_000_000, np.random.default_rng(5)))
    table = np.array([old.gain * old.sent, observed.gain * observed.sent])
    assert stats.chi2_contingency(table).pvalue > 1e-4
    assert observed.gain[2] > 100 * settings.dark_count_probability


def test_bbm92_stream_is_the_block_emulation_whatever_the_chunk():
    settings = EntangledLinkSettings(eta_alice=0.1, eta_bob=0.1, mean_pair_number=0.1)
    stream = EntangledStream(settings, 1_000_000, entropy=4, block_pulses=300_000)
    whole = list(stream.chunks(10**9))
    assert len(whole) == 1
    pieces = list(stream.chunks())
    assert len(pieces) == 4
    for party in ("alice", "bob"):
        for field in ("slots", "bases", "bits", "double_clicks"):
            joined = np.concatenate([getattr(getattr(chunk, party), field) for chunk in pieces])
            assert np.array_equal(joined, getattr(getattr(whole[0], party), field))
    block = emulate_bbm92(
        settings, 300_000, np.random.default_rng(np.random.SeedSequence(4, spawn_key=(1,)))
    ).alice.slots
    assert np.array_equal(pieces[1].alice.slots, block + 300_000)


def test_memory_follows_the_detections_not_the_pulses():
    """1e8 pulses at 25 km (gys-like receiver): the per-pulse emulator needed 1.3 GB; streamed, the
    emulation and distillation stay under 64 MB of traced allocations."""
    run_link("bb84-decoy", 25.0, 10_000, preset="gys", seed=1)  # compile and import outside the trace
    tracemalloc.start()
    try:
        run = run_link("bb84-decoy", 25.0, 100_000_000, preset="gys", seed=1)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(run, LinkRun)
    assert run.distilled.result.keys_match and run.statistics.sent.sum() == 100_000_000
    assert peak_bytes < 64 * 2**20


def test_a_randomness_source_keeps_the_per_pulse_limit():
    source = QrngSource(HomodyneSource(), name="qrng:homodyne", seed=7)
    with pytest.raises(ParameterError, match=r"pulses = 2000000000: must be <= 1e9 with a randomness source"):
        run_link("bb84-decoy", 10.0, 2_000_000_000, seed=1, randomness=source)
