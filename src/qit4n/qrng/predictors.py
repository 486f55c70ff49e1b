"""The four predictors of SP 800-90B (sections 6.3.7 to 6.3.10) as numba kernels.

Each kernel walks the samples once and returns the correct-prediction flags of its ensemble
predictor (the sub-predictor with the best score so far, ties going to the one updated last).
Contexts of length ``d`` are numbered once per length (:func:`context_ids`) so the Markov-model
and LZ78Y dictionaries become open-addressing tables of integer keys.

References
----------
NIST SP 800-90B, "Recommendation for the Entropy Sources Used for Random Bit Generation" (2018),
sections 6.3.7 (MultiMCW), 6.3.8 (lag), 6.3.9 (MultiMMC), 6.3.10 (LZ78Y),
doi:10.6028/NIST.SP.800-90B.
Kelsey, J., McKay, K. A. and Sonmez Turan, M., "Predictive models for min-entropy estimation",
CHES 2015, LNCS 9293, 373, doi:10.1007/978-3-662-48324-4_19.
"""

from __future__ import annotations

from collections.abc import Iterator

import numba
import numpy as np

__all__ = ["context_ids", "lag_correct", "lz78y_correct", "multi_mcw_correct", "multi_mmc_correct"]

MCW_WINDOWS = (63, 255, 1023, 4095)
LAG_DEPTH = 128
MMC_DEPTH = 16
MMC_MAX_ENTRIES = 100_000
LZ78Y_DEPTH = 16
LZ78Y_MAX_DICTIONARY = 65_536

_EMPTY = -1


@numba.njit(cache=True, nogil=True)
def _hash(key, mask):
    return ((key * 0x9E3779B97F4A7C15) >> 17) & mask


@numba.njit(cache=True, nogil=True)
def _extend_ids(previous, symbols, alphabet, shift):
    """Ids of the contexts ``previous`` one symbol longer: ``(previous[i - 1], symbols[i])`` numbered
    in order of first appearance; ``-1`` where the context would start before the data."""
    n = symbols.size
    size = 1
    while size < 2 * n + 2:
        size *= 2
    mask = size - 1
    keys = np.full(size, _EMPTY, dtype=np.int64)
    values = np.empty(size, dtype=np.int64)
    ids = np.full(n, _EMPTY, dtype=np.int64)
    count = 0
    for i in range(shift, n):
        head = previous[i - 1]
        if head < 0:
            continue
        key = head * alphabet + symbols[i]
        slot = _hash(key, mask)
        while keys[slot] != _EMPTY and keys[slot] != key:
            slot = (slot + 1) & mask
        if keys[slot] == _EMPTY:
            keys[slot] = key
            values[slot] = count
            count += 1
        ids[i] = values[slot]
    return ids


def context_ids(symbols: np.ndarray, depth: int) -> Iterator[np.ndarray]:
    """For ``d = 1 .. depth``: ``ids[i]`` numbers the context ``symbols[i - d + 1 .. i]`` (equal contexts
    get equal numbers), ``-1`` where ``i < d - 1``. Binary contexts are their bits read as a number."""
    data = np.ascontiguousarray(symbols, dtype=np.int64)
    alphabet = int(data.max()) + 1 if data.size else 1
    ids = data.copy()
    yield ids
    for d in range(2, depth + 1):
        if alphabet <= 2:
            longer = np.full(data.size, _EMPTY, dtype=np.int64)
            longer[d - 1 :] = ids[d - 2 : -1] * 2 + data[d - 1 :]
            ids = longer
        else:
            ids = _extend_ids(ids, data, alphabet, d - 1)
        yield ids


@numba.njit(cache=True, nogil=True)
def _window_mode(window, counts, newest, size, top):
    """The most common value among the last ``size`` samples ending at ``newest`` whose count is
    ``top``, the most recent one on ties."""
    for back in range(size):
        value = window[newest - back]
        if counts[value] == top:
            return value
    return -1


@numba.njit(cache=True, nogil=True)
def multi_mcw_correct(symbols, alphabet):
    """Correct flags of the most-common-in-window ensemble (windows 63, 255, 1023, 4095)."""
    n = symbols.size
    windows = np.array(MCW_WINDOWS, dtype=np.int64)
    num = windows.size
    counts = np.zeros((num, alphabet), dtype=np.int64)
    histogram = np.zeros((num, windows[-1] + 2), dtype=np.int64)
    top = np.zeros(num, dtype=np.int64)
    mode = np.full(num, -1, dtype=np.int64)
    scores = np.zeros(num, dtype=np.int64)
    winner = 0
    first = windows[0]
    correct = np.zeros(max(n - first, 0), dtype=np.bool_)
    for i in range(n):
        value = symbols[i]
        if i >= first:
            prediction = mode[winner]
            correct[i - first] = prediction == value
            for j in range(num):
                if i >= windows[j] and mode[j] == value:
                    scores[j] += 1
                    if scores[j] >= scores[winner]:
                        winner = j
        for j in range(num):
            c = counts[j]
            h = histogram[j]
            w = windows[j]
            old = -1
            if i >= w:
                old = symbols[i - w]
                h[c[old]] -= 1
                c[old] -= 1
                h[c[old]] += 1
                if h[top[j]] == 0:
                    top[j] -= 1
            h[c[value]] -= 1
            c[value] += 1
            h[c[value]] += 1
            if c[value] >= top[j]:
                top[j] = c[value]
                mode[j] = value
            elif old >= 0 and (mode[j] == old or c[mode[j]] != top[j]):
                mode[j] = _window_mode(symbols, c, i, min(w, i + 1), top[j])
    return correct


@numba.njit(cache=True, nogil=True)
def lag_correct(symbols):
    """Correct flags of the lag ensemble (lags 1 to 128)."""
    n = symbols.size
    scores = np.zeros(LAG_DEPTH + 1, dtype=np.int64)
    winner = 1
    correct = np.zeros(max(n - 1, 0), dtype=np.bool_)
    for i in range(1, n):
        value = symbols[i]
        correct[i - 1] = symbols[i - winner] == value
        # Branch-free: on random data every other comparison would be mispredicted.
        for d in range(1, min(LAG_DEPTH, i) + 1):
            hit = symbols[i - d] == value
            scores[d] += hit
            winner = d if hit & (scores[d] >= scores[winner]) else winner
    return correct


@numba.njit(cache=True, nogil=True)
def _find(keys, key, mask):
    slot = _hash(key, mask)
    while keys[slot] != _EMPTY and keys[slot] != key:
        slot = (slot + 1) & mask
    return slot


@numba.njit(cache=True, nogil=True)
def _slot(keys, key, mask, dense):
    """Slot of ``key``: the key itself when ``dense`` (keys below the table size), else by probing."""
    if dense:
        return key
    return _find(keys, key, mask)


@numba.njit(cache=True, nogil=True)
def _markov_hits(symbols, ids, alphabet, dense_size):
    """``hits[i - 2]``: whether one Markov model predicts ``symbols[i]`` (the most frequent follower
    of the context ``ids[i - 1]``, the largest symbol on ties; at most 100,000 entries). With
    ``dense_size > 0`` every context id and pair key is below it and indexes the tables directly."""
    n = symbols.size
    dense = dense_size > 0
    size = dense_size
    if not dense:
        size = 1
        while size < 4 * MMC_MAX_ENTRIES:
            size *= 2
    mask = size - 1
    pair_keys = np.full(size, _EMPTY, dtype=np.int64)
    pair_counts = np.zeros(size, dtype=np.int64)
    context_keys = np.full(size, _EMPTY, dtype=np.int64)
    best_value = np.full(size, -1, dtype=np.int64)
    best_count = np.zeros(size, dtype=np.int64)
    entries = 0
    hits = np.zeros(max(n - 2, 0), dtype=np.bool_)
    for i in range(2, n):
        context = ids[i - 2]
        if context >= 0:
            following = symbols[i - 1]
            key = context * alphabet + following
            slot = _slot(pair_keys, key, mask, dense)
            if pair_keys[slot] != _EMPTY or entries < MMC_MAX_ENTRIES:
                if pair_keys[slot] == _EMPTY:
                    pair_keys[slot] = key
                    entries += 1
                pair_counts[slot] += 1
                count = pair_counts[slot]
                cslot = _slot(context_keys, context, mask, dense)
                context_keys[cslot] = context
                if count > best_count[cslot] or (count == best_count[cslot] and following > best_value[cslot]):
                    best_count[cslot] = count
                    best_value[cslot] = following
        context = ids[i - 1]
        if context >= 0:
            cslot = _slot(context_keys, context, mask, dense)
            if context_keys[cslot] != _EMPTY:
                hits[i - 2] = best_value[cslot] == symbols[i]
    return hits


@numba.njit(cache=True, nogil=True)
def _ensemble(hits, num):
    """Correct flags of the ensemble that follows the sub-predictor with the most hits so far
    (ties to the later one); bit ``d`` of ``hits[i]`` says whether sub-predictor ``d`` hit."""
    scores = np.zeros(num, dtype=np.int64)
    winner = 0
    correct = np.zeros(hits.size, dtype=np.bool_)
    for i in range(hits.size):
        word = hits[i]
        correct[i] = (word >> winner) & 1
        for d in range(num):
            hit = (word >> d) & 1
            scores[d] += hit
            winner = d if (hit == 1) & (scores[d] >= scores[winner]) else winner
    return correct


def multi_mmc_correct(symbols: np.ndarray, alphabet: int) -> np.ndarray:
    """Correct flags of the multi-Markov-model ensemble (orders 1 to 16, 100,000 entries each);
    symbols lie in ``[0, alphabet)``."""
    data = np.ascontiguousarray(symbols, dtype=np.int64)
    hits = np.zeros(max(data.size - 2, 0), dtype=np.uint16)
    for d, ids in enumerate(context_ids(data, MMC_DEPTH)):
        dense_size = alphabet ** (d + 2) if alphabet <= 2 else 0
        hits |= _markov_hits(data, ids, alphabet, dense_size).astype(np.uint16) << np.uint16(d)
    return _ensemble(hits, MMC_DEPTH)


@numba.njit(cache=True, nogil=True)
def lz78y_correct(symbols, alphabet):
    """Correct flags of the LZ78Y predictor (contexts up to 16 symbols, 65,536 dictionary entries;
    the prediction is the most frequent follower of the dictionary context with the highest count,
    the longest such context on ties, as the reference implementation does).

    The dictionary is a trie read backwards from the newest symbol: the node of a context of
    length ``j`` is the child of its length ``j - 1`` suffix; ``member`` marks the nodes that are
    dictionary entries (a node may exist only as the path to a longer entry)."""
    n = symbols.size
    max_nodes = LZ78Y_DEPTH * LZ78Y_MAX_DICTIONARY + 1
    dense = alphabet * max_nodes <= 1 << 22
    size = alphabet * max_nodes if dense else 1 << 22
    mask = size - 1
    child_keys = np.full(size, _EMPTY, dtype=np.int64)
    child_node = np.zeros(size, dtype=np.int64)
    member = np.zeros(max_nodes, dtype=np.bool_)
    best_value = np.full(max_nodes, -1, dtype=np.int64)
    best_count = np.zeros(max_nodes, dtype=np.int64)
    pair_keys = np.full(size, _EMPTY, dtype=np.int64)
    pair_counts = np.zeros(size, dtype=np.int64)
    path = np.zeros(LZ78Y_DEPTH + 1, dtype=np.int64)
    nodes = 1
    entries = 0
    start = LZ78Y_DEPTH + 1
    correct = np.zeros(max(n - start, 0), dtype=np.bool_)
    for i in range(start, n):
        following = symbols[i - 1]
        node = 0
        for j in range(1, LZ78Y_DEPTH + 1):
            key = node * alphabet + symbols[i - 1 - j]
            slot = _slot(child_keys, key, mask, dense)
            if child_keys[slot] == _EMPTY:
                if entries >= LZ78Y_MAX_DICTIONARY:
                    path[j] = -1
                    node = -1
                    break
                child_keys[slot] = key
                child_node[slot] = nodes
                nodes += 1
            node = child_node[slot]
            path[j] = node
        depth = LZ78Y_DEPTH if node >= 0 else j - 1
        for j in range(depth, 0, -1):
            node = path[j]
            if not member[node]:
                if entries >= LZ78Y_MAX_DICTIONARY:
                    continue
                member[node] = True
                entries += 1
            pair = node * alphabet + following
            pslot = _slot(pair_keys, pair, mask, dense)
            pair_keys[pslot] = pair
            pair_counts[pslot] += 1
            count = pair_counts[pslot]
            if count > best_count[node] or (count == best_count[node] and following > best_value[node]):
                best_count[node] = count
                best_value[node] = following
        prediction = -1
        top = 0
        node = 0
        depth = 0
        for j in range(1, LZ78Y_DEPTH + 1):
            slot = _slot(child_keys, node * alphabet + symbols[i - j], mask, dense)
            if child_keys[slot] == _EMPTY:
                break
            node = child_node[slot]
            path[j] = node
            depth = j
        for j in range(depth, 0, -1):
            node = path[j]
            if member[node] and best_count[node] > top:
                top = best_count[node]
                prediction = best_value[node]
        correct[i - start] = prediction == symbols[i]
    return correct
