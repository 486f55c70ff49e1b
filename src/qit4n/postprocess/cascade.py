"""Cascade error reconciliation between two separate parties over the public channel.

Bob (holding the noisy key) drives: he asks Alice for block parities of each pass and for the
parities of the left halves of blocks whose parities disagree, all odd blocks in parallel, one
round trip per level. Alice answers from prefix-XOR tables and never sees Bob's key; Bob never sees
Alice's. Two variants:

* :data:`CascadeVariant.ORIGINAL` (Brassard and Salvail 1993): four passes, ``k1 = ceil(0.73/Q)``,
  each later block twice as long; every parity is asked for.
* :data:`CascadeVariant.OPTIMISED`: following the guidelines of Martinez-Mateo et al. (2015), block
  sizes are powers of two and only the first two passes use small blocks: ``k1 =
  2^(ceil(log2(1/Q)) - 1)`` and ``k2 = 8 k1`` (sizes tuned with ``benchmarks/bench_postprocess.py``
  for efficiency and throughput), then passes of two random halves (BICONF-like) until
  ``clean_passes`` random-halves passes in a row find no error (the two block passes do not
  count: they can miss an even number of errors every time), so a frame with errors left slips
  through with probability at most ``2^-clean_passes`` (each bit's half is a fair coin, so any
  non-empty error set has an odd count in the first half with probability exactly 1/2). Reuse
  of information: Alice's sub-block parities revealed in earlier searches are remembered, and the
  last block's parity of every pass after the first is deduced from the key's total parity
  instead of being disclosed.

References
----------
Brassard, G. and Salvail, L., EUROCRYPT '93, LNCS 765, 410 (1994), doi:10.1007/3-540-48285-7_35.
Martinez-Mateo, J., Pacher, C., Peev, M., Ciurana, A. and Martin, V., "Demystifying the information
reconciliation protocol Cascade", Quantum Inf. Comput. 15, 453 (2015), arXiv:1407.3257.
Sugimoto, T. and Yamazaki, K., IEICE Trans. Fundamentals E83-A, 1987 (2000) (BICONF).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qit4n.errors import ParameterError
from qit4n.postprocess import cascade_kernels as kernels
from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role
from qit4n.postprocess.families import ReconciledFrame

if TYPE_CHECKING:
    from qit4n.postprocess.pipeline import PipelineSettings

__all__ = [
    "OPTIMISED_CASCADE",
    "ORIGINAL_CASCADE",
    "CascadeAlice",
    "CascadeAliceGroup",
    "CascadeBob",
    "CascadeReconciler",
    "CascadeResult",
    "CascadeSettings",
    "CascadeVariant",
    "block_schedule",
    "reconcile_cascade",
    "reconcile_cascade_frames",
]

_MAX_PASSES = 64


class CascadeVariant(enum.Enum):
    """Which Cascade: the 1993 original or the optimised variant."""

    ORIGINAL = "cascade-original"
    OPTIMISED = "cascade"


@dataclass(frozen=True)
class CascadeSettings:
    """Public settings both parties agree on before reconciling a frame."""

    variant: CascadeVariant
    qber_estimate: float
    seed: int
    clean_passes: int = 12

    def __post_init__(self) -> None:
        if not 0.0 <= self.qber_estimate < 0.5:
            raise ParameterError(f"qber_estimate = {self.qber_estimate}: must be in [0, 0.5)")
        if self.clean_passes < 1:
            raise ParameterError(f"clean_passes = {self.clean_passes}: must be >= 1")


def block_schedule(variant: CascadeVariant, qber: float, num_bits: int, pass_index: int) -> int:
    """Block size of pass ``pass_index`` (0-based) for a frame of ``num_bits`` bits.

    >>> [block_schedule(CascadeVariant.ORIGINAL, 0.02, 10**5, i) for i in range(4)]
    [37, 74, 148, 296]
    >>> [block_schedule(CascadeVariant.OPTIMISED, 0.02, 2**16, i) for i in range(3)]
    [32, 256, 32768]
    """
    half = max(1, num_bits // 2)
    q = max(qber, 1.0 / max(num_bits, 2))
    if variant is CascadeVariant.ORIGINAL:
        return min(half, math.ceil(0.73 / q) * 2**pass_index)
    first = 2 ** max(1, math.ceil(math.log2(1.0 / q)) - 1)
    if pass_index == 0:
        return min(half, first)
    if pass_index == 1:
        return min(half, 8 * first)
    return half


def _permuted_layout(
    num_bits: int, block_size: int, pass_index: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Order in which the pass visits the key (pass 0 in key order, later passes shuffled) and the
    block boundaries in that order."""
    order = np.arange(num_bits, dtype=np.int32) if pass_index == 0 else kernels.shuffled_order(rng.random(num_bits))
    return order, np.append(np.arange(0, num_bits, block_size, dtype=np.int64), num_bits)


class _PassPlan:
    """The passes of one frame, derived by both parties from the public seed (asked for in sequence).

    A pass is either permuted blocks (``order``, ``bounds``) or, for the optimised variant from the
    third pass on, a random split of the key into two halves given by a 0/1 ``mask``.
    """

    def __init__(self, settings: CascadeSettings, num_bits: int) -> None:
        self.settings = settings
        self.num_bits = num_bits
        self._rng = np.random.default_rng(settings.seed)

    def is_halves(self, pass_index: int) -> bool:
        """Whether pass ``pass_index`` is a random split into two halves."""
        return self.settings.variant is CascadeVariant.OPTIMISED and pass_index >= 2

    def mask(self) -> np.ndarray:
        """The half (0 or 1) of every bit for the next random-halves pass."""
        raw = np.frombuffer(self._rng.bytes((self.num_bits + 7) // 8), dtype=np.uint8)
        return np.unpackbits(raw, bitorder="little")[: self.num_bits]

    def layout(self, pass_index: int) -> tuple[np.ndarray, np.ndarray]:
        """Order and block boundaries of the next permuted pass."""
        block_size = block_schedule(self.settings.variant, self.settings.qber_estimate, self.num_bits, pass_index)
        return _permuted_layout(self.num_bits, block_size, pass_index, self._rng)


class CascadeAlice:
    """Alice's side for one frame: answers parity questions about her (never modified) key."""

    def __init__(self, key: np.ndarray) -> None:
        self._key = np.ascontiguousarray(key, dtype=np.uint8)
        self._plan: _PassPlan | None = None
        self._prefix = kernels.typed_list(np.uint8)
        self._masks: list[np.ndarray | None] = []

    def configure(self, settings: CascadeSettings) -> None:
        """Adopt the public settings Bob sent."""
        self._plan = _PassPlan(settings, self._key.size)

    def answer(self, passes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Parities of Alice's key over positions ``[start, end)`` of the given passes."""
        if passes.size == 0:
            return np.zeros(0, np.uint8)
        for pass_index in np.unique(passes):
            mask = self._masks[int(pass_index)]
            if mask is not None:
                order, _ = kernels.halves_order(mask)
                kernels.replace(self._prefix, int(pass_index), kernels.prefix_xor(self._key, order))
                self._masks[int(pass_index)] = None
        return kernels.range_parities(self._prefix, passes, starts, ends)

    def open_pass(self, pass_index: int) -> np.ndarray:
        """Block parities of a new pass (the last one omitted where Bob can deduce it)."""
        if self._plan is None:
            raise ParameterError("Cascade: Alice received a request before the setup message")
        if self._plan.is_halves(pass_index):
            mask = self._plan.mask()
            self._masks.append(mask)
            kernels.push(self._prefix, np.zeros(1, np.uint8))
            return kernels.halves_parities(self._key, mask)[:-1]
        order, bounds = self._plan.layout(pass_index)
        prefix = kernels.prefix_xor(self._key, order)
        self._masks.append(None)
        kernels.push(self._prefix, prefix)
        parities = prefix[bounds[1:]] ^ prefix[bounds[:-1]]
        if pass_index > 0 and self._plan.settings.variant is CascadeVariant.OPTIMISED:
            return parities[:-1]
        return parities


def _segments(frames: np.ndarray, count: int) -> np.ndarray:
    """Start offsets of each frame's run in a frame-sorted index array (``count + 1`` entries)."""
    return np.searchsorted(frames, np.arange(count + 1))


class CascadeAliceGroup:
    """Alice's side for several frames reconciled together (one message per round for all)."""

    def __init__(self, alices: list[CascadeAlice]) -> None:
        self.alices = alices

    def receive(self, message: Message) -> Message:
        """Answer Bob's setup or request message."""
        public = message.public
        if message.kind is MessageKind.CASCADE_SETUP:
            variant = CascadeVariant(str(public["variant"].tobytes(), "ascii"))
            clean = int(public["clean_passes"][0])
            for alice, qber, seed in zip(self.alices, public["qber"], public["seed"]):
                alice.configure(CascadeSettings(variant, float(qber), int(seed), clean))
            return Message(MessageKind.CASCADE_ANSWER, Role.ALICE)
        if message.kind is not MessageKind.CASCADE_REQUEST:
            raise ParameterError(f"message kind = {message.kind.value}: Alice expected a Cascade setup or request")
        bounds = _segments(public["frame"], len(self.alices))
        parities = [
            self.alices[i].answer(
                public["pass"][bounds[i] : bounds[i + 1]],
                public["start"][bounds[i] : bounds[i + 1]],
                public["end"][bounds[i] : bounds[i + 1]],
            )
            for i in range(len(self.alices))
            if bounds[i + 1] > bounds[i]
        ]
        blocks = [self.alices[int(i)].open_pass(int(p)) for i, p in zip(public["open_frame"], public["open_pass"])]
        return Message(
            MessageKind.CASCADE_ANSWER,
            Role.ALICE,
            public={"block_counts": np.array([b.size for b in blocks], dtype=np.uint32)},
            disclosed={
                "parities": np.concatenate(parities) if parities else np.zeros(0, np.uint8),
                "block_parities": np.concatenate(blocks) if blocks else np.zeros(0, np.uint8),
            },
        )


@dataclass(frozen=True)
class CascadeResult:
    """Outcome on Bob's side: the corrected key and what the reconciliation cost."""

    key: np.ndarray
    passes: int
    corrections: int


class CascadeBob:
    """Bob's side: holds the noisy key, drives the protocol and corrects his key in place."""

    def __init__(self, key: np.ndarray, settings: CascadeSettings) -> None:
        self.key = np.ascontiguousarray(key, dtype=np.uint8).copy()
        self.settings = settings
        self._plan = _PassPlan(settings, self.key.size)
        self._use_cache = settings.variant is CascadeVariant.OPTIMISED
        self._orders = kernels.typed_list(np.int32)
        self._positions = kernels.typed_list(np.int32)
        self._trees = kernels.typed_list(np.uint8)
        self._bounds = kernels.typed_list(np.int64)
        self._caches = kernels.typed_list(np.int8)
        self._alice = np.zeros(0, np.uint8)
        self._bob = np.zeros(0, np.uint8)
        self._searching = np.zeros(0, np.uint8)
        self._parked_at = np.zeros(0, np.int32)
        self._offsets = np.zeros(_MAX_PASSES + 2, dtype=np.int64)
        self._spans = np.zeros(_MAX_PASSES + 1, dtype=np.int64)
        self._lazy = np.zeros(_MAX_PASSES + 1, dtype=np.uint8)
        self._mask_bits = np.zeros(self.key.size, dtype=np.uint64)
        self._num_passes = 0
        self._total_parity = 0

    def open_pass(self, pass_index: int, alice_parities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Install pass ``pass_index`` with Alice's block parities; returns the odd blocks to search."""
        if pass_index >= _MAX_PASSES:
            raise ParameterError(f"pass_index = {pass_index}: Cascade supports at most {_MAX_PASSES} passes")
        alice = np.asarray(alice_parities, dtype=np.uint8)
        halves = self._plan.is_halves(pass_index)
        if halves:
            mask = self._plan.mask()
            kernels.add_mask(self._mask_bits, mask, pass_index)
            bob = kernels.halves_parities(self.key, mask)
            structures = (
                np.zeros(1, np.int32),
                np.zeros(1, np.int32),
                np.zeros(1, np.uint8),
                np.zeros(2, np.int64),
                np.zeros(1, np.int8),
            )
        else:
            order, bounds = self._plan.layout(pass_index)
            prefix = kernels.prefix_xor(self.key, order)
            bob = prefix[bounds[1:]] ^ prefix[bounds[:-1]]
            longest = int(np.max(np.diff(bounds)))
            self._spans[pass_index] = 2 * (1 << max(0, math.ceil(math.log2(longest))))
            cache = np.full(bob.size * self._spans[pass_index] if self._use_cache else 1, -1, dtype=np.int8)
            structures = (order, kernels.inverse_order(order), kernels.fenwick_build(self.key, order), bounds, cache)
        if pass_index == 0:
            self._total_parity = int(np.bitwise_xor.reduce(alice))
        elif alice.size == bob.size - 1:
            alice = np.append(alice, np.uint8(self._total_parity ^ int(np.bitwise_xor.reduce(alice))))
        if self._use_cache and not halves:
            structures[4][np.arange(bob.size) * self._spans[pass_index] + 1] = alice
        for typed, value in zip((self._orders, self._positions, self._trees, self._bounds, self._caches), structures):
            kernels.push(typed, value)
        self._offsets[pass_index + 1] = self._offsets[pass_index] + bob.size
        self._alice = np.concatenate([self._alice, alice])
        self._bob = np.concatenate([self._bob, bob])
        self._searching = np.concatenate([self._searching, np.zeros(bob.size, np.uint8)])
        self._parked_at = np.concatenate([self._parked_at, np.full(bob.size, -1, np.int32)])
        self._num_passes = pass_index + 1
        odd = np.flatnonzero(alice != bob).astype(np.int64)
        if halves:
            self._lazy[pass_index] = 1
            if odd.size:
                kernels.materialise(
                    pass_index,
                    self.key,
                    self._orders,
                    self._positions,
                    self._trees,
                    self._bounds,
                    self._caches,
                    self._alice,
                    self._offsets,
                    self._spans,
                    self._mask_bits,
                    self._lazy,
                )
        return np.full(odd.size, pass_index, dtype=np.int64), odd

    def round(
        self, searches: np.ndarray, answers: np.ndarray, new_passes: np.ndarray, new_blocks: np.ndarray
    ) -> tuple[np.ndarray, int]:
        """Apply answers and new searches; returns parked searches and the corrections made."""
        return kernels.bob_round(
            self.key,
            self._orders,
            self._positions,
            self._trees,
            self._bounds,
            self._caches,
            self._alice,
            self._bob,
            self._searching,
            self._parked_at,
            self._offsets,
            self._spans,
            self._lazy,
            self._mask_bits,
            self._use_cache,
            self._num_passes,
            searches,
            answers,
            new_passes,
            new_blocks,
        )


_EMPTY_SEARCHES = np.zeros((0, 6), dtype=np.int64)
_EMPTY = np.zeros(0, dtype=np.int64)


def _setup_message(bobs: list[CascadeBob]) -> Message:
    settings = bobs[0].settings
    return Message(
        MessageKind.CASCADE_SETUP,
        Role.BOB,
        public={
            "variant": np.frombuffer(settings.variant.value.encode("ascii"), dtype=np.uint8),
            "qber": np.array([bob.settings.qber_estimate for bob in bobs]),
            "seed": np.array([bob.settings.seed for bob in bobs], dtype=np.uint64),
            "clean_passes": np.array([settings.clean_passes], dtype=np.uint16),
        },
    )


def _request(searches: list[np.ndarray], queried: list[int], opening: list[tuple[int, int]]) -> Message:
    rows = [searches[i] for i in queried]
    stacked = np.concatenate(rows) if rows else _EMPTY_SEARCHES
    starts = stacked[:, kernels.START]
    frames = (
        np.concatenate([np.full(searches[i].shape[0], i, dtype=np.uint16) for i in queried])
        if queried
        else np.zeros(0, np.uint16)
    )
    return Message(
        MessageKind.CASCADE_REQUEST,
        Role.BOB,
        public={
            "frame": frames,
            "pass": stacked[:, kernels.PASS].astype(np.uint8),
            "start": starts.astype(np.uint32),
            "end": (starts + (stacked[:, kernels.END] - starts) // 2).astype(np.uint32),
            "open_frame": np.array([i for i, _ in opening], dtype=np.uint16),
            "open_pass": np.array([p for _, p in opening], dtype=np.int16),
        },
    )


def _finished(settings: CascadeSettings, pass_index: int, clean_run: int) -> bool:
    if settings.variant is CascadeVariant.ORIGINAL:
        return pass_index >= 4
    return pass_index >= _MAX_PASSES or (pass_index >= 2 and clean_run >= settings.clean_passes)


def reconcile_cascade_frames(
    alices: list[CascadeAlice], bobs: list[CascadeBob], channel: PublicChannel
) -> list[CascadeResult]:
    """Reconcile several frames together: each round carries every frame's questions in one
    message, so the round trips (and the per-message cost) are shared by the frames.

    All Bobs must use the same variant and ``clean_passes``; their keys are corrected in place.
    """
    if len(alices) != len(bobs) or not bobs:
        raise ParameterError(f"frames = {len(alices)} Alice, {len(bobs)} Bob: must be equal and > 0")
    if len({(bob.settings.variant, bob.settings.clean_passes) for bob in bobs}) != 1:
        raise ParameterError("Cascade frames reconciled together must share variant and clean_passes")
    group = CascadeAliceGroup(alices)
    group.receive(channel.send(_setup_message(bobs)))
    count = len(bobs)
    pass_index = [0] * count
    clean_run = [0] * count
    pass_corrections = [0] * count
    corrections = [0] * count
    searches = [_EMPTY_SEARCHES] * count
    active = [True] * count
    while True:
        queried = [i for i in range(count) if active[i] and searches[i].shape[0] > 0]
        opening = [(i, pass_index[i]) for i in range(count) if active[i] and searches[i].shape[0] == 0]
        if not queried and not opening:
            break
        answer = channel.send(group.receive(channel.send(_request(searches, queried, opening))))
        parities = answer.disclosed["parities"]
        offset = 0
        for i in queried:
            size = searches[i].shape[0]
            searches[i], made = bobs[i].round(searches[i], parities[offset : offset + size], _EMPTY, _EMPTY)
            offset += size
            pass_corrections[i] += made
        offset = 0
        for (i, p), size in zip(opening, answer.public["block_counts"]):
            new_passes, new_blocks = bobs[i].open_pass(
                p, answer.disclosed["block_parities"][offset : offset + int(size)]
            )
            offset += int(size)
            searches[i], made = bobs[i].round(_EMPTY_SEARCHES, np.zeros(0, np.uint8), new_passes, new_blocks)
            pass_corrections[i] = made
        for i in set(queried) | {i for i, _ in opening}:
            if searches[i].shape[0] == 0:
                corrections[i] += pass_corrections[i]
                halves = bobs[i].settings.variant is CascadeVariant.OPTIMISED and pass_index[i] >= 2
                clean_run[i] = clean_run[i] + 1 if halves and pass_corrections[i] == 0 else 0
                pass_corrections[i] = 0
                pass_index[i] += 1
                active[i] = not _finished(bobs[i].settings, pass_index[i], clean_run[i])
    return [CascadeResult(bob.key, passes, made) for bob, passes, made in zip(bobs, pass_index, corrections)]


def reconcile_cascade(alice: CascadeAlice, bob: CascadeBob, channel: PublicChannel) -> CascadeResult:
    """Run Cascade between ``alice`` and ``bob`` over ``channel``; Bob's key is corrected in place.

    >>> from qit4n.postprocess.bits import random_bits, noisy_copy
    >>> rng = np.random.default_rng(7)
    >>> key_a = random_bits(4096, rng); key_b = noisy_copy(key_a, 0.03, rng)
    >>> bob = CascadeBob(key_b, CascadeSettings(CascadeVariant.OPTIMISED, 0.03, seed=1))
    >>> result = reconcile_cascade(CascadeAlice(key_a), bob, PublicChannel())
    >>> bool(np.array_equal(result.key, key_a))
    True
    """
    return reconcile_cascade_frames([alice], [bob], channel)[0]


@dataclass(frozen=True)
class CascadeReconciler:
    """:class:`~qit4n.postprocess.families.Reconciler` running one Cascade ``variant`` on a batch of
    frames (one seed per frame drawn from ``rng``; ``clean_passes`` from the pipeline settings)."""

    variant: CascadeVariant

    def reconcile(
        self,
        alice_frames: Sequence[np.ndarray],
        bob_frames: Sequence[np.ndarray],
        qber_estimate: float,
        settings: PipelineSettings,
        channel: PublicChannel,
        rng: np.random.Generator,
    ) -> list[ReconciledFrame]:
        """Bob's corrected frames (the batch shares round trips)."""
        bobs = [
            CascadeBob(
                frame, CascadeSettings(self.variant, qber_estimate, int(rng.integers(2**63)), settings.clean_passes)
            )
            for frame in bob_frames
        ]
        results = reconcile_cascade_frames([CascadeAlice(frame) for frame in alice_frames], bobs, channel)
        return [ReconciledFrame(result.key) for result in results]


#: The registered members ``cascade`` and ``cascade-original`` of :data:`~qit4n.postprocess.RECONCILERS`.
OPTIMISED_CASCADE = CascadeReconciler(CascadeVariant.OPTIMISED)
ORIGINAL_CASCADE = CascadeReconciler(CascadeVariant.ORIGINAL)
