"""Compiled inner loops of Cascade: Bob's parallel binary searches and the cascade of corrections.

Bob holds, for every pass ``q``, the order in which the pass visits the key (blocks are contiguous
runs of ``order_q`` between ``bounds_q``), the position of each bit in that order, an XOR Fenwick
tree over his key in that order, Alice's and his own block parities, and a cache of Alice's sub-block
parities indexed by heap node (root 1, children ``2h`` and ``2h + 1``; the left child covers the
first ``len // 2`` positions). A search is one row of ``searches``:
``(pass, block, node, start, end, alice_parity)`` over positions ``[start, end)`` of ``order_pass``.
Random-halves passes are ``lazy`` until a search needs them: only their mask (the half of each
bit, packed as bit ``r`` of a 64-bit word per key bit) and the two parities exist, and
:func:`materialise` builds the rest on first use. Per-block state (Alice's and Bob's parities,
whether a search is running, where it is parked) lives in flat arrays indexed through
``offsets``, which keeps the hot loop free of typed-list look-ups.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.typed import List

__all__ = [
    "APAR",
    "BLOCK",
    "END",
    "NODE",
    "PASS",
    "START",
    "add_mask",
    "bob_round",
    "fenwick_build",
    "halves_order",
    "halves_parities",
    "inverse_order",
    "materialise",
    "pass_mask",
    "prefix_xor",
    "push",
    "range_parities",
    "replace",
    "shuffled_order",
    "typed_list",
]

PASS, BLOCK, NODE, START, END, APAR = 0, 1, 2, 3, 4, 5
_COLUMNS = 6


@numba.njit(cache=True)
def shuffled_order(uniforms: np.ndarray) -> np.ndarray:
    """A uniformly random permutation of ``0 .. n-1`` (Fisher-Yates driven by ``n`` uniforms in [0, 1))."""
    size = uniforms.size
    order = np.arange(size).astype(np.int32)
    for index in range(size - 1, 0, -1):
        other = np.int64(uniforms[index] * (index + 1))
        order[index], order[other] = order[other], order[index]
    return order


@numba.njit(cache=True)
def halves_order(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Bits with ``mask == 0`` then those with ``mask == 1`` (each in key order); and how many are 0."""
    size = mask.size
    lows = np.empty(size + 1, dtype=np.int32)
    highs = np.empty(size + 1, dtype=np.int32)
    low = 0
    high = 0
    for index in range(size):
        bit = np.int64(mask[index])
        lows[low] = index
        highs[high] = index
        low += int(1 - bit)
        high += int(bit)
    order = np.empty(size, dtype=np.int32)
    order[:low] = lows[:low]
    order[low:] = highs[:high]
    return order, low


@numba.njit(cache=True)
def halves_parities(key: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Parities of the bits with ``mask == 0`` and of those with ``mask == 1``."""
    total = np.uint8(0)
    ones = np.uint8(0)
    for index in range(key.size):
        total ^= key[index]
        ones ^= key[index] & mask[index]
    out = np.empty(2, dtype=np.uint8)
    out[0] = total ^ ones
    out[1] = ones
    return out


@numba.njit(cache=True)
def prefix_xor(key: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``prefix[i]`` = XOR of ``key[order[:i]]`` (size ``n + 1``)."""
    prefix = np.zeros(order.size + 1, dtype=np.uint8)
    acc = np.uint8(0)
    for index in range(order.size):
        acc ^= key[order[index]]
        prefix[index + 1] = acc
    return prefix


@numba.njit(cache=True)
def inverse_order(order: np.ndarray) -> np.ndarray:
    """Position of every bit in ``order``."""
    positions = np.empty(order.size, dtype=np.int32)
    for index in range(order.size):
        positions[order[index]] = index
    return positions


@numba.njit(cache=True)
def fenwick_build(key: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Binary indexed tree of XOR over ``key[order]`` (1-based, size ``n + 1``), built in O(n)."""
    size = order.size
    tree = np.zeros(size + 1, dtype=np.uint8)
    for index in range(size):
        tree[index + 1] = key[order[index]]
    for index in range(1, size + 1):
        parent = index + (index & -index)
        if parent <= size:
            tree[parent] ^= tree[index]
    return tree


@numba.njit(cache=True)
def _prefix(tree, end):
    acc = np.uint8(0)
    while end > 0:
        acc ^= tree[end]
        end -= end & -end
    return acc


@numba.njit(cache=True)
def _range_parity(tree, start, end):
    return _prefix(tree, end) ^ _prefix(tree, start)


@numba.njit(cache=True)
def _flip(tree, position):
    index = position + 1
    while index < tree.size:
        tree[index] ^= 1
        index += index & -index


@numba.njit(cache=True)
def _block_at(bounds, position):
    low = 0
    high = bounds.size - 1
    while high - low > 1:
        middle = (low + high) // 2
        if bounds[middle] <= position:
            low = middle
        else:
            high = middle
    return low


@numba.njit(cache=True)
def range_parities(prefixes, passes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Parities of ranges of the given passes from prefix-XOR arrays (Alice's side, O(1) per range)."""
    out = np.empty(starts.size, dtype=np.uint8)
    for index in range(starts.size):
        prefix = prefixes[passes[index]]
        out[index] = prefix[ends[index]] ^ prefix[starts[index]]
    return out


@numba.njit(cache=True)
def _restart(row, bounds, alice):
    block = row[BLOCK]
    row[NODE] = 1
    row[START] = bounds[block]
    row[END] = bounds[block + 1]
    row[APAR] = alice


@numba.njit(cache=True)
def _descend(row, tree, cache_q, span, use_cache):
    """Walk down through cached parities; 1 when a single bit is reached, 0 when a query is needed."""
    while True:
        length = row[END] - row[START]
        if length == 1:
            return 1
        left_node = 2 * row[NODE]
        slot = row[BLOCK] * span + left_node
        if not use_cache or cache_q[slot] < 0:
            return 0
        alice_left = cache_q[slot]
        middle = row[START] + length // 2
        bob_left = _range_parity(tree, row[START], middle)
        if bob_left != alice_left:
            row[NODE] = left_node
            row[END] = middle
            row[APAR] = alice_left
        else:
            row[NODE] = left_node + 1
            row[START] = middle
            row[APAR] = row[APAR] ^ alice_left


@numba.njit(cache=True)
def pass_mask(mask_bits: np.ndarray, r: int) -> np.ndarray:
    """Half (0 or 1) of every bit in random-halves pass ``r`` (bit ``r`` of the packed masks)."""
    out = np.empty(mask_bits.size, dtype=np.uint8)
    shift = np.uint64(r)
    for index in range(mask_bits.size):
        out[index] = (mask_bits[index] >> shift) & np.uint64(1)
    return out


@numba.njit(cache=True)
def add_mask(mask_bits: np.ndarray, mask: np.ndarray, r: int) -> None:
    """Store the halves mask of pass ``r`` as bit ``r`` of ``mask_bits`` (in place)."""
    shift = np.uint64(r)
    for index in range(mask.size):
        mask_bits[index] |= np.uint64(mask[index]) << shift


@numba.njit(cache=True)
def materialise(r, key, orders, positions, trees, bounds, caches, alice_par, offsets, spans, mask_bits, lazy):
    """Build the order, positions, Fenwick tree and cache of a random-halves pass on first use."""
    order, zeros = halves_order(pass_mask(mask_bits, r))
    orders[r] = order
    positions[r] = inverse_order(order)
    trees[r] = fenwick_build(key, order)
    edges = np.empty(3, dtype=np.int64)
    edges[0] = 0
    edges[1] = zeros
    edges[2] = key.size
    bounds[r] = edges
    longest = max(zeros, key.size - zeros)
    span = 2
    while span < 2 * longest:
        span *= 2
    spans[r] = span
    cache = np.full(2 * span, -1, dtype=np.int8)
    cache[1] = alice_par[offsets[r]]
    cache[span + 1] = alice_par[offsets[r] + 1]
    caches[r] = cache
    lazy[r] = 0


@numba.njit(cache=True)
def _room(rows, used):
    """``rows`` with space for one more row (doubled when full)."""
    if used < rows.shape[0]:
        return rows
    grown = np.empty((2 * rows.shape[0], _COLUMNS), dtype=np.int64)
    grown[:used] = rows[:used]
    return grown


@numba.njit(cache=True)
def bob_round(
    key,
    orders,
    positions,
    trees,
    bounds,
    caches,
    alice_par,
    bob_par,
    searching,
    parked_at,
    offsets,
    spans,
    lazy,
    mask_bits,
    use_cache,
    num_passes,
    searches,
    answers,
    new_passes,
    new_blocks,
):
    """One round of Bob's side of Cascade.

    Applies Alice's ``answers`` to the parked ``searches`` (one answer each, for the left child of
    the current node), starts searches for ``(new_passes, new_blocks)``, corrects every bit a search
    isolates, starts searches for the blocks of earlier passes that a correction made odd (the
    cascade), revalidates the parked search of every block a correction touched, and parks the
    searches that need a parity from Alice. Per-block state of all passes lives in flat arrays
    (block ``b`` of pass ``r`` at ``offsets[r] + b``); Bob's range parities come from one XOR
    Fenwick tree per built pass. Returns ``(parked searches, number of corrections)``.
    """
    capacity = 2 * (searches.shape[0] + new_blocks.size) + 64
    work = np.empty((capacity, _COLUMNS), dtype=np.int64)
    num_work = 0
    for index in range(searches.shape[0]):
        row = searches[index].copy()
        q = row[PASS]
        length = row[END] - row[START]
        middle = row[START] + length // 2
        alice_left = answers[index]
        if use_cache:
            cache_q = caches[q]
            cache_q[row[BLOCK] * spans[q] + 2 * row[NODE]] = alice_left
            cache_q[row[BLOCK] * spans[q] + 2 * row[NODE] + 1] = alice_left ^ row[APAR]
        bob_left = _range_parity(trees[q], row[START], middle)
        if bob_left != alice_left:
            row[NODE] = 2 * row[NODE]
            row[END] = middle
            row[APAR] = alice_left
        else:
            row[NODE] = 2 * row[NODE] + 1
            row[START] = middle
            row[APAR] = row[APAR] ^ alice_left
        work[num_work] = row
        num_work += 1
    for index in range(new_blocks.size):
        q = new_passes[index]
        block = new_blocks[index]
        slot = offsets[q] + block
        if searching[slot]:
            continue
        searching[slot] = 1
        row = work[num_work]
        row[PASS] = q
        row[BLOCK] = block
        _restart(row, bounds[q], alice_par[slot])
        num_work += 1

    parked = np.empty((capacity, _COLUMNS), dtype=np.int64)
    num_parked = 0
    corrections = 0
    while num_work > 0:
        num_work -= 1
        row = work[num_work].copy()
        q = row[PASS]
        slot_q = offsets[q] + row[BLOCK]
        tree_q = trees[q]
        if corrections > 0 and _range_parity(tree_q, row[START], row[END]) == row[APAR]:
            if bob_par[slot_q] == alice_par[slot_q]:
                searching[slot_q] = 0
                continue
            _restart(row, bounds[q], alice_par[slot_q])
        if _descend(row, tree_q, caches[q], spans[q], use_cache) == 0:
            parked = _room(parked, num_parked)
            parked[num_parked] = row
            parked_at[slot_q] = num_parked
            num_parked += 1
            continue
        bit = orders[q][row[START]]
        key[bit] ^= 1
        corrections += 1
        searching[slot_q] = 0
        halves = mask_bits[bit]
        for r in range(num_passes):
            if lazy[r]:
                block = np.int64((halves >> np.uint64(r)) & np.uint64(1))
            else:
                position = positions[r][bit]
                _flip(trees[r], position)
                block = _block_at(bounds[r], position)
            slot = offsets[r] + block
            bob_par[slot] ^= 1
            if searching[slot]:
                parked_slot = parked_at[slot]
                if (
                    parked_slot >= 0
                    and _range_parity(trees[r], parked[parked_slot, START], parked[parked_slot, END])
                    == parked[parked_slot, APAR]
                ):
                    work = _room(work, num_work)
                    work[num_work] = parked[parked_slot]
                    num_work += 1
                    parked[parked_slot, PASS] = -1
                    parked_at[slot] = -1
            elif bob_par[slot] != alice_par[slot]:
                if lazy[r]:
                    materialise(
                        r, key, orders, positions, trees, bounds, caches, alice_par, offsets, spans, mask_bits, lazy
                    )
                searching[slot] = 1
                work = _room(work, num_work)
                fresh = work[num_work]
                fresh[PASS] = r
                fresh[BLOCK] = block
                _restart(fresh, bounds[r], alice_par[slot])
                num_work += 1
    kept = 0
    for index in range(num_parked):
        if parked[index, PASS] < 0:
            continue
        parked_at[offsets[parked[index, PASS]] + parked[index, BLOCK]] = -1
        parked[kept] = parked[index]
        kept += 1
    return parked[:kept].copy(), corrections


@numba.njit(cache=True)
def _new_list(prototype):
    items = List()
    items.append(prototype)
    items.pop()
    return items


@numba.njit(cache=True)
def push(items, array) -> None:
    """Append ``array`` to a typed list (compiled and cached, unlike typed-list methods called from Python)."""
    items.append(array)


@numba.njit(cache=True)
def replace(items, index, array) -> None:
    """``items[index] = array`` for a typed list (compiled and cached)."""
    items[index] = array


def typed_list(dtype: type) -> List:
    """An empty numba typed list of 1-D arrays of ``dtype``, built by a cached compiled function."""
    return _new_list(np.zeros(1, dtype=dtype))
