"""The randomness-source interface that consumers of random choices and seeds accept.

A :class:`RandomnessSource` hands out uniform bytes and reports its health. Consumers (the
emulator's basis, intensity and bit choices, the post-processing seeds, a KME's fresh keys) take an
optional source; without one they keep drawing from their seeded ``numpy.random.Generator`` (or
the OS), unchanged. A source whose health tests fail raises :class:`~qit4n.errors.RandomnessError`
on the draw, so the consumer stops and the error names the source and the failed test.

The QRNG implementation (emulated device, online SP 800-90B health tests, Toeplitz extractor) and
a file source live in :mod:`qit4n.qrng.source`; this module sits at the bottom of the package stack
so that :mod:`qit4n.postprocess` can accept a source without importing :mod:`qit4n.qrng`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qit4n.errors import ParameterError

__all__ = ["HealthState", "RandomnessSource", "random_bits", "uniforms"]

#: Resolution of :func:`uniforms`: each uniform is one 32-bit word.
UNIFORM_BITS = 32


@dataclass(frozen=True)
class HealthState:
    """A source's health: whether it still delivers, what it has delivered, and why it stopped."""

    source: str
    healthy: bool
    bytes_delivered: int
    failed_test: str | None = None
    detail: str | None = None
    raw_samples_tested: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON-ready), the ``randomness`` entry of result summaries."""
        return {
            "source": self.source,
            "healthy": self.healthy,
            "bytes_delivered": self.bytes_delivered,
            "raw_samples_tested": self.raw_samples_tested,
            "failed_test": self.failed_test,
            "detail": self.detail,
        }


@runtime_checkable
class RandomnessSource(Protocol):
    """Uniform bytes with a health state (see the module docstring)."""

    @property
    def name(self) -> str:
        """What the source is, e.g. ``qrng:homodyne`` or ``file:/dev/qrandom``."""
        ...

    def random_bytes(self, num_bytes: int) -> bytes:
        """``num_bytes`` uniform bytes; :class:`~qit4n.errors.RandomnessError` once the health tests
        have failed or the source is exhausted."""
        ...

    def health(self) -> HealthState:
        """The current health state (never raises)."""
        ...


def random_bits(source: RandomnessSource, num_bits: int) -> np.ndarray:
    """``num_bits`` bits (uint8 0/1) from whole bytes of ``source``, least significant bit first
    (the layout of :func:`qit4n.postprocess.bits.random_bits`)."""
    if num_bits < 0:
        raise ParameterError(f"num_bits = {num_bits}: must be >= 0")
    raw = np.frombuffer(source.random_bytes((num_bits + 7) // 8), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:num_bits].copy()


def uniforms(source: RandomnessSource, size: int) -> np.ndarray:
    """``size`` uniforms in (0, 1) from 32-bit words of ``source``: ``(w + 1/2) 2^-32``.

    A choice with probability ``p`` made by ``u < p`` is then off by less than ``2^-32``.
    """
    if size < 0:
        raise ParameterError(f"size = {size}: must be >= 0")
    words = np.frombuffer(source.random_bytes(4 * size), dtype="<u4")
    return (words.astype(np.float64) + 0.5) * 2.0**-UNIFORM_BITS
