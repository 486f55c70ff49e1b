"""Cascade error reconciliation between two separate parties over the public channel.

Bob (holding the noisy key) drives: he asks Alice for block parities of each pass and for the
parities of the left halves of blocks whose parities disagree, all odd blocks in parallel, one
round trip per level. Alice answers from prefix-XOR tables and never sees Bob's key; Bob never sees
Alice's. Two variants:

* :data:`CascadeVariant.ORIGINAL` (Brassard and Salvail 1993): four passes, ``k1 = ceil(0.73/Q)``,
  each later block twice as long; every parity is asked for.
* :data:`CascadeVariant.OPTIMISED`: the guidelines of Martinez-Mateo et al. (2015): block sizes that
  are powers of two, a first block ``k1 = 2^ceil(log2(1/Q))``, a second ``k2 = 2^ceil((log2 k1 +
  12) / 2)``, then passes of two blocks of ``n/2`` (BICONF-like random halves) until ``clean_passes``
  passes in a row find no error; reuse of information: Alice's sub-block parities revealed in
  earlier searches are remembered, and the last block's parity of every pass after the first is
  deduced from the key's total parity instead of being disclosed.

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
from dataclasses import dataclass

import numpy as np

from qit4n.errors import ParameterError
from qit4n.postprocess import cascade_kernels as kernels
from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role

__all__ = ["CascadeVariant", "CascadeSettings", "CascadeResult", "block_schedule", "reconcile_cascade", "CascadeAlice", "CascadeBob"]

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
    [64, 512, 32768]
    """
    half = max(1, num_bits // 2)
    q = max(qber, 1.0 / max(num_bits, 2))
    if variant is CascadeVariant.ORIGINAL:
        return min(half, math.ceil(0.73 / q) * 2**pass_index)
    exponent = math.ceil(math.log2(1.0 / q))
    if pass_index == 0:
        return min(half, 2**exponent)
    if pass_index == 1:
        return min(half, 2 ** math.ceil((exponent + 12) / 2))
    return half


def _permuted_layout(num_bits: int, block_size: int, pass_index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
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
    """Alice's side: answers parity questions about her (never modified) key."""

    def __init__(self, key: np.ndarray) -> None:
        self._key = np.ascontiguousarray(key, dtype=np.uint8)
        self._plan: _PassPlan | None = None
        self._prefix = kernels.typed_list(np.uint8)
        self._masks: list[np.ndarray | None] = []

    def receive(self, message: Message) -> Message:
        """Handle Bob's setup or request message; return the answer."""
        if message.kind is MessageKind.CASCADE_SETUP:
            variant = CascadeVariant(str(message.public["variant"].tobytes(), "ascii"))
            qber = float(message.public["qber"][0])
            seed = int(message.public["seed"][0])
            clean = int(message.public["clean_passes"][0])
            self._plan = _PassPlan(CascadeSettings(variant, qber, seed, clean), self._key.size)
            return Message(MessageKind.CASCADE_ANSWER, Role.ALICE)
        if message.kind is not MessageKind.CASCADE_REQUEST or self._plan is None:
            raise ParameterError(f"message kind = {message.kind.value}: Alice expected a Cascade setup or request")
        public = message.public
        passes = public["pass"]
        for pass_index in np.unique(passes):
            if self._masks[int(pass_index)] is not None:
                order, _ = kernels.halves_order(self._masks[int(pass_index)])
                kernels.replace(self._prefix, int(pass_index), kernels.prefix_xor(self._key, order))
                self._masks[int(pass_index)] = None
        answers = kernels.range_parities(self._prefix, passes, public["start"], public["end"]) if passes.size else np.zeros(0, np.uint8)
        disclosed = {"parities": answers}
        next_pass = int(public["next_pass"][0])
        if next_pass >= 0:
            disclosed["block_parities"] = self._open_pass(next_pass)
        return Message(MessageKind.CASCADE_ANSWER, Role.ALICE, disclosed=disclosed)

    def _open_pass(self, pass_index: int) -> np.ndarray:
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
        self._alice = kernels.typed_list(np.uint8)
        self._bob = kernels.typed_list(np.uint8)
        self._caches = kernels.typed_list(np.int8)
        self._searching = kernels.typed_list(np.uint8)
        self._masks = kernels.typed_list(np.uint8)
        self._parked_at = kernels.typed_list(np.int32)
        self._typed = (
            self._orders, self._positions, self._trees, self._bounds, self._alice, self._bob, self._caches,
            self._searching, self._masks, self._parked_at,
        )
        self._spans = np.zeros(_MAX_PASSES + 1, dtype=np.int64)
        self._lazy = np.zeros(_MAX_PASSES + 1, dtype=np.uint8)
        self._num_passes = 0
        self._total_parity = 0

    def setup_message(self) -> Message:
        """The public settings, sent first so that Alice derives the same passes."""
        s = self.settings
        return Message(
            MessageKind.CASCADE_SETUP,
            Role.BOB,
            public={
                "variant": np.frombuffer(s.variant.value.encode("ascii"), dtype=np.uint8),
                "qber": np.array([s.qber_estimate]),
                "seed": np.array([s.seed], dtype=np.uint64),
                "clean_passes": np.array([s.clean_passes], dtype=np.uint16),
            },
        )

    def request(self, searches: np.ndarray, next_pass: int) -> Message:
        """Ask for the left-half parities of the parked searches (and open ``next_pass`` if >= 0)."""
        starts = searches[:, kernels.START]
        lengths = searches[:, kernels.END] - starts
        return Message(
            MessageKind.CASCADE_REQUEST,
            Role.BOB,
            public={
                "pass": searches[:, kernels.PASS].astype(np.uint8),
                "start": starts.astype(np.uint32),
                "end": (starts + lengths // 2).astype(np.uint32),
                "next_pass": np.array([next_pass], dtype=np.int16),
            },
        )

    def open_pass(self, pass_index: int, alice_parities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Install pass ``pass_index`` with Alice's block parities; returns the odd blocks to search."""
        alice = np.asarray(alice_parities, dtype=np.uint8)
        halves = self._plan.is_halves(pass_index)
        if halves:
            mask = self._plan.mask()
            bob = kernels.halves_parities(self.key, mask)
            structures = (np.zeros(1, np.int32), np.zeros(1, np.int32), np.zeros(1, np.uint8), np.zeros(2, np.int64))
            cache = np.zeros(1, np.int8)
        else:
            mask = np.zeros(1, np.uint8)
            order, bounds = self._plan.layout(pass_index)
            prefix = kernels.prefix_xor(self.key, order)
            bob = prefix[bounds[1:]] ^ prefix[bounds[:-1]]
            structures = (order, kernels.inverse_order(order), kernels.fenwick_build(self.key, order), bounds)
            longest = int(np.max(np.diff(bounds)))
            self._spans[pass_index] = 2 * (1 << max(0, math.ceil(math.log2(longest))))
            cache = np.full(bob.size * self._spans[pass_index] if self._use_cache else 1, -1, dtype=np.int8)
        if pass_index == 0:
            self._total_parity = int(np.bitwise_xor.reduce(alice))
        elif alice.size == bob.size - 1:
            alice = np.append(alice, np.uint8(self._total_parity ^ int(np.bitwise_xor.reduce(alice))))
        if self._use_cache and not halves:
            cache[np.arange(bob.size) * self._spans[pass_index] + 1] = alice
        for typed, value in zip(self._typed, (*structures, alice, bob, cache, np.zeros(bob.size, np.uint8), mask, np.full(bob.size, -1, np.int32))):
            kernels.push(typed, value)
        self._num_passes = pass_index + 1
        odd = np.flatnonzero(alice != bob).astype(np.int64)
        if halves:
            self._lazy[pass_index] = 1
            if odd.size:
                kernels.materialise(pass_index, self.key, self._orders, self._positions, self._trees, self._bounds,
                                    self._alice, self._caches, self._spans, self._masks, self._lazy)
        return np.full(odd.size, pass_index, dtype=np.int64), odd

    def round(self, searches: np.ndarray, answers: np.ndarray, new_passes: np.ndarray, new_blocks: np.ndarray) -> tuple[np.ndarray, int]:
        """Apply answers and new searches; returns parked searches and the corrections made."""
        return kernels.bob_round(
            self.key, *self._typed, self._spans, self._lazy,
            self._use_cache, self._num_passes, searches, answers, new_passes, new_blocks,
        )


_EMPTY_SEARCHES = np.zeros((0, 6), dtype=np.int64)
_EMPTY = np.zeros(0, dtype=np.int64)


def _num_passes_done(variant: CascadeVariant, pass_index: int, clean_run: int, settings: CascadeSettings, num_bits: int) -> bool:
    if variant is CascadeVariant.ORIGINAL:
        return pass_index >= 4
    if pass_index >= _MAX_PASSES:
        return True
    return pass_index >= 2 and clean_run >= settings.clean_passes


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
    settings = bob.settings
    alice.receive(channel.send(bob.setup_message()))
    pass_index = 0
    clean_run = 0
    corrections_total = 0
    while not _num_passes_done(settings.variant, pass_index, clean_run, settings, bob.key.size):
        answer = alice.receive(channel.send(bob.request(_EMPTY_SEARCHES, pass_index)))
        answer = channel.send(answer)
        new_passes, new_blocks = bob.open_pass(pass_index, answer.disclosed["block_parities"])
        searches, corrections = bob.round(_EMPTY_SEARCHES, np.zeros(0, np.uint8), new_passes, new_blocks)
        pass_corrections = corrections
        while searches.shape[0] > 0:
            reply = channel.send(alice.receive(channel.send(bob.request(searches, -1))))
            searches, corrections = bob.round(searches, reply.disclosed["parities"], _EMPTY, _EMPTY)
            pass_corrections += corrections
        corrections_total += pass_corrections
        clean_run = clean_run + 1 if pass_corrections == 0 else 0
        pass_index += 1
    return CascadeResult(bob.key, pass_index, corrections_total)
