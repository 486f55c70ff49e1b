"""Verification of reconciled keys with a polynomial universal hash over GF(2^64).

Alice draws ``t`` independent keys, sends them with the hash values of her key, and Bob compares
with the hashes of his. For frames of ``L`` 64-bit words two different keys collide under one hash
with probability at most ``L / 2^64``, so ``t`` hashes fail to notice a difference with probability
at most ``(L / 2^64)^t``; ``t`` is the smallest number that brings this under ``epsilon_cor``. The
``64 t`` bits of hash values are disclosed and counted as leak. A frame that fails is discarded by
both parties.

References
----------
Wegman, M. N. and Carter, J. L., J. Comput. Syst. Sci. 22, 265 (1981), doi:10.1016/0022-0000(81)90033-7.
Tomamichel, M., Lim, C. C. W., Gisin, N. and Renner, R., Nat. Commun. 3, 634 (2012),
doi:10.1038/ncomms1631 (epsilon_cor-correctness).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qit4n.errors import ParameterError
from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role
from qit4n.postprocess.gf64 import WORD_BITS, bits_to_framed_words, key_tables, poly_hash_words

__all__ = ["VerificationResult", "collision_bound", "hashes_needed", "verify_keys"]


def collision_bound(num_bits: int) -> float:
    """Probability that one hash misses a difference between two ``num_bits``-bit keys."""
    words = -(-num_bits // WORD_BITS) + 1
    return words / 2.0**WORD_BITS


def hashes_needed(num_bits: int, epsilon_cor: float) -> int:
    """Smallest number of independent 64-bit hashes with ``collision_bound^t <= epsilon_cor``.

    >>> hashes_needed(2**20, 1e-15), hashes_needed(2**20, 1e-20)
    (1, 2)
    """
    if not 0.0 < epsilon_cor < 1.0:
        raise ParameterError(f"epsilon_cor = {epsilon_cor}: must be in (0, 1)")
    return max(1, math.ceil(math.log(epsilon_cor) / math.log(collision_bound(num_bits))))


@dataclass(frozen=True)
class VerificationResult:
    """Whether the keys agree according to the hashes, the bits disclosed and the failure bound."""

    passed: bool
    tag_bits: int
    failure_probability: float


def _hashes(key: np.ndarray, hash_keys: np.ndarray) -> np.ndarray:
    words = bits_to_framed_words(key)
    return np.array([poly_hash_words(key_tables(int(k)), words) for k in hash_keys], dtype=np.uint64)


def verify_keys(
    alice_key: np.ndarray, bob_key: np.ndarray, channel: PublicChannel, rng: np.random.Generator, epsilon_cor: float
) -> VerificationResult:
    """Alice sends hash keys and her hash values; Bob compares and answers pass or fail.

    >>> from qit4n.postprocess.bits import random_bits
    >>> key = random_bits(1000, np.random.default_rng(0))
    >>> verify_keys(key, key.copy(), PublicChannel(), np.random.default_rng(1), 1e-12).passed
    True
    """
    count = hashes_needed(alice_key.size, epsilon_cor)
    hash_keys = rng.integers(1, 2**64, size=count, dtype=np.uint64, endpoint=False)
    values = _hashes(alice_key, hash_keys)
    tag_bits = np.unpackbits(values.view(np.uint8), bitorder="little")
    received = channel.send(
        Message(MessageKind.VERIFY_TAG, Role.ALICE, public={"hash_keys": hash_keys}, disclosed={"values": tag_bits})
    )
    bob_values = _hashes(bob_key, received.public["hash_keys"])
    bob_tag = np.unpackbits(bob_values.view(np.uint8), bitorder="little")
    passed = bool(np.array_equal(bob_tag, received.disclosed["values"]))
    answer = channel.send(
        Message(MessageKind.VERIFY_RESULT, Role.BOB, public={"passed": np.array([passed], dtype=np.uint8)})
    )
    return VerificationResult(
        bool(answer.public["passed"][0]), int(tag_bits.size), collision_bound(alice_key.size) ** count
    )
