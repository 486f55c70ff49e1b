"""Continuous health tests of SP 800-90B section 4.4, run online over a stream of chunks.

The repetition count test (4.4.1) flags a run of ``C = 1 + ceil(-log2(alpha) / H)`` identical
samples; the adaptive proportion test (4.4.2) counts, in windows of ``W`` samples (1024 for
binary sources, 512 otherwise), the repeats of each window's first sample and flags a count of
``C`` or more, ``C`` the smallest count whose binomial upper tail under the assessed entropy ``H``
is at most ``alpha``. Both keep their state between chunks, so a stream cut anywhere gives the
same alarms.

A stuck low bit of a multi-bit sample lowers the entropy by at most a bit per sample and escapes
both tests; the optional bit-plane test (a developer-defined test in the sense of section 4.5)
flags a block of ``L = 1 + ceil(-log2(alpha) / h_b)`` samples in which some bit never changes,
``h_b = min(1, H / n)`` being the entropy assumed for each of the ``n`` bit planes (an assumption
about the source, not a consequence of ``H``: fair for ADC samples whose bits are nearly
independent). Blocks do not overlap, so a plane stuck for ``2 L - 1`` samples is always caught.

References
----------
NIST SP 800-90B (2018), section 4.4, doi:10.6028/NIST.SP.800-90B.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numba
import numpy as np
from scipy.stats import binom

from qit4n.errors import ParameterError

__all__ = [
    "Alarm",
    "HealthMonitor",
    "adaptive_proportion_cutoff",
    "apt_window",
    "repetition_count_cutoff",
]

#: The standard's recommended false-positive probability, 2^-20 (section 4.4).
DEFAULT_ALPHA = 2.0**-20


def _check(entropy_bits: float, alpha: float, bits_per_sample: int | None = None) -> None:
    limit = bits_per_sample if bits_per_sample is not None else math.inf
    if not 0.0 < entropy_bits <= limit:
        raise ParameterError(f"entropy_bits = {entropy_bits}: must be in (0, {limit}] bits per sample")
    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"alpha = {alpha}: must be in (0, 1)")


def repetition_count_cutoff(entropy_bits: float, alpha: float = DEFAULT_ALPHA) -> int:
    """``C = 1 + ceil(-log2(alpha) / H)`` (section 4.4.1).

    >>> repetition_count_cutoff(1.0)
    21
    """
    _check(entropy_bits, alpha)
    return 1 + math.ceil(-math.log2(alpha) / entropy_bits)


def apt_window(bits_per_sample: int) -> int:
    """Window of the adaptive proportion test: 1024 samples for binary sources, 512 otherwise."""
    return 1024 if bits_per_sample == 1 else 512


def adaptive_proportion_cutoff(entropy_bits: float, window: int, alpha: float = DEFAULT_ALPHA) -> int:
    """Smallest ``C`` with ``P(B >= C) <= alpha`` for ``B ~ Binomial(window, 2^-H)`` (section 4.4.2,
    ``C = 1 + CRITBINOM(W, 2^-H, 1 - alpha)``); never more than ``window``.

    >>> adaptive_proportion_cutoff(1.0, 1024, 2.0**-20)
    589
    """
    _check(entropy_bits, alpha)
    return min(int(binom.isf(alpha, window, 2.0**-entropy_bits)) + 1, window)


@dataclass(frozen=True)
class Alarm:
    """A health-test failure: which test, at which sample of the stream (0-based), and the count seen."""

    test: str
    sample_index: int
    count: int
    cutoff: int

    def __str__(self) -> str:
        return f"{self.test} failed at sample {self.sample_index}: count {self.count} >= cutoff {self.cutoff}"


@numba.njit(cache=True)
def _alarm(alarms, written, max_alarms, test, index, count):
    if written < max_alarms:
        alarms[written, 0] = test
        alarms[written, 1] = index
        alarms[written, 2] = count
        written += 1
    return written


@numba.njit(cache=True)
def _scan(samples, state, cutoffs, window, plane_mask, offset, alarms, max_alarms):
    """Run the tests over ``samples``. ``state`` = [rct value, rct run, apt value, apt count, apt
    position, alarms written, plane AND, plane OR, plane count]; ``cutoffs`` = [rct, apt, plane
    block (0: off)]. Alarms are rows (test 0 RCT / 1 APT / 2 bit plane, sample index, count)."""
    rct_cutoff, apt_cutoff, block = cutoffs[0], cutoffs[1], cutoffs[2]
    rct_value, rct_run = state[0], state[1]
    apt_value, apt_count, apt_position = state[2], state[3], state[4]
    written = state[5]
    plane_and, plane_or, plane_count = state[6], state[7], state[8]
    for i in range(samples.size):
        x = np.int64(samples[i])
        # Branch-free updates: binary data would mispredict every other sample.
        rct_run = rct_run * (x == rct_value) + 1
        rct_value = x
        if rct_run == rct_cutoff:
            written = _alarm(alarms, written, max_alarms, 0, offset + i, rct_run)
        start = apt_position == 0
        apt_value = x if start else apt_value
        apt_count = 1 if start else apt_count + (x == apt_value)
        if apt_count == apt_cutoff and not start:
            written = _alarm(alarms, written, max_alarms, 1, offset + i, apt_count)
        apt_position = (apt_position + 1) * (apt_position + 1 != window)
        if block > 0:
            plane_and &= x
            plane_or |= x
            plane_count += 1
            if plane_count == block:
                if (plane_and | ~plane_or) & plane_mask:
                    written = _alarm(alarms, written, max_alarms, 2, offset + i, block)
                plane_and, plane_or, plane_count = plane_mask, 0, 0
    state[0], state[1] = rct_value, rct_run
    state[2], state[3], state[4] = apt_value, apt_count, apt_position
    state[5] = written
    state[6], state[7], state[8] = plane_and, plane_or, plane_count


@dataclass
class HealthMonitor:
    """Online repetition-count and adaptive-proportion tests with cutoffs from ``entropy_bits``.

    ``feed(chunk)`` runs both tests over a chunk and returns the alarms it raised (each run of
    repeats or window raises at most once, when its count reaches the cutoff). State carries over
    chunks; ``alarms`` keeps every alarm so far; ``healthy`` is False after the first.

    >>> monitor = HealthMonitor(entropy_bits=1.0, bits_per_sample=1)
    >>> [str(a) for a in monitor.feed(np.zeros(30, dtype=np.uint8))]
    ['repetition count failed at sample 20: count 21 >= cutoff 21']
    """

    entropy_bits: float
    bits_per_sample: int
    alpha: float = DEFAULT_ALPHA
    bit_planes: bool = True
    samples_seen: int = 0
    alarms: list[Alarm] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 1 <= self.bits_per_sample <= 64:
            raise ParameterError(f"bits_per_sample = {self.bits_per_sample}: must be in [1, 64]")
        _check(self.entropy_bits, self.alpha, self.bits_per_sample)
        self.window = apt_window(self.bits_per_sample)
        self.rct_cutoff = repetition_count_cutoff(self.entropy_bits, self.alpha)
        self.apt_cutoff = adaptive_proportion_cutoff(self.entropy_bits, self.window, self.alpha)
        plane_entropy = min(1.0, self.entropy_bits / self.bits_per_sample)
        self.plane_block = repetition_count_cutoff(plane_entropy, self.alpha)
        plane_mask = (1 << self.bits_per_sample) - 1
        self._state = np.array([-1, 0, -1, 0, 0, 0, plane_mask, 0, 0], dtype=np.int64)
        use_planes = self.bit_planes and self.bits_per_sample > 1
        self._cutoffs = np.array(
            [self.rct_cutoff, self.apt_cutoff, self.plane_block if use_planes else 0], dtype=np.int64
        )
        self._plane_mask = plane_mask

    @property
    def healthy(self) -> bool:
        return not self.alarms

    def feed(self, chunk: np.ndarray, max_alarms: int = 1024) -> list[Alarm]:
        """Test one chunk of samples (any unsigned integer dtype); returns the alarms it raised."""
        samples = np.ascontiguousarray(chunk)
        if samples.ndim != 1 or samples.dtype.kind not in "ui":
            raise ParameterError(f"chunk: a 1-D integer array, got dtype {samples.dtype} and shape {samples.shape}")
        rows = np.zeros((max_alarms, 3), dtype=np.int64)
        self._state[5] = 0
        _scan(samples, self._state, self._cutoffs, self.window, self._plane_mask, self.samples_seen, rows, max_alarms)
        self.samples_seen += samples.size
        names = ("repetition count", "adaptive proportion", "bit-plane repetition")
        cutoffs = (self.rct_cutoff, self.apt_cutoff, self.plane_block)
        raised = [
            Alarm(names[int(test)], int(index), int(count), cutoffs[int(test)])
            for test, index, count in rows[: self._state[5]]
        ]
        self.alarms.extend(raised)
        return raised

    def monitor(self, chunks: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, list[Alarm]]]:
        """Yield each chunk with the alarms it raised."""
        for chunk in chunks:
            yield chunk, self.feed(chunk)
