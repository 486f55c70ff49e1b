"""Vectorised Monte Carlo of homogeneous repeater chains in units of link attempts.

Each sample is one delivery from an all-idle chain. The model is the one of
:mod:`qit4n.qin.waiting`: every idle segment attempts once per step and succeeds with probability
``p``; a swap happens at the end of the step in which both of its pairs are ready. Besides the
waiting time each sample records its *storage*: the sum over all memory qubits of the steps they
spent stored (from the start of the step that emitted them until they were measured in a swap or
the end-to-end pair was delivered), which fixes the delivered fidelity under Pauli memory noise.

With deterministic swaps (``a = 1``) the waiting time is the maximum of ``N`` geometric times and
the swap times follow from the link times, so a sample costs a few array operations. With
probabilistic swaps the doubling tree is sampled recursively: a level completes after a geometric number of
tries, each lasting until both halves (sampled the same way) are ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from qit4n.errors import ParameterError
from qit4n.qin.waiting import check_probabilities, doubling_levels

__all__ = ["MAX_SAMPLED_SEGMENTS", "ChainSamples", "SwapPolicy", "sample_chain"]

#: The most ``samples x segments`` one call may sample: each costs a few 8-byte cells, so 3e7 is about
#: 1.5 GB and 30 s at 1,000 segments (measured on 2 cores); a larger request is refused before allocating.
MAX_SAMPLED_SEGMENTS = 30_000_000


class SwapPolicy(str, Enum):
    """Order of the entanglement swaps in a chain."""

    SWAP_ASAP = "swap-asap"
    DOUBLING = "doubling"


@dataclass(frozen=True)
class ChainSamples:
    """Per-sample waiting time (steps) and total qubit storage (qubit-steps), both shape ``(samples,)``."""

    waiting_steps: np.ndarray
    storage_steps: np.ndarray


def _swap_node_spans(segments: int, policy: SwapPolicy) -> list[tuple[int, int]]:
    """For each repeater node j = 1..N-1, the half-open segment range whose links it waits for."""
    spans = []
    for node in range(1, segments):
        if policy is SwapPolicy.SWAP_ASAP:
            spans.append((node - 1, node + 1))
        else:
            half = node & -node
            spans.append((node - half, node + half))
    return spans


def _deterministic(rng: np.random.Generator, samples: int, segments: int, p: float, policy: SwapPolicy) -> ChainSamples:
    success_step = rng.geometric(p, size=(samples, segments))
    start = success_step - 1
    delivered = success_step.max(axis=1)
    storage = (2 * delivered - start[:, 0] - start[:, -1]).astype(float)
    if policy is SwapPolicy.DOUBLING:
        doubling_levels(segments)
    for node, (low, high) in enumerate(_swap_node_spans(segments, policy), start=1):
        swap_step = success_step[:, low:high].max(axis=1)
        storage += 2 * swap_step - start[:, node - 1] - start[:, node]
    return ChainSamples(waiting_steps=delivered, storage_steps=storage)


def _subtree(rng: np.random.Generator, level: int, count: int, p: float, a: float) -> tuple[np.ndarray, ...]:
    """Sample ``count`` completions of a level-``level`` doubling subtree started all-idle.

    Returns (duration, left_start, right_start, stored), times relative to the start. A subtree
    completes after a geometric number of tries (swap success ``a``); each try lasts until both
    halves, started idle together, are ready; only the last try's qubits reach the output.
    """
    if level == 0:
        success_step = rng.geometric(p, size=count)
        return success_step, success_step - 1, success_step - 1, np.zeros(count)
    tries = rng.geometric(a, size=count) if a < 1.0 else np.ones(count, dtype=np.int64)
    total = int(tries.sum())
    left = _subtree(rng, level - 1, total, p, a)
    right = _subtree(rng, level - 1, total, p, a)
    try_duration = np.maximum(left[0], right[0])
    last = np.cumsum(tries) - 1
    first = last - tries + 1
    elapsed = np.add.reduceat(try_duration, first)
    offset = elapsed - try_duration[last]
    stored = left[3][last] + right[3][last] + 2 * try_duration[last] - left[2][last] - right[1][last]
    return elapsed, offset + left[1][last], offset + right[2][last], stored


def _doubling(rng: np.random.Generator, samples: int, segments: int, p: float, a: float) -> ChainSamples:
    levels = doubling_levels(segments)
    # Keep about 2^22 link samples in memory at once.
    chunk = max(1, int(2**22 / (2.0 / a) ** levels))
    waiting, storage = [], []
    for begin in range(0, samples, chunk):
        duration, left_start, right_start, stored = _subtree(rng, levels, min(chunk, samples - begin), p, a)
        waiting.append(duration)
        storage.append(stored + 2 * duration - left_start - right_start)
    return ChainSamples(waiting_steps=np.concatenate(waiting), storage_steps=np.concatenate(storage))


def sample_chain(
    rng: np.random.Generator,
    samples: int,
    *,
    segments: int,
    link_success_probability: float,
    swap_success_probability: float = 1.0,
    policy: SwapPolicy = SwapPolicy.DOUBLING,
) -> ChainSamples:
    """Sample ``samples`` deliveries of a homogeneous chain (see the module docstring).

    >>> rng = np.random.default_rng(7)
    >>> result = sample_chain(rng, 200_000, segments=2, link_success_probability=0.5, swap_success_probability=0.5)
    >>> round(float(result.waiting_steps.mean()), 1)  # exact: 16/3
    5.3
    """
    check_probabilities(link_success_probability, swap_success_probability)
    if segments < 1:
        raise ParameterError(f"segments = {segments}: must be >= 1")
    if samples < 1:
        raise ParameterError(f"samples = {samples}: must be >= 1")
    if samples * segments > MAX_SAMPLED_SEGMENTS:
        raise ParameterError(
            f"samples x segments = {samples} x {segments} = {samples * segments:.3g}: must be at most "
            f"{MAX_SAMPLED_SEGMENTS:.0e} (ask for fewer samples or segments)"
        )
    policy = SwapPolicy(policy)
    if swap_success_probability == 1.0:
        return _deterministic(rng, samples, segments, link_success_probability, policy)
    if policy is not SwapPolicy.DOUBLING:
        raise ParameterError(
            f"policy = {policy.value!r}: probabilistic swaps (a < 1) are sampled for the doubling policy only; "
            "use the event engine for swap-asap"
        )
    return _doubling(rng, samples, segments, link_success_probability, swap_success_probability)
