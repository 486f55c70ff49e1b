"""The post-processing pipeline: estimate -> reconcile -> verify -> amplify -> authenticate.

Each stage is a function of :mod:`qit4n.postprocess` with its own leak accounting on the shared
:class:`~qit4n.postprocess.channel.PublicChannel`; the pipeline times the stages, discards frames
that fail verification, sets the output length from a finite-key bound, and pays the
authentication key back into the pre-shared pool from the distilled key, so the reported net key is
what remains after every cost.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy
from qit4n.postprocess.amplification import amplify
from qit4n.postprocess.authentication import KeyPool, TranscriptAuthenticator, authenticate_frame
from qit4n.postprocess.bits import count_errors, random_bits
from qit4n.postprocess.channel import PublicChannel, Role, StageTraffic
from qit4n.postprocess.estimation import estimate_qber_by_sampling, tomamichel_key_length
from qit4n.postprocess.families import HASH_FAMILIES, RECONCILERS
from qit4n.postprocess.verification import verify_keys
from qit4n.randomness import RandomnessSource
from qit4n.randomness import random_bits as source_bits
from qit4n.registry import Registry
from qit4n.schema import StrictModel
from qit4n.workload import ProgressCallback

__all__ = [
    "MAX_SIMULATED_BITS",
    "DistillResult",
    "PipelineSettings",
    "ReconciliationOutcome",
    "Session",
    "distill_sifted",
    "distill_simulated",
    "finish",
    "reconcile_frames",
]

#: Pre-shared authentication key given to a new session, bits.
INITIAL_AUTH_KEY_BITS = 4096


def _registered(registry: Registry[Any], name: str) -> str:
    if name not in registry:
        raise ValueError(f"must be one of {', '.join(registry.names())}")
    return name


class PipelineSettings(StrictModel):
    """Settings of the post-processing stack."""

    reconciler: str = Field("cascade", description="error reconciliation method, a name in RECONCILERS")
    amplification: str = Field(
        "modular", description="two-universal family for privacy amplification, a name in HASH_FAMILIES"
    )
    epsilon_sec: float = Field(1e-10, gt=0.0, lt=1.0, description="secrecy parameter")
    epsilon_cor: float = Field(1e-15, gt=0.0, lt=1.0, description="correctness parameter of verification")
    frame_bits: int = Field(2**20, ge=64, le=2**26, description="bits reconciled and verified together")
    sample_fraction: float = Field(
        0.1, gt=0.0, lt=1.0, description="fraction of sifted bits disclosed to estimate the QBER"
    )
    auth_hashes: int = Field(2, ge=1, le=8, description="independent 64-bit hashes per authentication tag")
    clean_passes: int = Field(
        12, ge=1, le=40, description="optimised Cascade stops after this many passes without error"
    )

    @field_validator("reconciler")
    @classmethod
    def _known_reconciler(cls, name: str) -> str:
        return _registered(RECONCILERS, name)

    @field_validator("amplification")
    @classmethod
    def _known_amplification(cls, name: str) -> str:
        return _registered(HASH_FAMILIES, name)


@dataclass
class Session:
    """Both parties' state that outlives a frame: the channel, the pre-shared pool copies and
    their transcript authenticators, the stage clocks, and the source of the seeds (``None``: the
    generator passed to each stage)."""

    channel: PublicChannel
    alice_auth: TranscriptAuthenticator
    bob_auth: TranscriptAuthenticator
    seconds: dict[str, float] = field(default_factory=dict)
    seeds: RandomnessSource | None = None

    @classmethod
    def start(
        cls,
        rng: np.random.Generator,
        settings: PipelineSettings,
        pool_bits: np.ndarray | None = None,
        *,
        seeds: RandomnessSource | None = None,
    ) -> Session:
        """New session; ``pool_bits`` is the pre-shared key (random if omitted), copied to both parties.

        With ``seeds`` (a QRNG, :mod:`qit4n.randomness`) the random pre-shared key (the
        authentication keys and pads) and every privacy-amplification seed come from it instead of
        ``rng``; a failing source stops the session with :class:`~qit4n.errors.RandomnessError`.
        """
        if pool_bits is not None:
            shared = pool_bits
        elif seeds is not None:
            shared = source_bits(seeds, INITIAL_AUTH_KEY_BITS)
        else:
            shared = random_bits(INITIAL_AUTH_KEY_BITS, rng)
        alice_auth = TranscriptAuthenticator(KeyPool(shared), settings.auth_hashes)
        bob_auth = TranscriptAuthenticator(KeyPool(shared), settings.auth_hashes)
        channel = PublicChannel({Role.ALICE: alice_auth.absorb, Role.BOB: bob_auth.absorb})
        return cls(channel, alice_auth, bob_auth, seeds=seeds)

    def randomness_state(self) -> dict[str, Any] | None:
        """The seed source's health (:meth:`~qit4n.randomness.HealthState.as_dict`), ``None`` without one."""
        return None if self.seeds is None else self.seeds.health().as_dict()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Attribute the channel traffic and the time spent inside the block to stage ``name``."""
        self.channel.stage = name
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


@dataclass(frozen=True)
class ReconciliationOutcome:
    """Verified frames of both parties and the reconciliation statistics."""

    alice_key: np.ndarray
    bob_key: np.ndarray
    frames: int
    frame_errors: int
    reconciled_bits: int
    realised_errors: int
    leak_ec_bits: int
    verification_bits: int

    @property
    def efficiency(self) -> float:
        """``leak / (n h2(e))`` with the realised error rate ``e`` of the reconciled bits."""
        if self.reconciled_bits == 0 or self.realised_errors == 0:
            return float("nan")
        rate = self.realised_errors / self.reconciled_bits
        return self.leak_ec_bits / (self.reconciled_bits * float(binary_entropy(rate)))


#: Frames reconciled together (one message per round carries all of them).
FRAMES_PER_BATCH = 8


def reconcile_frames(
    alice_key: np.ndarray,
    bob_key: np.ndarray,
    qber_estimate: float,
    settings: PipelineSettings,
    session: Session,
    rng: np.random.Generator,
    *,
    on_progress: ProgressCallback | None = None,
) -> ReconciliationOutcome:
    """Reconcile batches of frames with the reconciler named in ``settings`` (a batch may share round
    trips), then verify frame by frame; frames that fail verification are dropped by both parties.
    A tail shorter than 64 bits is not used. The leak is the reconciliation stage's disclosed bits
    less the reconciler's ``padding_credit`` (random padding, such as LDPC's punctured bits).
    ``on_progress(bits_reconciled, bits)`` is called at the start and after each batch."""
    reconciler = RECONCILERS.get(settings.reconciler)
    channel = session.channel
    qber = min(max(qber_estimate, 1e-4), 0.25)
    starts = [start for start in range(0, alice_key.size, settings.frame_bits) if alice_key.size - start >= 64]
    leak_before = channel.traffic.get("reconciliation", StageTraffic()).disclosed_bits
    tag_before = channel.traffic.get("verification", StageTraffic()).disclosed_bits
    kept_alice, kept_bob = [], []
    frame_errors = errors = reconciled = 0
    padding_credit = 0
    total_bits = sum(min(settings.frame_bits, alice_key.size - start) for start in starts)
    if on_progress is not None:
        on_progress(0, total_bits)
    for batch in range(0, len(starts), FRAMES_PER_BATCH):
        chosen = starts[batch : batch + FRAMES_PER_BATCH]
        alice_frames = [alice_key[start : start + settings.frame_bits] for start in chosen]
        bob_frames = [bob_key[start : start + settings.frame_bits] for start in chosen]
        errors += sum(count_errors(a, b) for a, b in zip(alice_frames, bob_frames))
        reconciled += sum(frame.size for frame in alice_frames)
        disclosed_before = channel.traffic.get("reconciliation", StageTraffic()).disclosed_bits
        with session.stage("reconciliation"):
            results = reconciler.reconcile(alice_frames, bob_frames, qber, settings, channel, rng)
        disclosed = channel.traffic.get("reconciliation", StageTraffic()).disclosed_bits - disclosed_before
        credit = sum(result.padding_credit for result in results)
        if len(results) != len(alice_frames):
            raise ParameterError(
                f"reconciler {settings.reconciler!r} frames = {len(results)}: "
                f"must be {len(alice_frames)} (one per frame)"
            )
        if not 0 <= credit <= disclosed:
            raise ParameterError(
                f"reconciler {settings.reconciler!r} padding_credit = {credit}: must be in [0, {disclosed}], "
                "the bits it disclosed"
            )
        padding_credit += credit
        for alice_frame, result in zip(alice_frames, results):
            with session.stage("verification"):
                verdict = verify_keys(alice_frame, result.key, channel, rng, settings.epsilon_cor)
            if verdict.passed:
                kept_alice.append(alice_frame)
                kept_bob.append(result.key)
            else:
                frame_errors += 1
        if on_progress is not None:
            on_progress(reconciled, total_bits)
    return ReconciliationOutcome(
        np.concatenate(kept_alice) if kept_alice else np.zeros(0, np.uint8),
        np.concatenate(kept_bob) if kept_bob else np.zeros(0, np.uint8),
        len(starts),
        frame_errors,
        reconciled,
        errors,
        channel.traffic.get("reconciliation", StageTraffic()).disclosed_bits - leak_before - padding_credit,
        channel.traffic.get("verification", StageTraffic()).disclosed_bits - tag_before,
    )


@dataclass(frozen=True)
class DistillResult:
    """What came out of the stack: both net keys and where the bits went."""

    alice_key: np.ndarray
    bob_key: np.ndarray
    input_bits: int
    estimation_bits: int
    qber_estimate: float
    reconciliation: ReconciliationOutcome
    amplified_bits: int
    auth_key_bits: int
    authenticated: bool
    traffic: dict[str, StageTraffic]
    seconds: dict[str, float]
    randomness: dict[str, Any] | None = None

    @property
    def keys_match(self) -> bool:
        """Whether Alice's and Bob's final keys are identical."""
        return bool(np.array_equal(self.alice_key, self.bob_key))

    @property
    def net_key_bits(self) -> int:
        """Final key after authentication has been paid back."""
        return int(self.alice_key.size)

    def as_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON-ready)."""
        rec = self.reconciliation
        round_trips = sum(t.round_trips for t in self.traffic.values())
        return {
            "bits": self.input_bits,
            "estimation_bits": self.estimation_bits,
            "qber_estimate": self.qber_estimate,
            "reconciled_bits": rec.reconciled_bits,
            "realised_errors": rec.realised_errors,
            "leak_ec_bits": rec.leak_ec_bits,
            "efficiency": rec.efficiency,
            "verification_bits": rec.verification_bits,
            "frames": rec.frames,
            "frame_errors": rec.frame_errors,
            "round_trips": round_trips,
            "amplified_bits": self.amplified_bits,
            "auth_key_bits": self.auth_key_bits,
            "authenticated": self.authenticated,
            "final_key_bits": self.net_key_bits,
            "keys_match": self.keys_match,
            "seconds": dict(self.seconds),
            "traffic": {name: traffic.as_dict() for name, traffic in self.traffic.items()},
        } | ({} if self.randomness is None else {"randomness": self.randomness})


def finish(
    session: Session,
    rec: ReconciliationOutcome,
    length: int,
    settings: PipelineSettings,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, int, int, bool]:
    """Amplify to ``length`` bits, authenticate the transcript, pay the pad bits back from the key.

    Returns ``(alice key, bob key, amplified bits, authentication key bits, authenticated)``;
    keys are empty when authentication fails.
    """
    with session.stage("amplification"):
        alice_final, bob_final = amplify(
            rec.alice_key,
            rec.bob_key,
            max(0, length),
            HASH_FAMILIES.get(settings.amplification),
            session.channel,
            rng,
            seeds=session.seeds,
        )
    consumed_before = session.alice_auth.pool.consumed_bits
    with session.stage("authentication"):
        auth = authenticate_frame(session.alice_auth, session.bob_auth, session.channel)
        spent = session.alice_auth.pool.consumed_bits - consumed_before
        if not auth.passed:
            return np.zeros(0, np.uint8), np.zeros(0, np.uint8), alice_final.size, spent, False
        payback = min(spent, alice_final.size)
        session.alice_auth.pool.replenish(alice_final[:payback])
        session.bob_auth.pool.replenish(bob_final[:payback])
    return alice_final[payback:], bob_final[payback:], alice_final.size, spent, True


def distill_sifted(
    alice_key: np.ndarray,
    bob_key: np.ndarray,
    settings: PipelineSettings,
    rng: np.random.Generator,
    session: Session | None = None,
    *,
    seeds: RandomnessSource | None = None,
    on_progress: ProgressCallback | None = None,
) -> DistillResult:
    """Run the stack on sifted keys: sampling estimation, reconciliation, verification,
    privacy amplification to the Tomamichel et al. (2012) length, authentication
    (``on_progress(bits_reconciled, bits)`` follows the reconciliation).

    The phase-error rate is taken equal to the sampled bit-error rate (a symmetric channel).

    >>> from qit4n.postprocess.bits import random_bits, noisy_copy
    >>> rng = np.random.default_rng(3)
    >>> a = random_bits(200_000, rng); b = noisy_copy(a, 0.02, rng)
    >>> result = distill_sifted(a, b, PipelineSettings(), rng)
    >>> result.keys_match, result.net_key_bits > 0
    (True, True)
    """
    if alice_key.shape != bob_key.shape:
        raise ParameterError(f"key lengths = {alice_key.size}, {bob_key.size}: must be equal")
    session = session or Session.start(rng, settings, seeds=seeds)
    sample_size = max(1, round(settings.sample_fraction * alice_key.size))
    with session.stage("estimation"):
        estimate = estimate_qber_by_sampling(alice_key, bob_key, sample_size, session.channel, rng)
    rec = reconcile_frames(
        estimate.alice_key, estimate.bob_key, estimate.qber, settings, session, rng, on_progress=on_progress
    )
    leak = rec.leak_ec_bits + rec.verification_bits
    length = tomamichel_key_length(rec.alice_key.size, sample_size, estimate.qber, leak, settings.epsilon_sec)
    alice_final, bob_final, amplified, spent, passed = finish(session, rec, length, settings, rng)
    return DistillResult(
        alice_final,
        bob_final,
        int(alice_key.size),
        sample_size,
        estimate.qber,
        rec,
        amplified,
        spent,
        passed,
        dict(session.channel.traffic),
        dict(session.seconds),
        session.randomness_state(),
    )


#: The most sifted bits :func:`distill_simulated` draws: 1e8 take about 1.3 GB and 70 s (measured on 2 cores).
MAX_SIMULATED_BITS = 100_000_000


def distill_simulated(
    num_bits: int,
    qber: float,
    settings: PipelineSettings,
    seed: int,
    *,
    seeds: RandomnessSource | None = None,
    on_progress: ProgressCallback | None = None,
) -> DistillResult:
    """Distil ``num_bits`` sifted bits of which exactly ``round(qber * num_bits)`` are in error;
    ``seeds`` supplies the pre-shared key and amplification seeds (:meth:`Session.start`);
    ``on_progress(bits_reconciled, bits)`` follows the reconciliation.

    >>> result = distill_simulated(100_000, 0.03, PipelineSettings(), seed=1)
    >>> result.keys_match
    True
    """
    from qit4n.postprocess.bits import noisy_copy

    if not 1000 <= num_bits <= MAX_SIMULATED_BITS:
        raise ParameterError(f"bits = {num_bits:,}: must be in [1000, {MAX_SIMULATED_BITS:.0e}]")
    if not 0.0 <= qber <= 0.25:
        raise ParameterError(f"qber = {qber}: must be in [0, 0.25]")
    rng = np.random.default_rng(seed)
    alice_key = random_bits(num_bits, rng)
    bob_key = noisy_copy(alice_key, qber, rng)
    return distill_sifted(alice_key, bob_key, settings, rng, seeds=seeds, on_progress=on_progress)
