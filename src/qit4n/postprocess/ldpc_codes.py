"""Quasi-cyclic PEG LDPC codes from published BSC degree distributions, and layered normalised
min-sum and sum-product syndrome decoders (numba).

A code of rate ``R`` takes the variable-node degree distribution that Elkouss et al. (2009)
optimised for the BSC at that rate (:mod:`qit4n.postprocess.ldpc_distributions`), builds a base
graph of ``n / Z`` columns by progressive edge growth and lifts it by ``Z x Z`` circulant
permutations (:mod:`qit4n.postprocess.ldpc_peg`). Codes are cached in-process (``lru_cache``),
and are a deterministic function of ``(num_variables, rate, lift, seed)``.

Decoding with side information: Bob's bits ``y`` are Alice's ``x`` through a binary symmetric
channel; Alice sends the syndrome ``s = H x``; Bob runs belief propagation on the Tanner graph
with channel log-likelihood ratios ``(1 - 2 y) ln((1 - q) / q)`` and each check's sign flipped by
its syndrome bit, until the hard decision satisfies every check. The min-sum decoder uses a
layered (check-serial) schedule, which needs about half the iterations of flooding.

References
----------
Kschischang, F. R., Frey, B. J. and Loeliger, H.-A., IEEE Trans. Inf. Theory 47, 498 (2001),
doi:10.1109/18.910572 (sum-product).
Chen, J. and Fossorier, M. P. C., IEEE Trans. Commun. 50, 406 (2002), doi:10.1109/26.990903
(normalised min-sum).
Hocevar, D. E., IEEE SIPS 2004, 107, doi:10.1109/SIPS.2004.1363033 (layered decoding).
Elkouss, D., Leverrier, A., Alleaume, R. and Boutros, J. J., Proc. IEEE ISIT 2009, 1879,
arXiv:0901.2140 (degree distributions).
Hu, X.-Y., Eleftheriou, E. and Arnold, D. M., IEEE Trans. Inf. Theory 51, 386 (2005),
doi:10.1109/TIT.2004.839541 (progressive edge growth).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

from qit4n.errors import ParameterError
from qit4n.postprocess.ldpc_distributions import DISTRIBUTIONS, node_degree_counts
from qit4n.postprocess.ldpc_peg import lift_circulant, peg_base_graph

__all__ = ["LdpcCode", "build_code", "decode_min_sum", "decode_sum_product", "posterior_llr", "syndrome"]

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


@lru_cache(maxsize=32)
def build_code(num_variables: int, rate: float, lift: int = 64, seed: int = 2009) -> LdpcCode:
    """A QC-PEG LDPC code with ``num_variables`` (a multiple of ``lift``) and one of the published
    design rates 0.5, 0.55, ..., 0.9.

    >>> code = build_code(4096, 0.5, lift=4)
    >>> code.num_variables, code.num_checks
    (4096, 2048)
    """
    if num_variables % lift or num_variables < 16 * lift:
        raise ParameterError(f"num_variables = {num_variables}: must be a multiple of lift = {lift} and >= {16 * lift}")
    rate = round(float(rate), 2)
    if rate not in DISTRIBUTIONS:
        raise ParameterError(f"rate = {rate}: must be one of the published rates {sorted(DISTRIBUTIONS)}")
    base_variables = num_variables // lift
    base_checks = max(2, round((1.0 - rate) * base_variables))
    degrees = node_degree_counts(rate, base_variables, base_checks)
    base_c, base_v = peg_base_graph(degrees, base_checks, seed)
    checks, variables = lift_circulant(base_c, base_v, lift, np.random.default_rng(seed))
    order = np.lexsort((variables, checks))
    checks, variables = checks[order].astype(np.int32), variables[order].astype(np.int32)
    num_checks = base_checks * lift
    check_start = np.searchsorted(checks, np.arange(num_checks + 1)).astype(np.int32)
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
def _satisfied(posterior, target, variable_of_edge, check_start):
    for check in range(check_start.size - 1):
        acc = target[check]
        for edge in range(check_start[check], check_start[check + 1]):
            acc ^= 1 if posterior[variable_of_edge[edge]] < 0 else 0
        if acc:
            return False
    return True


@numba.njit(cache=True, fastmath=True)
def _layered_min_sum(posterior, target, variable_of_edge, check_start, max_iterations, alpha, c2v):
    num_checks = check_start.size - 1
    width = 0
    for check in range(num_checks):
        width = max(width, check_start[check + 1] - check_start[check])
    incoming = np.empty(width, np.float32)
    for iteration in range(max_iterations):
        for check in range(num_checks):
            first = check_start[check]
            last = check_start[check + 1]
            low = np.float32(3e38)
            second = np.float32(3e38)
            where = -1
            negative = target[check]
            for edge in range(first, last):
                value = posterior[variable_of_edge[edge]] - c2v[edge]
                incoming[edge - first] = value
                if value < 0:
                    negative ^= 1
                    value = -value
                if value < low:
                    second = low
                    low = value
                    where = edge
                elif value < second:
                    second = value
            low *= alpha
            second *= alpha
            for edge in range(first, last):
                value = incoming[edge - first]
                magnitude = second if edge == where else low
                message = -magnitude if (negative ^ (1 if value < 0 else 0)) else magnitude
                c2v[edge] = message
                posterior[variable_of_edge[edge]] = value + message
        if _satisfied(posterior, target, variable_of_edge, check_start):
            return iteration + 1, True
    return max_iterations, False


#: Lookup table of ``phi(x) = -ln tanh(x / 2)`` (its own inverse) at bin midpoints, step 1/256 up to 32.
_PHI_SCALE = np.float32(256.0)
_PHI_TABLE = (-np.log(np.tanh(0.5 * (np.arange(32 * 256) + 0.5) / _PHI_SCALE))).astype(np.float32)


@numba.njit(cache=True, fastmath=True)
def _layered_sum_product(posterior, target, variable_of_edge, check_start, max_iterations, c2v, table, scale, patience):
    num_checks = check_start.size - 1
    limit = np.float32((table.size - 1) / scale)
    width = 0
    for check in range(num_checks):
        width = max(width, check_start[check + 1] - check_start[check])
    incoming = np.empty(width, np.float32)
    phis = np.empty(width, np.float32)
    best = num_checks + 1
    best_iteration = 0
    for iteration in range(max_iterations):
        unsatisfied = 0
        for check in range(num_checks):
            first = check_start[check]
            last = check_start[check + 1]
            total = np.float32(0.0)
            negative = target[check]
            for edge in range(first, last):
                value = posterior[variable_of_edge[edge]] - c2v[edge]
                incoming[edge - first] = value
                if value < 0:
                    negative ^= 1
                    value = -value
                phi = table[int(min(value, limit) * scale)]
                phis[edge - first] = phi
                total += phi
            parity = target[check]
            for edge in range(first, last):
                value = incoming[edge - first]
                rest = total - phis[edge - first]
                magnitude = table[int(min(max(rest, np.float32(0.0)), limit) * scale)]
                message = -magnitude if (negative ^ (1 if value < 0 else 0)) else magnitude
                c2v[edge] = message
                value += message
                posterior[variable_of_edge[edge]] = value
                parity ^= 1 if value < 0 else 0
            unsatisfied += parity
        if unsatisfied == 0 and _satisfied(posterior, target, variable_of_edge, check_start):
            return iteration + 1, True
        if unsatisfied < best:
            best = unsatisfied
            best_iteration = iteration
        elif iteration - best_iteration >= patience:
            return iteration + 1, False
    return max_iterations, False


def decode_sum_product(
    code: LdpcCode, llr: np.ndarray, target: np.ndarray, max_iterations: int = 80, messages: np.ndarray | None = None, patience: int = 1000
) -> tuple[np.ndarray, int, bool]:
    """Layered sum-product decoding towards syndrome ``target``: ``(bits, iterations, converged)``.

    The check rule is the exact log-domain one, ``|m_e| = phi(sum_{e' != e} phi(|t_e'|))`` with
    ``phi(x) = -ln tanh(x / 2)`` read from a 8192-entry table (step 1/256), so it costs about as
    much as min-sum. ``messages`` (float32, one per edge) are updated in place (warm start).
    Decoding gives up early when the number of unsatisfied checks (counted as each check is
    updated) has not reached a new low for ``patience`` iterations.
    """
    state = np.zeros(code.variable_of_edge.size, np.float32) if messages is None else messages
    posterior = posterior_llr(code, llr, state)
    iterations, converged = _layered_sum_product(posterior, np.ascontiguousarray(target, dtype=np.uint8), code.variable_of_edge,
                                                 code.check_start, max_iterations, state, _PHI_TABLE, _PHI_SCALE, patience)
    return (posterior < 0).astype(np.uint8), iterations, converged


def posterior_llr(code: LdpcCode, llr: np.ndarray, messages: np.ndarray) -> np.ndarray:
    """Channel LLRs plus the incoming check-to-variable ``messages``: the decoder's beliefs, float32."""
    return (np.asarray(llr, dtype=np.float64) + np.bincount(code.variable_of_edge, weights=messages, minlength=code.num_variables)).astype(np.float32)


def decode_min_sum(
    code: LdpcCode, llr: np.ndarray, target: np.ndarray, max_iterations: int = 80, alpha: float = 0.7, messages: np.ndarray | None = None
) -> tuple[np.ndarray, int, bool]:
    """Layered normalised min-sum decoding towards syndrome ``target``: ``(bits, iterations, converged)``.

    Messages are float32; ``messages`` (check-to-variable, one per edge, float32) are updated in
    place, so a later call (with more reliable ``llr``) continues where this one stopped.

    >>> code = build_code(2048, 0.5, lift=4)
    >>> x = np.zeros(2048, np.uint8); y = x.copy(); y[::50] = 1
    >>> bits, _, converged = decode_min_sum(code, (1.0 - 2.0 * y) * 3.0, syndrome(code, x))
    >>> converged, int(bits.sum())
    (True, 0)
    """
    state = np.zeros(code.variable_of_edge.size, np.float32) if messages is None else messages
    posterior = posterior_llr(code, llr, state)
    iterations, converged = _layered_min_sum(posterior, np.ascontiguousarray(target, dtype=np.uint8), code.variable_of_edge,
                                             code.check_start, max_iterations, np.float32(alpha), state)
    return (posterior < 0).astype(np.uint8), iterations, converged
