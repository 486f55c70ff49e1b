"""Detection statistics of an emulated link: observed per intensity, and their expected values.

Expected values follow the model the emulator draws from: with ``Y = 1 - (1 - p)^2`` the
probability that dark counts or noise (``p`` per detector per gate) fire either detector,

* gain ``Q_k = 1 - (1 - p)^2 exp(-eta mu_k)``,
* error gain (bases agree): the wrong detector alone fires, or both fire and the random bit is
  wrong: ``E_k Q_k = P(wrong only) + P(both) / 2`` with the two detectors independent, the right
  one firing with probability ``1 - (1 - p) exp(-eta mu_k (1 - e_d))`` and the wrong one with
  ``1 - (1 - p) exp(-eta mu_k e_d)`` (Poisson thinning).

These agree with Ma et al. 2005, Eqs. (15)-(17) (``Q = Y0 + 1 - e^{-eta mu}``, ``EQ = Y0/2 + e_d
(1 - e^{-eta mu})``) to first order in ``p`` and ``eta mu``; the validation tests compare both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from qit4n.emulate.bb84 import BASIS_X, BASIS_Z, LinkRecords
from qit4n.emulate.decoy_stream import DecoyChunk
from qit4n.emulate.settings import LinkSettings
from qit4n.physics.raman import dark_count_with_noise_probability

__all__ = ["IntensityStatistics", "StatisticsTally", "expected_statistics", "observed_statistics"]


@dataclass(frozen=True)
class IntensityStatistics:
    """Per intensity (arrays of 3): pulses sent, gain, and sifted detections and errors per basis."""

    sent: np.ndarray
    gain: np.ndarray
    sifted_x: np.ndarray
    errors_x: np.ndarray
    sifted_z: np.ndarray
    errors_z: np.ndarray

    @property
    def qber_x(self) -> np.ndarray:
        """Error rate of the sifted X-basis bits per intensity."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.errors_x / self.sifted_x


def observed_statistics(records: LinkRecords) -> IntensityStatistics:
    """Counts from both parties' records (a harness view: it reads both sides)."""
    alice, bob = records.alice, records.bob
    intensity = alice.intensities[bob.pulses]
    sifted = alice.bases[bob.pulses] == bob.bases
    wrong = alice.bits[bob.pulses] != bob.bits
    sent = np.bincount(alice.intensities, minlength=3).astype(float)
    clicks = np.bincount(intensity, minlength=3).astype(float)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(intensity[mask], minlength=3).astype(float)

    in_x = sifted & (bob.bases == BASIS_X)
    in_z = sifted & (bob.bases == BASIS_Z)
    return IntensityStatistics(
        sent, clicks / np.maximum(sent, 1.0), count(in_x), count(in_x & wrong), count(in_z), count(in_z & wrong)
    )


class StatisticsTally:
    """:func:`observed_statistics` of a stream of chunks, added up as they pass (a harness view)."""

    def __init__(self) -> None:
        self._counts = np.zeros((6, 3))

    def watch(self, chunks: Iterable[DecoyChunk]) -> Iterator[DecoyChunk]:
        """Yield ``chunks`` unchanged, counting each."""
        for chunk in chunks:
            self._add(chunk)
            yield chunk

    def _add(self, chunk: DecoyChunk) -> None:
        intensity = chunk.alice_intensities
        sifted = chunk.alice_bases == chunk.bob_bases
        wrong = chunk.alice_bits != chunk.bob_bits
        in_x = sifted & (chunk.bob_bases == BASIS_X)
        in_z = sifted & (chunk.bob_bases == BASIS_Z)
        for row, mask in enumerate((None, in_x, in_x & wrong, in_z, in_z & wrong), start=1):
            self._counts[row] += np.bincount(intensity if mask is None else intensity[mask], minlength=3)
        self._counts[0] += chunk.sent

    def result(self) -> IntensityStatistics:
        """The counts so far."""
        sent, clicks, sifted_x, errors_x, sifted_z, errors_z = (row.copy() for row in self._counts)
        return IntensityStatistics(sent, clicks / np.maximum(sent, 1.0), sifted_x, errors_x, sifted_z, errors_z)


def expected_statistics(settings: LinkSettings) -> tuple[np.ndarray, np.ndarray]:
    """Expected gain ``Q_k`` and QBER ``E_k`` (bases agree) per intensity, without dead time."""
    mus = np.asarray(settings.intensities)
    noise = float(dark_count_with_noise_probability(settings.dark_count_probability, settings.noise_probability))
    eta = settings.eta_total
    e_d = settings.misalignment_error
    gain = 1.0 - (1.0 - noise) ** 2 * np.exp(-eta * mus)
    right = 1.0 - (1.0 - noise) * np.exp(-eta * mus * (1.0 - e_d))
    wrong = 1.0 - (1.0 - noise) * np.exp(-eta * mus * e_d)
    error_gain = wrong * (1.0 - right) + 0.5 * right * wrong
    return gain, error_gain / gain
