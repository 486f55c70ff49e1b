"""LDPC syndrome reconciliation with blind rate adaptation (puncturing, then revealing).

Alice pads her frame of ``k`` key bits with ``d`` random bits to a codeword of one of the
project's QC-LDPC codes (:mod:`qit4n.postprocess.ldpc_codes`) and sends its syndrome (``m`` bits).
The padding positions are punctured: Bob knows nothing about them (LLR 0), so the syndrome leaks
only ``m - d`` bits about the key. If Bob's min-sum decoder fails, he asks for more and Alice
reveals the values of the next ``d / steps`` padding bits (each costs one bit of leak); this
repeats until decoding succeeds or all padding is revealed; the sum-product decoder resumes
from its previous messages at every attempt. The code's rate is chosen from the
estimated QBER so that the first attempt leaks ``f_start k h(q)`` and the last ``f_max k h(q)``,
which lets one code family cover QBER 1 % to 11 %.

References
----------
Martinez-Mateo, J., Elkouss, D. and Martin, V., Quantum Inf. Comput. 12, 791 (2012),
arXiv:1205.5729 (blind reconciliation).
Elkouss, D., Martinez-Mateo, J. and Martin, V., Quantum Inf. Comput. 11, 226 (2011), arXiv:1007.1616.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from qit4n.errors import ParameterError
from qit4n.postprocess.bits import random_bits
from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role
from qit4n.postprocess.ldpc_codes import LdpcCode, build_code, decode_min_sum, decode_sum_product, syndrome
from qit4n.qkd.entropy import binary_entropy

__all__ = ["BeliefPropagation", "LdpcSettings", "LdpcResult", "reconcile_ldpc"]

_LIFT = 256


class BeliefPropagation(enum.Enum):
    """Check-node rule of the decoder."""

    SUM_PRODUCT = "sum-product"
    MIN_SUM = "min-sum"


@dataclass(frozen=True)
class LdpcSettings:
    """Efficiency window of the blind protocol, the decoder and its iteration budget."""

    f_start: float = 1.1
    f_max: float = 1.22
    steps: int = 12
    max_iterations: int = 40
    decoder: BeliefPropagation = BeliefPropagation.SUM_PRODUCT


@dataclass(frozen=True)
class LdpcResult:
    """Bob's decoded key, the leak (syndrome minus padding plus revealed padding), the attempts,
    and ``padding_credit``: disclosed bits that carry no key information (the random padding)."""

    key: np.ndarray
    leak_bits: int
    attempts: int
    converged: bool
    padding_credit: int


def _code_for(key_bits: int, qber: float, settings: LdpcSettings) -> tuple[LdpcCode, int]:
    """The code and padding length so that the first attempt leaks ``f_start k h(q)`` and
    revealing all padding brings the leak to ``f_max k h(q)`` (plus rounding to the lift)."""
    entropy = float(binary_entropy(max(qber, 1e-3)))
    window = math.ceil((settings.f_max - settings.f_start) * key_bits * entropy)
    length = max(math.ceil((key_bits + window) / _LIFT) * _LIFT, 4 * _LIFT)
    padding = length - key_bits
    syndrome_bits = math.ceil(settings.f_max * key_bits * entropy) + padding - window
    rate = round(1.0 - syndrome_bits / length, 3)
    return build_code(length, min(max(rate, 0.05), 0.95), lift=_LIFT), padding


def reconcile_ldpc(alice_key: np.ndarray, bob_key: np.ndarray, qber: float, channel: PublicChannel, rng: np.random.Generator,
                   settings: LdpcSettings = LdpcSettings()) -> LdpcResult:
    """Blind LDPC reconciliation of one frame; Alice and Bob act only on what crosses ``channel``.

    >>> from qit4n.postprocess.bits import noisy_copy
    >>> rng = np.random.default_rng(0)
    >>> a = random_bits(20_000, rng); b = noisy_copy(a, 0.03, rng)
    >>> result = reconcile_ldpc(a, b, 0.03, PublicChannel(), rng)
    >>> result.converged, bool(np.array_equal(result.key, a))
    (True, True)
    """
    if not 0.0 < qber < 0.2:
        raise ParameterError(f"qber = {qber}: LDPC reconciliation needs an estimate in (0, 0.2)")
    key_bits = alice_key.size
    code, padding = _code_for(key_bits, qber, settings)
    padding_bits = random_bits(padding, rng)
    codeword = np.concatenate([np.asarray(alice_key, dtype=np.uint8), padding_bits])
    message = channel.send(Message(
        MessageKind.LDPC_SYNDROME, Role.ALICE,
        public={"length": np.array([code.num_variables], np.uint64), "rate": np.array([code.rate]), "padding": np.array([padding], np.uint64)},
        disclosed={"syndrome": syndrome(code, codeword)},
    ))
    target = message.disclosed["syndrome"]
    confidence = math.log((1.0 - qber) / qber)
    llr = np.concatenate([(1.0 - 2.0 * bob_key.astype(np.float64)) * confidence, np.zeros(padding)])
    step = max(1, math.ceil(padding / settings.steps))
    revealed = 0
    attempts = 0
    messages = np.zeros(code.variable_of_edge.size)
    while True:
        attempts += 1
        if settings.decoder is BeliefPropagation.SUM_PRODUCT:
            decoded, _, converged = decode_sum_product(code, llr, target, settings.max_iterations, messages)
        else:
            decoded, _, converged = decode_min_sum(code, llr, target, settings.max_iterations)
        if converged or revealed >= padding:
            break
        request = channel.send(Message(MessageKind.LDPC_REQUEST, Role.BOB, public={"more": np.array([step], np.uint64)}))
        count = min(int(request.public["more"][0]), padding - revealed)
        answer = channel.send(Message(MessageKind.LDPC_SYNDROME, Role.ALICE, disclosed={"padding": padding_bits[revealed : revealed + count]}))
        values = answer.disclosed["padding"]
        llr[key_bits + revealed : key_bits + revealed + count] = (1.0 - 2.0 * values) * 1e3
        revealed += count
    leak = int(target.size) - padding + revealed
    return LdpcResult(decoded[:key_bits].copy(), leak, attempts, bool(converged), padding)
