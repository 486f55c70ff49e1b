"""LDPC reconciliation against the Slepian-Wolf limit and the published BSC thresholds.

* Elkouss, Leverrier, Alleaume and Boutros, ISIT 2009, arXiv:0901.2140, Table I: the degree
  distribution of rate 0.7 has belief-propagation threshold 0.0504 on the BSC (infinite length).
  A 2^15-bit code of the project built from it must decode every frame at crossover 0.04 (20 %
  below the threshold) and must fail above the Shannon limit of its rate (h(0.065) = 0.347 > 0.3).
* Rate-adaptive reconciliation (Elkouss et al., arXiv:1006.2660) on 2^15-bit frames at QBER 2 %:
  efficiency ``leak / (n h2(e))`` (realised error rate ``e``) is >= 1 (Slepian-Wolf) and, averaged
  over 4 frames, <= 1.13 (measured 1.103; the 1e5-bit figure, 1.098, is in benchmarks/bench_postprocess.py;
  shorter codes sit further from capacity), with every frame corrected.
"""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.maths import binary_entropy
from qit4n.postprocess import PublicChannel, random_bits
from qit4n.postprocess.bits import count_errors
from qit4n.postprocess.ldpc import reconcile_ldpc
from qit4n.postprocess.ldpc_codes import build_code, decode_sum_product, syndrome

SIZE = 2**15


def _frame(qber: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    alice = random_bits(SIZE, rng)
    bob = alice.copy()
    bob[rng.choice(SIZE, size=round(qber * SIZE), replace=False)] ^= 1
    return alice, bob


@pytest.mark.parametrize(("qber", "decodes"), [(0.04, True), (0.065, False)])
def test_rate_07_code_against_published_threshold(qber, decodes):
    code = build_code(SIZE, 0.7, lift=16)
    for seed in range(3):
        alice, bob = _frame(qber, seed)
        llr = (1.0 - 2.0 * bob) * np.log((1.0 - qber) / qber)
        decoded, _, _ = decode_sum_product(code, llr, syndrome(code, alice), 60)
        assert np.array_equal(decoded, alice) is decodes


def test_efficiency_at_two_percent_on_2_15_bit_frames():
    efficiencies = []
    for seed in range(4):
        alice, bob = _frame(0.02, 100 + seed)
        result = reconcile_ldpc(alice, bob, 0.02, PublicChannel(), np.random.default_rng(seed))
        assert result.converged and np.array_equal(result.key, alice)
        efficiencies.append(result.leak_bits / (SIZE * float(binary_entropy(count_errors(alice, bob) / SIZE))))
    assert min(efficiencies) >= 1.0
    assert np.mean(efficiencies) <= 1.13


@pytest.mark.parametrize("qber", [0.02, 0.05])
def test_efficiency_on_realistic_blocks_with_an_estimated_qber(qber):
    """Issue 15 item 5: 1e6-bit blocks with independent (binomial) errors, the QBER estimated from the
    10 % sample the pipeline discloses, the other 9e5 bits reconciled as one frame with that estimate.
    Over 4 blocks every frame is corrected and the mean efficiency (realised QBER) is <= 1.10 (the
    issue's target; 20 blocks in benchmarks/bench_ldpc_realistic.py: 1.095 at 2 %, 1.086 at 5 %)."""
    from qit4n.postprocess import noisy_copy
    from qit4n.postprocess.estimation import estimate_qber_by_sampling

    efficiencies = []
    for seed in range(1, 5):
        rng = np.random.default_rng(seed)
        alice = random_bits(1_000_000, rng)
        bob = noisy_copy(alice, qber, rng, exact=False)
        channel = PublicChannel()
        estimate = estimate_qber_by_sampling(alice, bob, 100_000, channel, rng)
        result = reconcile_ldpc(estimate.alice_key, estimate.bob_key, estimate.qber, channel, rng)
        assert np.array_equal(result.key, estimate.alice_key)
        realised = count_errors(estimate.alice_key, estimate.bob_key) / estimate.alice_key.size
        efficiencies.append(result.leak_bits / (estimate.alice_key.size * float(binary_entropy(realised))))
    assert min(efficiencies) >= 1.0 and np.mean(efficiencies) <= 1.10
