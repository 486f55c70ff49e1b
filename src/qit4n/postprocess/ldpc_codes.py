"""Quasi-cyclic PEG LDPC codes from published BSC degree distributions, and layered sum-product
and normalised min-sum syndrome decoders.

A code of rate ``R`` takes the variable-node degree distribution that Elkouss et al. (2009)
optimised for the BSC at that rate (:mod:`qit4n.postprocess.ldpc_distributions`), builds a base
graph of ``n / Z`` columns by progressive edge growth and lifts each base edge to a ``Z x Z``
circulant permutation whose shift closes no 4-cycle (:mod:`qit4n.postprocess.ldpc_peg`). Codes
are cached in-process (``lru_cache``), and are a deterministic function of
``(num_variables, rate, lift, seed)``.

Decoding with side information: Bob's bits ``y`` are Alice's ``x`` through a binary symmetric
channel; Alice sends the syndrome ``s = H x``; Bob runs belief propagation on the Tanner graph
with channel log-likelihood ratios ``(1 - 2 y) ln((1 - q) / q)`` and each check's sign flipped by
its syndrome bit, until the hard decision satisfies every check. Both decoders use a layered
(block-row serial) schedule, which needs about half the iterations of flooding, and update the
``Z`` checks of a block row together in SIMD lanes (:mod:`qit4n.postprocess.ldpc_kernels`).

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
from functools import cached_property, lru_cache

import numpy as np

from qit4n.errors import ParameterError
from qit4n.postprocess import ldpc_kernels
from qit4n.postprocess.ldpc_distributions import DISTRIBUTIONS, node_degree_counts
from qit4n.postprocess.ldpc_peg import circulant_shifts, peg_base_graph

__all__ = ["LdpcCode", "build_code", "decode_min_sum", "decode_sum_product", "posterior_llr", "syndrome"]


@dataclass(frozen=True)
class LdpcCode:
    """Quasi-cyclic parity-check matrix, ``num_checks x num_variables``: the base graph's edges
    sorted by block row (``row_start``), their block columns and circulant shifts, and the lift ``Z``.
    Lifted edge ``e Z + k`` joins check ``row(e) Z + k`` and variable ``column(e) Z + (k + shift(e)) mod Z``."""

    num_variables: int
    num_checks: int
    lift: int
    row_start: np.ndarray
    block_column: np.ndarray
    block_shift: np.ndarray

    @property
    def rate(self) -> float:
        """Design rate ``1 - m / n``."""
        return 1.0 - self.num_checks / self.num_variables

    @property
    def num_edges(self) -> int:
        """Edges of the lifted graph (one check-to-variable message each)."""
        return self.block_column.size * self.lift

    @cached_property
    def check_of_edge(self) -> np.ndarray:
        """Check of every lifted edge, in message order."""
        rows = np.repeat(np.arange(self.row_start.size - 1), np.diff(self.row_start))
        return (rows[:, None] * self.lift + np.arange(self.lift)[None, :]).ravel()

    @cached_property
    def variable_of_edge(self) -> np.ndarray:
        """Variable of every lifted edge, in message order."""
        lanes = np.arange(self.lift)[None, :]
        return (self.block_column[:, None] * self.lift + (lanes + self.block_shift[:, None]) % self.lift).ravel()

    def _graph(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        return self.row_start, self.block_column, self.block_shift, self.lift


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
    checks, variables = peg_base_graph(degrees, base_checks, seed)
    shifts = circulant_shifts(checks, variables, base_checks, base_variables, lift, seed)
    order = np.lexsort((variables, checks))
    row_start = np.searchsorted(checks[order], np.arange(base_checks + 1)).astype(np.int64)
    return LdpcCode(
        num_variables,
        base_checks * lift,
        lift,
        row_start,
        variables[order].astype(np.int64),
        shifts[order].astype(np.int64),
    )


def syndrome(code: LdpcCode, bits: np.ndarray) -> np.ndarray:
    """``H x`` over GF(2)."""
    return ldpc_kernels.syndrome_bits(np.ascontiguousarray(bits, dtype=np.uint8), *code._graph())


def posterior_llr(code: LdpcCode, llr: np.ndarray, messages: np.ndarray) -> np.ndarray:
    """Channel LLRs plus the incoming check-to-variable ``messages``: the decoder's beliefs, float32."""
    return ldpc_kernels.accumulate_posterior(np.asarray(llr, dtype=np.float32), messages, *code._graph())


def _decode(
    code: LdpcCode,
    llr: np.ndarray,
    target: np.ndarray,
    max_iterations: int,
    messages: np.ndarray | None,
    patience: int,
    rule: int,
    alpha: float,
) -> tuple[np.ndarray, int, bool]:
    if messages is None:
        messages = np.zeros(code.num_edges, np.float32)
    elif messages.dtype != np.float32 or messages.size != code.num_edges:
        raise ParameterError(
            f"messages: must be {code.num_edges} float32 values, one per edge (got {messages.size} {messages.dtype})"
        )
    posterior = posterior_llr(code, llr, messages)
    target_sign = (1.0 - 2.0 * np.asarray(target, dtype=np.float32)).astype(np.float32)
    iterations, converged = ldpc_kernels.layered_decode(
        posterior, target_sign, *code._graph(), max_iterations, messages, patience, rule, np.float32(alpha)
    )
    return (posterior < 0).astype(np.uint8), iterations, converged


def decode_sum_product(
    code: LdpcCode,
    llr: np.ndarray,
    target: np.ndarray,
    max_iterations: int = 80,
    messages: np.ndarray | None = None,
    patience: int = 1000,
) -> tuple[np.ndarray, int, bool]:
    """Layered sum-product decoding towards syndrome ``target``: ``(bits, iterations, converged)``.

    The check rule is the exact tanh rule (evaluated in float32 with vectorised exponential and
    logarithm). ``messages`` (float32, one per edge, :attr:`LdpcCode.num_edges`) are updated in
    place, so a later call (with more reliable ``llr``) continues where this one stopped.
    Decoding gives up early when the number of unsatisfied checks has not reached a new low for
    ``patience`` iterations.

    >>> code = build_code(2048, 0.5, lift=16)
    >>> x = np.zeros(2048, np.uint8); y = x.copy(); y[::25] = 1
    >>> bits, _, converged = decode_sum_product(code, (1.0 - 2.0 * y) * 3.0, syndrome(code, x))
    >>> converged, int(bits.sum())
    (True, 0)
    """
    return _decode(code, llr, target, max_iterations, messages, patience, ldpc_kernels.SUM_PRODUCT, 1.0)


def decode_min_sum(
    code: LdpcCode,
    llr: np.ndarray,
    target: np.ndarray,
    max_iterations: int = 80,
    alpha: float = 0.7,
    messages: np.ndarray | None = None,
    patience: int = 1000,
) -> tuple[np.ndarray, int, bool]:
    """Layered normalised min-sum decoding towards syndrome ``target``: ``(bits, iterations, converged)``.

    About as costly per edge as sum-product in the block-row kernel and further from capacity on
    these high-degree codes;
    ``messages`` and ``patience`` work as in :func:`decode_sum_product`.

    >>> code = build_code(2048, 0.5, lift=4)
    >>> x = np.zeros(2048, np.uint8); y = x.copy(); y[::50] = 1
    >>> bits, _, converged = decode_min_sum(code, (1.0 - 2.0 * y) * 3.0, syndrome(code, x))
    >>> converged, int(bits.sum())
    (True, 0)
    """
    return _decode(code, llr, target, max_iterations, messages, patience, ldpc_kernels.MIN_SUM, alpha)
