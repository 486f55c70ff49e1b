"""Quasi-cyclic LDPC codes built by the project, and sum-product and normalised min-sum syndrome
decoders (numba).

A code is a random base matrix lifted by circulant permutations of size ``Z``: every nonzero base
entry ``(i, j)`` with shift ``t`` connects check ``i Z + r`` to variable ``j Z + (r + t) mod Z``.
The base matrix starts with a degree-2 staircase (as in the IEEE 802.16e codes: degree-2 nodes
form paths, never cycles, which matters at high rate where there are few rows) and continues with
columns of degree 3 and 16 on the least-loaded rows, with uniform circulant shifts. The profile
was chosen by trial decoding at rates 0.64 and 0.83 (it decodes within about 11 % of capacity on
2^17-bit frames), not optimised by density evolution.

Decoding with side information: Bob's bits ``y`` are Alice's ``x`` through a binary symmetric
channel; Alice sends the syndrome ``s = H x``; Bob runs min-sum on the Tanner graph with channel
log-likelihood ratios ``(1 - 2 y) ln((1 - q) / q)`` and each check's sign flipped by its syndrome
bit, until the hard decision satisfies every check.

References
----------
Kschischang, F. R., Frey, B. J. and Loeliger, H.-A., IEEE Trans. Inf. Theory 47, 498 (2001),
doi:10.1109/18.910572 (sum-product).
Chen, J. and Fossorier, M. P. C., IEEE Trans. Commun. 50, 406 (2002), doi:10.1109/26.990903
(normalised min-sum).
Fossorier, M. P. C., IEEE Trans. Inf. Theory 50, 1788 (2004), doi:10.1109/TIT.2004.831841 (QC-LDPC).
Elkouss, D., Martinez-Mateo, J. and Martin, V., Quantum Inf. Comput. 11, 226 (2011),
arXiv:1007.1616 (rate-adaptive LDPC reconciliation for QKD).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import math

import numba
import numpy as np

from qit4n.errors import ParameterError

__all__ = ["LdpcCode", "build_code", "syndrome", "decode_min_sum", "decode_sum_product"]

_TANH_LIMIT = 1.0 - 1e-12

#: Share of base columns of degree 2 (a staircase, capped at one less than the base rows).
_STAIRCASE_SHARE = 0.3
#: Node-perspective degree profile of the other columns: (degree, share).
_PROFILE = ((3, 0.7), (16, 0.3))


@dataclass(frozen=True)
class LdpcCode:
    """Parity-check matrix as edge lists sorted by check; ``num_checks x num_variables``."""

    num_variables: int
    num_checks: int
    check_of_edge: np.ndarray
    variable_of_edge: np.ndarray
    check_start: np.ndarray

    @property
    def rate(self) -> float:
        """Design rate ``1 - m / n``."""
        return 1.0 - self.num_checks / self.num_variables


def _base_matrix(base_checks: int, base_variables: int, lift: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """Base entries ``(row, column, shift)``: a degree-2 staircase (column ``j`` on rows ``j`` and
    ``j + 1`` with shift 0, so degree-2 nodes form paths and never cycles), then columns of the
    profile's degrees on the least-loaded rows with uniform shifts."""
    stair = min(round(_STAIRCASE_SHARE * base_variables), base_checks - 1)
    entries = [(j + step, j, 0) for j in range(stair) for step in (0, 1)]
    load = np.zeros(base_checks)
    for row, _, _ in entries:
        load[row] += 1
    rest = base_variables - stair
    shares = np.array([share for _, share in _PROFILE])
    counts = np.floor(shares * rest).astype(int)
    counts[int(np.argmax(shares))] += rest - counts.sum()
    weights = np.repeat([min(degree, base_checks) for degree, _ in _PROFILE], counts)
    rng.shuffle(weights)
    for column, weight in enumerate(weights):
        rows = np.argsort(load + 0.5 * rng.random(base_checks))[:weight]
        load[rows] += 1
        entries.extend((int(row), stair + column, int(rng.integers(lift))) for row in rows)
    return entries


@lru_cache(maxsize=16)
def build_code(num_variables: int, rate: float, lift: int = 512, seed: int = 2011) -> LdpcCode:
    """A QC-LDPC code with ``num_variables`` (a multiple of ``lift``) and design rate ``rate``.

    >>> code = build_code(4096, 0.5, lift=128)
    >>> code.num_variables, code.num_checks
    (4096, 2048)
    """
    if num_variables % lift or num_variables < 4 * lift:
        raise ParameterError(f"num_variables = {num_variables}: must be a multiple of lift = {lift} and >= {4 * lift}")
    if not 0.05 <= rate <= 0.95:
        raise ParameterError(f"rate = {rate}: must be in [0.05, 0.95]")
    rng = np.random.default_rng(seed)
    base_variables = num_variables // lift
    base_checks = max(2, round((1.0 - rate) * base_variables))
    entries = _base_matrix(base_checks, base_variables, lift, rng)
    rows = np.array([row for row, _, _ in entries])
    columns = np.array([column for _, column, _ in entries])
    shifts = np.array([shift for _, _, shift in entries])
    offsets = np.arange(lift)
    checks = (rows[:, None] * lift + offsets[None, :]).ravel()
    variables = (columns[:, None] * lift + (offsets[None, :] + shifts[:, None]) % lift).ravel()
    order = np.lexsort((variables, checks))
    checks, variables = checks[order].astype(np.int64), variables[order].astype(np.int64)
    num_checks = base_checks * lift
    check_start = np.searchsorted(checks, np.arange(num_checks + 1)).astype(np.int64)
    return LdpcCode(num_variables, num_checks, checks, variables, check_start)


@numba.njit(cache=True)
def _syndrome(bits, variable_of_edge, check_start):
    num_checks = check_start.size - 1
    out = np.zeros(num_checks, dtype=np.uint8)
    for check in range(num_checks):
        acc = np.uint8(0)
        for edge in range(check_start[check], check_start[check + 1]):
            acc ^= bits[variable_of_edge[edge]]
        out[check] = acc
    return out


def syndrome(code: LdpcCode, bits: np.ndarray) -> np.ndarray:
    """``H x`` over GF(2)."""
    return _syndrome(np.ascontiguousarray(bits, dtype=np.uint8), code.variable_of_edge, code.check_start)


@numba.njit(cache=True)
def _min_sum(llr, target, variable_of_edge, check_start, max_iterations, alpha):
    num_checks = check_start.size - 1
    num_variables = llr.size
    edges = variable_of_edge.size
    c2v = np.zeros(edges)
    v2c = np.empty(edges)
    posterior = llr.copy()
    decision = np.empty(num_variables, dtype=np.uint8)
    for iteration in range(max_iterations):
        for edge in range(edges):
            v2c[edge] = posterior[variable_of_edge[edge]] - c2v[edge]
        for variable in range(num_variables):
            posterior[variable] = llr[variable]
        for check in range(num_checks):
            low = 1e300
            second = 1e300
            where = -1
            negative = target[check]
            for edge in range(check_start[check], check_start[check + 1]):
                value = v2c[edge]
                if value < 0:
                    negative ^= 1
                    value = -value
                if value < low:
                    second = low
                    low = value
                    where = edge
                elif value < second:
                    second = value
            for edge in range(check_start[check], check_start[check + 1]):
                magnitude = alpha * (second if edge == where else low)
                sign = negative ^ (1 if v2c[edge] < 0 else 0)
                message = -magnitude if sign else magnitude
                c2v[edge] = message
                posterior[variable_of_edge[edge]] += message
        for variable in range(num_variables):
            decision[variable] = 1 if posterior[variable] < 0 else 0
        satisfied = True
        for check in range(num_checks):
            acc = np.uint8(0)
            for edge in range(check_start[check], check_start[check + 1]):
                acc ^= decision[variable_of_edge[edge]]
            if acc != target[check]:
                satisfied = False
                break
        if satisfied:
            return decision, iteration + 1, True
    return decision, max_iterations, False


@numba.njit(cache=True)
def _sum_product(llr, target, variable_of_edge, check_start, max_iterations, c2v):
    num_checks = check_start.size - 1
    num_variables = llr.size
    edges = variable_of_edge.size
    halves = np.empty(edges)
    posterior = llr.copy()
    for edge in range(edges):
        posterior[variable_of_edge[edge]] += c2v[edge]
    decision = np.empty(num_variables, dtype=np.uint8)
    for iteration in range(max_iterations):
        for edge in range(edges):
            value = posterior[variable_of_edge[edge]] - c2v[edge]
            value = min(max(value, -30.0), 30.0)
            halves[edge] = math.tanh(0.5 * value)
        for variable in range(num_variables):
            posterior[variable] = llr[variable]
        for check in range(num_checks):
            first = check_start[check]
            last = check_start[check + 1]
            product = -1.0 if target[check] else 1.0
            for edge in range(first, last):
                c2v[edge] = product
                product *= halves[edge]
            product = 1.0
            for edge in range(last - 1, first - 1, -1):
                value = min(max(c2v[edge] * product, -_TANH_LIMIT), _TANH_LIMIT)
                product *= halves[edge]
                message = 2.0 * math.atanh(value)
                c2v[edge] = message
                posterior[variable_of_edge[edge]] += message
        for variable in range(num_variables):
            decision[variable] = 1 if posterior[variable] < 0 else 0
        satisfied = True
        for check in range(num_checks):
            acc = np.uint8(0)
            for edge in range(check_start[check], check_start[check + 1]):
                acc ^= decision[variable_of_edge[edge]]
            if acc != target[check]:
                satisfied = False
                break
        if satisfied:
            return decision, iteration + 1, True
    return decision, max_iterations, False


def decode_sum_product(
    code: LdpcCode, llr: np.ndarray, target: np.ndarray, max_iterations: int = 80, messages: np.ndarray | None = None
) -> tuple[np.ndarray, int, bool]:
    """Sum-product (tanh rule) decoding towards syndrome ``target``: ``(bits, iterations, converged)``.

    Each check's outgoing messages use prefix and suffix products of the incoming ``tanh(L/2)``,
    so no division by a small value is needed. ``messages`` (check-to-variable, one per edge) are
    updated in place, so a later call continues where this one stopped (warm start).
    """
    state = np.zeros(code.variable_of_edge.size) if messages is None else messages
    return _sum_product(np.ascontiguousarray(llr, dtype=np.float64), np.ascontiguousarray(target, dtype=np.uint8),
                        code.variable_of_edge, code.check_start, max_iterations, state)


def decode_min_sum(code: LdpcCode, llr: np.ndarray, target: np.ndarray, max_iterations: int = 80, alpha: float = 0.8) -> tuple[np.ndarray, int, bool]:
    """Normalised min-sum decoding towards syndrome ``target``: ``(bits, iterations, converged)``."""
    return _min_sum(np.ascontiguousarray(llr, dtype=np.float64), np.ascontiguousarray(target, dtype=np.uint8),
                    code.variable_of_edge, code.check_start, max_iterations, alpha)
