"""SP 800-90B entropy assessment: the non-IID track (section 3.1.3), the IID track and the restart tests.

For ``n``-bit samples (``n > 1``) the estimators run on the samples themselves (``H_original``,
the binary-only collision, Markov and compression estimators left out) and on their bitstring,
each sample's bits most significant first (``H_bitstring``, all ten estimators); the initial
entropy estimate is ``H_I = min(H_original, n H_bitstring)``. For binary samples it is the
minimum of all ten. The submitter's own estimate, if any, is a further minimum the caller takes.
Estimators run in threads (their numba kernels release the GIL).

References
----------
NIST SP 800-90B (2018), sections 3.1.3 (initial estimate), 3.1.4 (restart tests), 5 (IID track)
and 6.3 (estimators), doi:10.6028/NIST.SP.800-90B.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import binom

from qit4n.errors import InputError, ParameterError
from qit4n.qrng.estimators import (
    Estimate,
    collision_estimate,
    compression_estimate,
    lag_estimate,
    lrs_estimate,
    lz78y_estimate,
    markov_estimate,
    most_common_value_estimate,
    multi_mcw_estimate,
    multi_mmc_estimate,
    t_tuple_estimate,
)
from qit4n.qrng.streams import read_prefix
from qit4n.qrng.tuples import TupleCounts, tuple_counts
from qit4n.workload import ProgressCallback

__all__ = [
    "NonIidAssessment",
    "RestartAssessment",
    "assess_non_iid",
    "assess_restarts",
    "read_samples",
    "restart_cutoff",
    "to_bitstring",
]

#: SP 800-90B asks for at least a million samples; smaller files are assessed with a warning flag.
RECOMMENDED_SAMPLES = 1_000_000
_RESTART_SHAPE = (1000, 1000)
#: Section 3.1.4.3: a 1% false-reject rate shared by the 2000 rows and columns (Sidak), as the reference tool.
_RESTART_ALPHA = 1.0 - 0.99 ** (1.0 / 2000)


def read_samples(
    path: Path | str, bits_per_symbol: int, *, max_samples: int | None = None, option: str = "FILE"
) -> np.ndarray:
    """Samples stored one per byte, the low ``bits_per_symbol`` bits being the symbol (the reference
    tool's format), from a file, a pipe or FIFO (``/dev/stdin``) read to its end, or a device (which
    needs ``max_samples``); at most ``max_samples`` of them. ``option`` names the path in errors."""
    if not 1 <= bits_per_symbol <= 8:
        raise ParameterError(f"bits_per_symbol = {bits_per_symbol}: must be in [1, 8]")
    if max_samples is not None and max_samples < 2:
        raise ParameterError(f"max_samples = {max_samples}: must be >= 2")
    file = Path(path)
    raw = np.frombuffer(read_prefix(file, option, max_samples), dtype=np.uint8)
    if raw.size < 2:
        raise InputError(f"{option} = {str(file)!r}: {raw.size} samples, needs at least 2 (1,000,000 recommended)")
    return raw & np.uint8((1 << bits_per_symbol) - 1)


def to_bitstring(samples: np.ndarray, bits_per_symbol: int) -> np.ndarray:
    """Each sample's ``bits_per_symbol`` bits, most significant first, as 0/1 bytes."""
    shifts = np.arange(bits_per_symbol - 1, -1, -1, dtype=np.uint8)
    return ((samples[:, None] >> shifts) & np.uint8(1)).astype(np.uint8).ravel()


@dataclass(frozen=True)
class NonIidAssessment:
    """Per-estimator results on the samples (``original``) and their bitstring (``bitstring``, empty
    for binary samples), and the initial entropy estimate ``h_initial`` in bits per sample. An
    estimator that does not apply (t-tuple without a tuple seen 35 times, LRS without a repeat
    that long) reports an infinite entropy (``None`` in :meth:`as_dict`)."""

    bits_per_symbol: int
    num_samples: int
    original: tuple[Estimate, ...]
    bitstring: tuple[Estimate, ...]

    @property
    def h_original(self) -> float:
        return min(e.min_entropy for e in self.original) + 0.0  # + 0.0: no -0.0 for constant data

    @property
    def h_bitstring(self) -> float:
        return min(e.min_entropy for e in self.bitstring) if self.bitstring else math.nan

    @property
    def h_initial(self) -> float:
        if not self.bitstring:
            return self.h_original
        return min(self.h_original, self.bits_per_symbol * self.h_bitstring)

    def as_dict(self) -> dict[str, object]:
        def rows(estimates: tuple[Estimate, ...]) -> list[dict[str, object]]:
            return [
                {
                    "estimator": e.name,
                    "min_entropy": e.min_entropy if math.isfinite(e.min_entropy) else None,
                    **e.values,
                }
                for e in estimates
            ]

        return {
            "bits_per_symbol": self.bits_per_symbol,
            "samples": self.num_samples,
            "original": rows(self.original),
            "bitstring": rows(self.bitstring),
            "h_original": self.h_original,
            "h_bitstring": None if math.isnan(self.h_bitstring) else self.h_bitstring,
            "h_initial": self.h_initial,
        }


def _estimator_calls(symbols: np.ndarray, binary: bool, alphabet: int) -> list[Callable[[], Estimate]]:
    shared: dict[str, TupleCounts] = {}

    def counts() -> TupleCounts:
        if "counts" not in shared:
            shared["counts"] = tuple_counts(symbols)
        return shared["counts"]

    calls: list[Callable[[], Estimate]] = [lambda: most_common_value_estimate(symbols)]
    if binary:
        calls += [
            lambda: collision_estimate(symbols),
            lambda: markov_estimate(symbols),
            lambda: compression_estimate(symbols),
        ]
    calls += [
        lambda: t_tuple_estimate(symbols, counts()),
        lambda: lrs_estimate(symbols, counts()),
        lambda: multi_mcw_estimate(symbols, alphabet),
        lambda: lag_estimate(symbols, alphabet),
        lambda: multi_mmc_estimate(symbols, alphabet),
        lambda: lz78y_estimate(symbols, alphabet),
    ]
    return calls


def assess_non_iid(
    samples: np.ndarray,
    bits_per_symbol: int,
    *,
    bitstring_bits: int | None = None,
    bitstring: bool = True,
    threads: int = 2,
    on_progress: ProgressCallback | None = None,
) -> NonIidAssessment:
    """The initial entropy estimate of section 3.1.3 with every estimator's values.

    ``bitstring_bits`` truncates the bitstring (the reference tool's ``-t`` uses 1,000,000);
    by default all bits are used (its ``-a``, the default). ``bitstring=False`` skips it (the
    restart tests assess the samples only). ``on_progress(estimates_done, estimates)`` is called
    at the start and as each estimator finishes.

    >>> rng = np.random.default_rng(1)
    >>> result = assess_non_iid(rng.integers(0, 2, 20_000, dtype=np.uint8), 1)
    >>> len(result.original), round(result.h_initial, 3)  # compression is the tightest on 20,000 fair bits
    (10, 0.683)
    """
    if not 1 <= bits_per_symbol <= 8:
        raise ParameterError(f"bits_per_symbol = {bits_per_symbol}: must be in [1, 8]")
    data = np.ascontiguousarray(samples, dtype=np.uint8)
    if data.size and int(data.max()) >> bits_per_symbol:
        raise ParameterError(f"samples: value {int(data.max())} does not fit bits_per_symbol = {bits_per_symbol}")
    with_bits = bits_per_symbol == 1 or bitstring
    # The compression estimator needs 1002 blocks of 6 bits; the predictors, 64 samples.
    needed = -(-6012 // bits_per_symbol) if with_bits else 64
    if data.size < needed:
        raise ParameterError(
            f"samples = {data.size}: the non-IID track needs at least {needed} (1,000,000 recommended)"
        )
    alphabet = max(int(np.unique(data).size), 2)
    calls = _estimator_calls(data, bits_per_symbol == 1, alphabet)
    bit_calls: list[Callable[[], Estimate]] = []
    if bits_per_symbol > 1 and bitstring:
        bits = to_bitstring(data, bits_per_symbol)[:bitstring_bits]
        bit_calls = _estimator_calls(bits, True, 2)
    # Longest first, so the pool's threads stay busy to the end.
    every = bit_calls[::-1] + calls[::-1]
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        futures = [pool.submit(call) for call in every]
        if on_progress is not None:
            on_progress(0, len(futures))
            for done, _ in enumerate(as_completed(futures), start=1):
                on_progress(done, len(futures))
        results = [future.result() for future in futures][::-1]
    return NonIidAssessment(bits_per_symbol, int(data.size), tuple(results[: len(calls)]), tuple(results[len(calls) :]))


@dataclass(frozen=True)
class RestartAssessment:
    """The restart tests of section 3.1.4 on a 1000 x 1000 matrix (rows: restarts)."""

    h_initial: float
    cutoff: int
    max_row_count: int
    max_column_count: int
    rows: NonIidAssessment | None
    columns: NonIidAssessment | None

    @property
    def sanity_passed(self) -> bool:
        return self.max_row_count <= self.cutoff and self.max_column_count <= self.cutoff

    @property
    def passed(self) -> bool:
        if not self.sanity_passed or self.rows is None or self.columns is None:
            return False
        return min(self.rows.h_initial, self.columns.h_initial) >= self.h_initial / 2.0

    @property
    def min_entropy(self) -> float:
        """``min(H_r, H_c, H_I)`` when the tests pass, else 0."""
        if not self.passed or self.rows is None or self.columns is None:
            return 0.0
        return min(self.rows.h_initial, self.columns.h_initial, self.h_initial)


def _max_mode_count(matrix: np.ndarray, axis: int) -> int:
    lines = matrix if axis == 1 else matrix.T
    return int(max(np.bincount(line).max() for line in lines))


def restart_cutoff(h_initial: float, samples_per_line: int = _RESTART_SHAPE[1]) -> int:
    """Largest most-common-value count a row or column may show (section 3.1.4.3): the smallest ``x``
    with ``P(max count > x) <= alpha`` when ``floor(2^H)`` symbols have probability ``2^-H`` and one
    the rest (union bound over the symbols; the reference tool's cutoffs).

    >>> restart_cutoff(5.0), restart_cutoff(7.5)
    (63, 22)
    """
    p = 2.0**-h_initial
    equal = math.floor(1.0 / p)
    rest = 1.0 - equal * p
    cutoff = 0
    while (
        equal * binom.sf(cutoff, samples_per_line, p) + (binom.sf(cutoff, samples_per_line, rest) if rest > 0 else 0.0)
        > _RESTART_ALPHA
    ):
        cutoff += 1
    return cutoff


def assess_restarts(
    matrix: np.ndarray, bits_per_symbol: int, h_initial: float, *, threads: int = 2
) -> RestartAssessment:
    """Sanity check (the most common value's count in each row and column against
    :func:`restart_cutoff`), then the non-IID estimates of the row and column datasets (samples only,
    no bitstring, as the reference tool)."""
    data = np.asarray(matrix, dtype=np.uint8)
    if data.shape != _RESTART_SHAPE:
        raise ParameterError(f"restart matrix shape = {data.shape}: must be {_RESTART_SHAPE} (restarts x samples)")
    if not 0.0 < h_initial <= bits_per_symbol:
        raise ParameterError(f"h_initial = {h_initial}: must be in (0, {bits_per_symbol}]")
    cutoff = restart_cutoff(h_initial, data.shape[1])
    row_max, column_max = _max_mode_count(data, 1), _max_mode_count(data, 0)
    if row_max > cutoff or column_max > cutoff:
        return RestartAssessment(h_initial, cutoff, row_max, column_max, None, None)
    rows = assess_non_iid(data.ravel(), bits_per_symbol, bitstring=False, threads=threads)
    columns = assess_non_iid(data.T.ravel(), bits_per_symbol, bitstring=False, threads=threads)
    return RestartAssessment(h_initial, cutoff, row_max, column_max, rows, columns)
