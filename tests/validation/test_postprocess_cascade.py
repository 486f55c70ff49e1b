"""Cascade reconciliation efficiency against published figures, with the realised error count.

* Original Cascade (Brassard and Salvail, EUROCRYPT '93; four passes, k1 = 0.73/Q, doubling):
  efficiency 1.16 at QBER 2 % (the cascade-python measurement quoted as an anchor in issue 7).
  Tolerance: within 0.04 of 1.16.
* Optimised Cascade (following the guidelines of Martinez-Mateo et al., QIC 15, 453 (2015),
  arXiv:1407.3257: power-of-two blocks, information reuse, BICONF-like halves): the best published
  variants reach about 1.04-1.05 (issue 7's anchor); our target is efficiency <= 1.06 at QBER 1 %,
  2 % and 5 % on 2^16 and 2^18-bit frames, with every frame corrected.

Efficiency is ``leak / (n h2(e))`` with ``e`` the realised error rate of the frame.
"""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.maths import binary_entropy
from qit4n.postprocess import (
    CascadeAlice,
    CascadeBob,
    CascadeSettings,
    CascadeVariant,
    PublicChannel,
    random_bits,
    reconcile_cascade,
)
from qit4n.postprocess.bits import count_errors


def _efficiency(variant: CascadeVariant, size: int, qber: float, seed: int) -> tuple[float, bool]:
    rng = np.random.default_rng(seed)
    alice_key = random_bits(size, rng)
    bob_key = alice_key.copy()
    bob_key[rng.choice(size, size=round(qber * size), replace=False)] ^= 1
    errors = count_errors(alice_key, bob_key)
    channel = PublicChannel()
    result = reconcile_cascade(
        CascadeAlice(alice_key), CascadeBob(bob_key, CascadeSettings(variant, qber, seed)), channel
    )
    leak = channel.total().disclosed_bits
    return leak / (size * float(binary_entropy(errors / size))), bool(np.array_equal(result.key, alice_key))


@pytest.mark.parametrize("qber", [0.01, 0.02, 0.05])
@pytest.mark.parametrize("size", [2**16, 2**18])
def test_optimised_cascade_efficiency_at_most_1_06(size, qber):
    efficiencies = []
    for seed in range(2):
        efficiency, corrected = _efficiency(CascadeVariant.OPTIMISED, size, qber, seed)
        assert corrected
        efficiencies.append(efficiency)
    assert np.mean(efficiencies) <= 1.06


def test_original_cascade_efficiency_at_2_percent():
    efficiencies = [_efficiency(CascadeVariant.ORIGINAL, 2**16, 0.02, seed)[0] for seed in range(3)]
    assert abs(np.mean(efficiencies) - 1.16) < 0.04
