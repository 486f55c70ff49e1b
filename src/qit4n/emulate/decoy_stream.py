"""Streaming decoy-state BB84: detection records in chunks, drawn click by click.

:func:`qit4n.emulate.bb84.emulate_bb84` draws every pulse; at 25 km fewer than one pulse in a
hundred clicks, so this module draws only the slots where a detector can click and summarises the
others by counts. Each pulse is independent before the receiver's dead time, and a pulse is a
*candidate* (a photon is detected, or a dark or noise count fires a detector) with probability

* ``c = sum_k p_k g_k``, ``g_k = 1 - (1 - p)^2 exp(-eta mu_k)``

(``p`` the dark and noise probability per detector per gate, as in :mod:`qit4n.emulate.statistics`).
So the candidates are a Bernoulli process: geometric gaps of parameter ``c``. Given a candidate,
the intensity is ``k`` with probability ``p_k g_k / c``; a photon is detected with probability
``(1 - exp(-eta mu_k)) / g_k`` (then their number is zero-truncated Poisson of mean ``eta mu_k``
and the dark counts are independent); otherwise the dark counts are conditioned on at least one
firing. Alice's basis and bit and Bob's basis are independent of the rest. The pulses that are not
candidates never click: their intensities enter only the per-intensity counts of pulses sent, a
multinomial of the conditional law ``p_k (1 - p)^2 exp(-eta mu_k) / (1 - c)``. These are the
joint laws of :func:`~qit4n.emulate.bb84.emulate_bb84`, factored; only the order of the draws
differs, so the records differ seed for seed but not in law.

Dead time and afterpulses act on the candidates in gate order, with the receiver's state carried
from one block to the next. An afterpulse that lands on a slot which is not a candidate takes
Alice's choices there from the same conditional law.

The random stream is cut into blocks of ``block_pulses`` pulses; block ``b`` draws from its own
generator, ``SeedSequence(entropy, spawn_key=(b,))`` (the ``b``-th child of ``spawn``). A chunk is
a whole number of blocks, so the records are the same whatever chunk size the consumer asks for,
and a chunk never holds more than its own detections.

References
----------
Lo, H.-K., Ma, X. and Chen, K., Phys. Rev. Lett. 94, 230504 (2005), doi:10.1103/PhysRevLett.94.230504.
Ma, X., Qi, B., Zhao, Y. and Lo, H.-K., Phys. Rev. A 72, 012326 (2005), doi:10.1103/PhysRevA.72.012326.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np

from qit4n.emulate.bb84 import LinkRecords, noise_positions, zero_truncated_poisson
from qit4n.emulate.settings import LinkSettings
from qit4n.errors import ParameterError
from qit4n.physics.raman import dark_count_with_noise_probability
from qit4n.postprocess.bits import random_bits
from qit4n.workload import ProgressCallback

__all__ = ["BLOCK_PULSES", "DecoyChunk", "DecoyStream", "chunk_from_records"]

#: Pulses per block of the random stream (4,194,304): the unit of the seed tree and of chunks.
BLOCK_PULSES = 1 << 22

# Receiver state carried between blocks: the last blind gate, then the pending afterpulse's gate
# (-1: none), detector, Bob's basis and Alice's intensity, basis and bit at that gate.
_READY, _GATE, _DETECTOR, _BOB_BASIS, _INTENSITY, _ALICE_BASIS, _ALICE_BIT = range(7)
_UNIFORMS_PER_CLICK = 6


@dataclass(frozen=True)
class DecoyChunk:
    """The records of pulses ``[first_pulse, first_pulse + num_pulses)``.

    Bob's registered detections (pulse index, sorted; basis; bit; double click) and, at exactly
    those pulses, Alice's basis, intensity index and bit; ``sent`` counts the pulses sent per
    intensity in the chunk.
    """

    first_pulse: int
    num_pulses: int
    pulses: np.ndarray
    bob_bases: np.ndarray
    bob_bits: np.ndarray
    double_clicks: np.ndarray
    alice_bases: np.ndarray
    alice_intensities: np.ndarray
    alice_bits: np.ndarray
    sent: np.ndarray


def chunk_from_records(records: LinkRecords) -> DecoyChunk:
    """All of a per-pulse emulation (:func:`~qit4n.emulate.bb84.emulate_bb84`) as one chunk."""
    alice, bob = records.alice, records.bob
    return DecoyChunk(
        0,
        records.num_pulses,
        bob.pulses,
        bob.bases,
        bob.bits,
        bob.double_clicks,
        alice.bases[bob.pulses],
        alice.intensities[bob.pulses],
        alice.bits[bob.pulses],
        np.bincount(alice.intensities, minlength=3).astype(np.int64),
    )


@numba.njit(cache=True)
def _register(
    pulses, fires, bob_bases, alice, end, dead_gates, afterpulse, basis_x, noncandidate_cdf, pool, state
):  # pragma: no cover - compiled
    """Registered clicks of one block, in gate order, with dead time and afterpulses.

    ``alice`` holds Alice's intensity, basis and bit per candidate (shape ``(3, n)``); ``state``
    (updated in place) the receiver state carried between blocks. A registered click consumes six
    uniforms of ``pool``: whether it afterpulses, the detector, Bob's basis, and Alice's intensity,
    basis and bit at the afterpulse's gate. Returns the registered ``(pulses, fires, bob bases,
    alice)`` and the uniforms used, or ``-1`` when ``pool`` ran out (the caller retries with more).
    """
    capacity = pulses.size + 1
    while True:
        out_pulses = np.empty(capacity, dtype=np.int64)
        out_fires = np.zeros((2, capacity), dtype=np.bool_)
        out_bases = np.empty(capacity, dtype=np.uint8)
        out_alice = np.empty((3, capacity), dtype=np.uint8)
        ready, pending, detector = state[_READY], state[_GATE], state[_DETECTOR]
        pending_bob, pending_alice = state[_BOB_BASIS], state[_INTENSITY : _ALICE_BIT + 1].copy()
        count = 0
        used = 0
        index = 0
        grow = False
        while index < pulses.size or (0 <= pending < end):
            if count >= capacity:
                grow = True
                break
            if 0 <= pending < end and (index >= pulses.size or pending <= pulses[index]):
                gate = pending
                fire0 = detector == 0
                fire1 = detector == 1
                basis = np.uint8(pending_bob)
                a0, a1, a2 = pending_alice[0], pending_alice[1], pending_alice[2]
                if index < pulses.size and pulses[index] == gate:
                    fire0 = fire0 or fires[0, index]
                    fire1 = fire1 or fires[1, index]
                    basis = bob_bases[index]
                    a0, a1, a2 = alice[0, index], alice[1, index], alice[2, index]
                    index += 1
                pending = -1
            else:
                gate = pulses[index]
                fire0 = fires[0, index]
                fire1 = fires[1, index]
                basis = bob_bases[index]
                a0, a1, a2 = alice[0, index], alice[1, index], alice[2, index]
                index += 1
            if gate <= ready:
                continue
            out_pulses[count] = gate
            out_fires[0, count] = fire0
            out_fires[1, count] = fire1
            out_bases[count] = basis
            out_alice[0, count] = a0
            out_alice[1, count] = a1
            out_alice[2, count] = a2
            count += 1
            ready = gate + dead_gates
            if afterpulse > 0.0:
                if used + 6 > pool.size:
                    return (
                        out_pulses[:0].copy(),
                        out_fires[:, :0].copy(),
                        out_bases[:0].copy(),
                        out_alice[:, :0].copy(),
                        -1,
                    )
                if pool[used] < afterpulse:
                    pending = ready + 1
                    detector = 0 if pool[used + 1] < 0.5 else 1
                    pending_bob = 0 if pool[used + 2] < basis_x else 1
                    k = 0
                    while k < noncandidate_cdf.size - 1 and pool[used + 3] >= noncandidate_cdf[k]:
                        k += 1
                    pending_alice[0] = k
                    pending_alice[1] = 0 if pool[used + 4] < basis_x else 1
                    pending_alice[2] = 0 if pool[used + 5] < 0.5 else 1
                used += 6
        if grow:
            capacity *= 2
            continue
        state[_READY] = ready
        state[_GATE] = pending
        state[_DETECTOR] = detector
        state[_BOB_BASIS] = pending_bob
        state[_INTENSITY : _ALICE_BIT + 1] = pending_alice
        return (
            out_pulses[:count].copy(),
            out_fires[:, :count].copy(),
            out_bases[:count].copy(),
            out_alice[:, :count].copy(),
            used,
        )


@dataclass(frozen=True)
class _Laws:
    """The conditional laws the sampler draws from (see the module docstring)."""

    candidate: float
    candidate_cdf: np.ndarray
    photon_given_intensity: np.ndarray
    noncandidate: np.ndarray
    dark_cdf: np.ndarray
    no_dark: float


def _laws(settings: LinkSettings) -> _Laws:
    mus = np.asarray(settings.intensities, dtype=float)
    probabilities = np.asarray(settings.probabilities, dtype=float)
    noise = float(dark_count_with_noise_probability(settings.dark_count_probability, settings.noise_probability))
    silent = np.exp(-settings.eta_total * mus)
    quiet = (1.0 - noise) ** 2 * silent
    gains = 1.0 - quiet
    candidate = float(probabilities @ gains)
    weights = probabilities * gains
    with np.errstate(invalid="ignore", divide="ignore"):
        photon = np.where(gains > 0.0, -np.expm1(-settings.eta_total * mus) / gains, 0.0)
    rest = probabilities * quiet
    no_dark = (1.0 - noise) ** 2
    one = noise * (1.0 - noise)
    return _Laws(
        candidate,
        np.cumsum(weights / candidate)[:-1] if candidate > 0.0 else np.zeros(2),
        photon,
        np.cumsum(rest / rest.sum()) if rest.sum() > 0.0 else np.array([1.0, 1.0, 1.0]),
        np.array([no_dark, no_dark + one, no_dark + 2.0 * one]),
        no_dark,
    )


class DecoyStream:
    """The records of ``num_pulses`` decoy-BB84 pulses, drawn block by block (module docstring).

    ``entropy`` roots the seed tree; iterating :meth:`chunks` twice gives the same records.
    ``on_progress(pulses_drawn, num_pulses)`` is called after each chunk is drawn.

    >>> stream = DecoyStream(LinkSettings(eta_channel=0.1), 1_000_000, entropy=1)
    >>> sum(chunk.pulses.size for chunk in stream.chunks())  # N sum_k p_k (1 - exp(-0.01 mu_k)) = 3700
    3663
    """

    def __init__(
        self,
        settings: LinkSettings,
        num_pulses: int,
        *,
        entropy: int,
        block_pulses: int = BLOCK_PULSES,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        if num_pulses < 1:
            raise ParameterError(f"pulses = {num_pulses}: must be >= 1")
        if block_pulses < 1:
            raise ParameterError(f"block_pulses = {block_pulses}: must be >= 1")
        self.settings = settings
        self.num_pulses = int(num_pulses)
        self.entropy = int(entropy)
        self.block_pulses = int(block_pulses)
        self.on_progress = on_progress
        self._laws = _laws(settings)

    @property
    def num_blocks(self) -> int:
        """Blocks of the random stream (the last one may be short)."""
        return -(-self.num_pulses // self.block_pulses)

    def chunks(self, chunk_pulses: int | None = None) -> Iterator[DecoyChunk]:
        """Chunks of at least ``chunk_pulses`` pulses (a whole number of blocks; default one block)."""
        per_chunk = max(1, -(-(chunk_pulses or self.block_pulses) // self.block_pulses))
        state = np.array([-1, -1, 0, 0, 0, 0, 0], dtype=np.int64)
        pending: list[DecoyChunk] = []
        for block in range(self.num_blocks):
            pending.append(self._block(block, state))
            if len(pending) == per_chunk or block == self.num_blocks - 1:
                if self.on_progress is not None:
                    self.on_progress(min((block + 1) * self.block_pulses, self.num_pulses), self.num_pulses)
                yield _concatenate(pending)
                pending = []

    def _block(self, block: int, state: np.ndarray) -> DecoyChunk:
        settings, laws = self.settings, self._laws
        rng = np.random.default_rng(np.random.SeedSequence(self.entropy, spawn_key=(block,)))
        first = block * self.block_pulses
        size = min(self.block_pulses, self.num_pulses - first)
        where = noise_positions(size, laws.candidate, rng)
        count = where.size
        intensity = np.searchsorted(laws.candidate_cdf, rng.random(count), side="right").astype(np.uint8)
        has_photon = rng.random(count) < laws.photon_given_intensity[intensity]
        mus = np.asarray(settings.intensities)
        photons = np.zeros(count, dtype=np.int64)
        photons[has_photon] = zero_truncated_poisson(settings.eta_total * mus[intensity[has_photon]], rng)
        dark_uniform = rng.random(count)
        dark_uniform[~has_photon] = laws.no_dark + dark_uniform[~has_photon] * (1.0 - laws.no_dark)
        dark = np.searchsorted(laws.dark_cdf, dark_uniform, side="right")
        basis_x = settings.probability_basis_x
        alice_bases = (rng.random(count) >= basis_x).astype(np.uint8)
        alice_bits = random_bits(count, rng)
        bob_bases = (rng.random(count) >= basis_x).astype(np.uint8)
        right = np.where(bob_bases == alice_bases, 1.0 - settings.misalignment_error, 0.5)
        to_right = rng.binomial(photons, right)
        fires = np.zeros((2, count), dtype=bool)
        columns = np.arange(count)
        fires[alice_bits, columns] = to_right > 0
        fires[1 - alice_bits, columns] = photons - to_right > 0
        fires[0] |= (dark == 1) | (dark == 3)
        fires[1] |= dark >= 2

        pulses = where + first
        alice = np.stack([intensity, alice_bases, alice_bits])
        lazy = np.zeros(3, dtype=np.int64)
        if settings.dead_gates > 0 or settings.afterpulse_probability > 0.0:
            pulses, fires, bob_bases, alice = self._registered(
                pulses, fires, bob_bases, alice, first + size, state, rng
            )
            is_lazy = ~np.isin(pulses, where + first, assume_unique=True)
            lazy = np.bincount(alice[0, is_lazy], minlength=3)
        double = fires[0] & fires[1]
        squash = random_bits(pulses.size, rng)
        bob_bits = np.where(double, squash, fires[1]).astype(np.uint8)
        others = size - count - int(lazy.sum())
        rest = rng.multinomial(others, np.diff(laws.noncandidate, prepend=0.0))
        sent = np.bincount(intensity, minlength=3) + lazy + rest
        return DecoyChunk(
            first, size, pulses, bob_bases, bob_bits, double, alice[1], alice[0], alice[2], sent.astype(np.int64)
        )

    def _registered(
        self,
        pulses: np.ndarray,
        fires: np.ndarray,
        bob_bases: np.ndarray,
        alice: np.ndarray,
        end: int,
        state: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        settings = self.settings
        afterpulse = settings.afterpulse_probability
        pool = rng.random(_UNIFORMS_PER_CLICK * (pulses.size + 8)) if afterpulse > 0.0 else np.zeros(0)
        while True:
            trial = state.copy()
            out_pulses, out_fires, out_bases, out_alice, used = _register(
                pulses,
                fires,
                bob_bases,
                alice,
                end,
                settings.dead_gates,
                afterpulse,
                settings.probability_basis_x,
                self._laws.noncandidate,
                pool,
                trial,
            )
            if used >= 0:
                state[:] = trial
                return out_pulses, out_fires, out_bases, out_alice
            pool = np.concatenate([pool, rng.random(pool.size + 64)])


def _concatenate(blocks: list[DecoyChunk]) -> DecoyChunk:
    if len(blocks) == 1:
        return blocks[0]

    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(block, name) for block in blocks])

    return DecoyChunk(
        blocks[0].first_pulse,
        sum(block.num_pulses for block in blocks),
        joined("pulses"),
        joined("bob_bases"),
        joined("bob_bits"),
        joined("double_clicks"),
        joined("alice_bases"),
        joined("alice_intensities"),
        joined("alice_bits"),
        np.sum([block.sent for block in blocks], axis=0),
    )
