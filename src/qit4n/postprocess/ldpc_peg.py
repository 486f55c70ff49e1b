"""Progressive edge growth (PEG) on a base graph, lifted to a quasi-cyclic parity-check matrix.

PEG (Hu, Eleftheriou and Arnold 2005) places the edges of each variable node, lowest degree first,
one at a time: the first edge goes to a check of lowest current degree; each further edge goes to
a lowest-degree check among those the node cannot yet reach in the current graph (or, when the
breadth-first tree spans every check, among those reached last), which keeps local girth large.
Running PEG over every node of a 10^5-bit code costs one breadth-first search of the whole graph
per edge, so the project runs it on a base graph of at most a few thousand columns and lifts each
base edge to a ``Z x Z`` circulant permutation (a quasi-cyclic PEG code: the lift keeps the degree
distribution and never shortens a cycle). Shifts are drawn at random among those that close no
4-cycle in the lifted graph, and the quasi-cyclic structure lets the decoder update the ``Z``
checks of a block row at once (:mod:`qit4n.postprocess.ldpc_kernels`).

References
----------
Hu, X.-Y., Eleftheriou, E. and Arnold, D. M., IEEE Trans. Inf. Theory 51, 386 (2005),
doi:10.1109/TIT.2004.839541 (progressive edge growth).
Fossorier, M. P. C., IEEE Trans. Inf. Theory 50, 1788 (2004), doi:10.1109/TIT.2004.831841
(quasi-cyclic lifting by circulant permutations).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["circulant_shifts", "peg_base_graph"]


@numba.njit(cache=True)
def _better(check, best, chk_deg, tie):
    """Lower current degree wins; ties go to the lower random key."""
    if best < 0 or chk_deg[check] < chk_deg[best]:
        return True
    return chk_deg[check] == chk_deg[best] and tie[check] < tie[best]


@numba.njit(cache=True)
def _peg(degrees, num_checks, capacity, seed):
    np.random.seed(seed)
    num_variables = degrees.size
    max_degree = degrees.max()
    var_adj = np.full((num_variables, max_degree), -1, np.int64)
    chk_adj = np.full((num_checks, capacity), -1, np.int64)
    chk_deg = np.zeros(num_checks, np.int64)
    tie = np.random.random(num_checks)
    chk_seen = np.full(num_checks, -1, np.int64)
    var_seen = np.full(num_variables, -1, np.int64)
    frontier = np.empty(num_variables, np.int64)
    new_checks = np.empty(num_checks, np.int64)
    stamp = 0
    for v in range(num_variables):
        for k in range(degrees[v]):
            stamp += 1
            use_unseen = True
            last_count = 0
            if k > 0:
                var_seen[v] = stamp
                frontier[0] = v
                frontier_size = 1
                seen_total = 0
                while True:
                    count = 0
                    for f in range(frontier_size):
                        u = frontier[f]
                        for j in range(max_degree):
                            c = var_adj[u, j]
                            if c < 0:
                                break
                            if chk_seen[c] != stamp:
                                chk_seen[c] = stamp
                                new_checks[count] = c
                                count += 1
                    if count == 0:
                        break
                    seen_total += count
                    if seen_total == num_checks:
                        use_unseen = False
                        last_count = count
                        break
                    frontier_size = 0
                    for i in range(count):
                        c = new_checks[i]
                        for j in range(chk_deg[c]):
                            u = chk_adj[c, j]
                            if var_seen[u] != stamp:
                                var_seen[u] = stamp
                                frontier[frontier_size] = u
                                frontier_size += 1
                    if frontier_size == 0:
                        break
            best = -1
            if use_unseen:
                for c in range(num_checks):
                    if chk_seen[c] != stamp and chk_deg[c] < capacity and _better(c, best, chk_deg, tie):
                        best = c
            else:
                for i in range(last_count):
                    c = new_checks[i]
                    if chk_deg[c] < capacity and _better(c, best, chk_deg, tie):
                        best = c
            if best < 0:
                for c in range(num_checks):
                    if chk_deg[c] < capacity and chk_seen[c] != stamp:
                        best = c
                        break
            var_adj[v, k] = best
            chk_adj[best, chk_deg[best]] = v
            chk_deg[best] += 1
            tie[best] = np.random.random()
    return var_adj


def peg_base_graph(degrees: np.ndarray, num_checks: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges ``(checks, variables)`` of a PEG graph whose variable ``j`` has degree ``degrees[j]``.

    ``degrees`` must be sorted non-decreasing (PEG places low-degree nodes first) and at most
    ``num_checks``; there are no parallel edges.

    >>> checks, variables = peg_base_graph(np.array([2, 2, 3, 3, 3, 4]), 4, seed=1)
    >>> checks.size, len(set(zip(checks.tolist(), variables.tolist())))
    (17, 17)
    """
    degrees = np.ascontiguousarray(degrees, dtype=np.int64)
    capacity = int(np.ceil(degrees.sum() / num_checks)) * 2 + 8
    var_adj = _peg(degrees, int(num_checks), capacity, int(seed) % (2**31))
    variables, slots = np.nonzero(var_adj >= 0)
    return var_adj[variables, slots], variables


@numba.njit(cache=True)
def _position(check_start, check_variable, check, variable):
    """Index of edge ``(check, variable)`` in the check-sorted arrays (binary search), or -1."""
    low = check_start[check]
    high = check_start[check + 1]
    while low < high:
        middle = (low + high) // 2
        if check_variable[middle] < variable:
            low = middle + 1
        else:
            high = middle
    return low if low < check_start[check + 1] and check_variable[low] == variable else -1


@numba.njit(cache=True)
def _four_cycle_free_shifts(
    checks,
    variables,
    position_of_edge,
    check_start,
    check_variable,
    variable_start,
    variable_check,
    variable_position,
    lift,
    seed,
):
    np.random.seed(seed)
    edges = checks.size
    shift_at = np.full(edges, -1, np.int64)
    forbidden = np.zeros(lift, np.int64)
    shifts = np.empty(edges, np.int64)
    for edge in range(edges):
        check = checks[edge]
        variable = variables[edge]
        stamp = edge + 1
        for i in range(check_start[check], check_start[check + 1]):
            other_variable = check_variable[i]
            across = shift_at[i]
            if other_variable == variable or across < 0:
                continue
            for j in range(variable_start[variable], variable_start[variable + 1]):
                other_check = variable_check[j]
                down = shift_at[variable_position[j]]
                if other_check == check or down < 0:
                    continue
                corner = _position(check_start, check_variable, other_check, other_variable)
                if corner >= 0 and shift_at[corner] >= 0:
                    forbidden[(across - shift_at[corner] + down) % lift] = stamp
        free = 0
        for shift in range(lift):
            free += forbidden[shift] != stamp
        pick = np.random.randint(max(free, 1))
        chosen = pick
        if free > 0:
            for shift in range(lift):
                if forbidden[shift] != stamp:
                    if pick == 0:
                        chosen = shift
                        break
                    pick -= 1
        shift_at[position_of_edge[edge]] = chosen
        shifts[edge] = chosen
    return shifts


def circulant_shifts(
    checks: np.ndarray, variables: np.ndarray, num_checks: int, num_variables: int, lift: int, seed: int
) -> np.ndarray:
    """A circulant shift for every base edge, chosen at random among those that close no 4-cycle
    in the lifted graph (Fossorier 2004: base edges ``(c1, v1), (c1, v2), (c2, v2), (c2, v1)`` lift
    to 4-cycles iff ``s11 - s12 + s22 - s21 = 0 mod Z``); random when every shift closes one.
    Check ``c Z + k`` then meets variable ``v Z + (k + shift) mod Z``.

    >>> checks, variables = peg_base_graph(np.full(64, 3), 32, seed=1)
    >>> shifts = circulant_shifts(checks, variables, 32, 64, 16, seed=1)
    >>> shifts.shape == checks.shape, bool(shifts.min() >= 0), bool(shifts.max() < 16)
    (True, True, True)
    """
    checks = np.ascontiguousarray(checks, dtype=np.int64)
    variables = np.ascontiguousarray(variables, dtype=np.int64)
    by_check = np.lexsort((variables, checks))
    position_of_edge = np.empty(checks.size, np.int64)
    position_of_edge[by_check] = np.arange(checks.size)
    by_variable = np.lexsort((checks, variables))
    check_start = np.concatenate(([0], np.cumsum(np.bincount(checks, minlength=num_checks)))).astype(np.int64)
    variable_start = np.concatenate(([0], np.cumsum(np.bincount(variables, minlength=num_variables)))).astype(np.int64)
    return _four_cycle_free_shifts(
        checks,
        variables,
        position_of_edge,
        check_start,
        variables[by_check],
        variable_start,
        checks[by_variable],
        position_of_edge[by_variable],
        int(lift),
        int(seed) % (2**31),
    )
