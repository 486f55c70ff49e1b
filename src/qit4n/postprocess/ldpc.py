"""Rate-adaptive LDPC syndrome reconciliation (puncturing and shortening), with a blind fallback.

One family of mother codes (:mod:`qit4n.postprocess.ldpc_codes`: QC-PEG codes of rates 0.5 to 0.9
with the degree distributions of Elkouss et al. 2009) covers QBER 1 % to 11 %: for a frame of
``k`` key bits Alice uses a code of length ``n = k / (1 - delta)`` (``d = n - k`` modulated
bits), of which ``p`` positions are punctured (random bits Bob knows nothing about) and
``s = d - p`` shortened (zeros both know). The syndrome (``m`` bits) then leaks ``m - p`` bits
about the key, and the rate seen by the key is ``(R0 - s/n) / (1 - delta)`` (Elkouss et al. 2010).
From the estimated QBER ``q`` Alice picks the highest-rate mother code and the ``p`` that bring
the leak to ``f_design k h(q)`` (shortening is preferred to puncturing: punctured codes decode
worse). At QBER above the family's reach the code is lengthened with extra shortened bits.

If Bob's decoder fails he asks for more: he names the unrevealed key or punctured positions his
decoder is least sure of (smallest posterior magnitude), ``reveal_share k`` of them or, when more,
``reveal_per_unsatisfied`` per check the stalled decoder left unsatisfied, and Alice reveals their
values, each costing one bit of leak, as in blind reconciliation (Martinez-Mateo et al. 2012) with
the choice of bits of symmetric blind reconciliation (Kiktenko et al. 2017); the decoder resumes
from its messages. The design point (``f_design = 1.04``) is below the codes' reach, so a frame
usually needs a few reveals and the leak follows the frame's actual errors rather than the
estimated QBER: with the QBER estimated from a sample, an overestimate no longer inflates the leak.

References
----------
Elkouss, D., Martinez-Mateo, J., Lancho, D. and Martin, V., "Rate compatible protocol for
information reconciliation: an application to QKD", Proc. IEEE ITW 2010, arXiv:1006.2660.
Elkouss, D., Martinez-Mateo, J. and Martin, V., Quantum Inf. Comput. 11, 226 (2011), arXiv:1007.1616.
Martinez-Mateo, J., Elkouss, D. and Martin, V., Quantum Inf. Comput. 12, 791 (2012),
arXiv:1205.5729 (blind reconciliation).
Kiktenko, E. O., Trushechkin, A. S., Lim, C. C. W., Kurochkin, Y. V. and Fedorov, A. K.,
Phys. Rev. Appl. 8, 044017 (2017), arXiv:1612.03673 (symmetric blind reconciliation).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy
from qit4n.postprocess.bits import random_bits
from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role
from qit4n.postprocess.families import ReconciledFrame
from qit4n.postprocess.ldpc_codes import (
    LdpcCode,
    build_code,
    decode_min_sum,
    decode_sum_product,
    posterior_llr,
    syndrome,
)
from qit4n.postprocess.ldpc_distributions import MOTHER_RATES

if TYPE_CHECKING:
    from qit4n.postprocess.pipeline import PipelineSettings

__all__ = [
    "LDPC_RECONCILER",
    "BeliefPropagation",
    "LdpcPlan",
    "LdpcReconciler",
    "LdpcResult",
    "LdpcSettings",
    "plan_frame",
    "reconcile_ldpc",
]

#: Highest QBER estimate the mother codes are planned for; a higher estimate is capped here.
_MAX_QBER = 0.19

#: Base graph size (columns) built by PEG; longer codes are lifted by ``ceil(n / this)``, rounded up
#: to a multiple of 16 (one AVX-512 register of float32 lanes) when above 16.
_BASE_COLUMNS = 512
#: Shortest code: shorter frames are padded with shortened bits.
_MIN_LENGTH = 2048
#: Log-likelihood ratio of a bit whose value Bob knows (shortened or revealed).
_KNOWN_LLR = 64.0


class BeliefPropagation(enum.Enum):
    """Check-node rule of the decoder."""

    SUM_PRODUCT = "sum-product"
    MIN_SUM = "min-sum"


@dataclass(frozen=True)
class LdpcSettings:
    """Design efficiency, modulated share ``delta``, blind reveal step, decoder and iterations.

    The design efficiency sits below what the codes reach, so that the syndrome alone usually does
    not decode and the reveals find the leak the frame needs (blind): an overestimated QBER then
    costs nothing. Each reveal names ``max(16, reveal_share k, reveal_per_unsatisfied u)`` bits,
    ``u`` being the checks the stalled decoder leaves unsatisfied (a measure of how far it is)."""

    f_design: float = 1.04
    delta: float = 0.05
    reveal_share: float = 0.001
    reveal_per_unsatisfied: float = 0.07
    max_reveal_share: float = 0.1
    max_iterations: int = 60
    patience: int = 5
    decoder: BeliefPropagation = BeliefPropagation.SUM_PRODUCT
    alpha: float = 0.7


@dataclass(frozen=True)
class LdpcPlan:
    """Mother code rate, code length and lift, punctured and shortened counts for one frame."""

    rate: float
    length: int
    lift: int
    punctured: int
    shortened: int


@dataclass(frozen=True)
class LdpcResult:
    """Bob's decoded key, the leak (syndrome minus punctured bits plus revealed bits), the decoder
    calls, and ``padding_credit``: disclosed bits that carry no key information (the punctured
    random bits)."""

    key: np.ndarray
    leak_bits: int
    attempts: int
    converged: bool
    padding_credit: int


def _lift_for(length: int) -> int:
    lift = max(1, math.ceil(length / _BASE_COLUMNS))
    return lift if lift <= 16 else 16 * math.ceil(lift / 16)


def plan_frame(key_bits: int, qber: float, settings: LdpcSettings = LdpcSettings()) -> LdpcPlan:
    """Mother code and puncturing/shortening for ``key_bits`` at estimated ``qber``.

    >>> plan = plan_frame(100_000, 0.02)
    >>> plan.rate, plan.length - 100_000 == plan.punctured + plan.shortened
    (0.85, True)
    """
    target = math.ceil(settings.f_design * key_bits * float(binary_entropy(qber)))
    length = max(math.ceil(key_bits / (1.0 - settings.delta)), _MIN_LENGTH)
    lift = _lift_for(length)
    length = math.ceil(length / lift) * lift
    for rate in MOTHER_RATES:
        checks = round((1.0 - rate) * length / lift) * lift
        if checks >= target:
            punctured = min(checks - target, length - key_bits)
            return LdpcPlan(rate, length, lift, punctured, length - key_bits - punctured)
    rate = MOTHER_RATES[-1]
    length = max(length, math.ceil(target / (1.0 - rate)))
    lift = _lift_for(length)
    length = math.ceil(length / lift) * lift
    while round((1.0 - rate) * length / lift) * lift < target:
        length += lift
    return LdpcPlan(rate, length, lift, 0, length - key_bits)


def _layout(plan: LdpcPlan, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Public positions of key bits, punctured bits and shortened bits in the codeword."""
    order = np.random.default_rng(seed).choice(plan.length, plan.punctured + plan.shortened, replace=False)
    punctured = order[: plan.punctured]
    shortened = order[plan.punctured : plan.punctured + plan.shortened]
    is_key = np.ones(plan.length, bool)
    is_key[order] = False
    return np.flatnonzero(is_key), punctured, shortened


def _decode(
    code: LdpcCode, llr: np.ndarray, target: np.ndarray, messages: np.ndarray, settings: LdpcSettings
) -> tuple[np.ndarray, bool]:
    if settings.decoder is BeliefPropagation.SUM_PRODUCT:
        decoded, _, converged = decode_sum_product(
            code, llr, target, settings.max_iterations, messages, settings.patience
        )
    else:
        decoded, _, converged = decode_min_sum(
            code, llr, target, settings.max_iterations, settings.alpha, messages, settings.patience
        )
    return decoded, converged


def reconcile_ldpc(
    alice_key: np.ndarray,
    bob_key: np.ndarray,
    qber: float,
    channel: PublicChannel,
    rng: np.random.Generator,
    settings: LdpcSettings = LdpcSettings(),
) -> LdpcResult:
    """Rate-adaptive LDPC reconciliation of one frame; Alice and Bob act only on what crosses ``channel``.

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
    plan = plan_frame(key_bits, qber, settings)
    seed = int(rng.integers(2**62))
    key_positions, punctured, shortened = _layout(plan, seed)
    code = build_code(plan.length, plan.rate, lift=plan.lift)
    codeword = np.zeros(plan.length, np.uint8)
    codeword[key_positions] = alice_key
    codeword[punctured] = random_bits(plan.punctured, rng)
    message = channel.send(
        Message(
            MessageKind.LDPC_SYNDROME,
            Role.ALICE,
            public={
                "plan": np.array([plan.length, plan.lift, plan.punctured, plan.shortened, seed], np.uint64),
                "rate": np.array([plan.rate]),
            },
            disclosed={"syndrome": syndrome(code, codeword)},
        )
    )
    target = message.disclosed["syndrome"]
    llr = np.zeros(plan.length)
    llr[key_positions] = (1.0 - 2.0 * bob_key.astype(np.float64)) * math.log((1.0 - qber) / qber)
    llr[shortened] = _KNOWN_LLR
    hidden = np.ones(plan.length, bool)
    hidden[shortened] = False
    step = max(16, math.ceil(settings.reveal_share * key_bits))
    budget = plan.punctured + math.ceil(settings.max_reveal_share * key_bits)
    messages = np.zeros(code.num_edges, np.float32)
    revealed = attempts = 0
    while True:
        attempts += 1
        decoded, converged = _decode(code, llr, target, messages, settings)
        if converged or revealed >= budget:
            break
        belief = np.where(hidden, np.abs(posterior_llr(code, llr, messages)), np.inf)
        unsatisfied = int(np.count_nonzero(syndrome(code, decoded) != target))
        size = max(step, round(settings.reveal_per_unsatisfied * unsatisfied))  # far from decoding: reveal more
        wanted = np.argpartition(belief, size)[:size] if size < plan.length else np.flatnonzero(hidden)
        request = channel.send(
            Message(
                MessageKind.LDPC_REQUEST, Role.BOB, public={"positions": wanted[: budget - revealed].astype(np.uint64)}
            )
        )
        chosen = request.public["positions"].astype(np.int64)
        answer = channel.send(Message(MessageKind.LDPC_SYNDROME, Role.ALICE, disclosed={"bits": codeword[chosen]}))
        llr[chosen] = (1.0 - 2.0 * answer.disclosed["bits"].astype(np.float64)) * _KNOWN_LLR
        hidden[chosen] = False
        revealed += chosen.size
    leak = int(target.size) - plan.punctured + revealed
    return LdpcResult(decoded[key_positions].copy(), leak, attempts, bool(converged), plan.punctured)


@dataclass(frozen=True)
class LdpcReconciler:
    """:class:`~qit4n.postprocess.families.Reconciler` running :func:`reconcile_ldpc` frame by frame
    (the estimate capped at 0.19); the punctured random bits are credited against the leak."""

    settings: LdpcSettings = LdpcSettings()

    def reconcile(
        self,
        alice_frames: Sequence[np.ndarray],
        bob_frames: Sequence[np.ndarray],
        qber_estimate: float,
        settings: PipelineSettings,
        channel: PublicChannel,
        rng: np.random.Generator,
    ) -> list[ReconciledFrame]:
        """Bob's decoded frames, each with its punctured bits as ``padding_credit``."""
        qber = min(qber_estimate, _MAX_QBER)
        results = [reconcile_ldpc(a, b, qber, channel, rng, self.settings) for a, b in zip(alice_frames, bob_frames)]
        return [ReconciledFrame(result.key, result.padding_credit) for result in results]


#: The registered member ``ldpc`` of :data:`~qit4n.postprocess.RECONCILERS`.
LDPC_RECONCILER = LdpcReconciler()
