"""GG02 continuous-variable QKD: Gaussian-modulated coherent states, reverse reconciliation (``cv-gg02``).

Alice sends coherent states whose two quadratures are drawn from a Gaussian of variance
``modulation_variance`` (``V_A``, shot-noise units); Bob measures one quadrature (homodyne) or
both (heterodyne) with a detector of efficiency ``eta_detector`` and electronic noise
``electronic_noise``, both trusted. Bob's data is the reference of the key (reverse
reconciliation), so the asymptotic secret key per symbol against collective attacks is::

    K = beta I_AB - chi_BE

with the reconciliation efficiency ``beta`` and the mutual information and Holevo bound of
:mod:`qit4n.qkd._cv_holevo` at the channel transmittance ``T = eta_channel`` (the detector's
efficiency is not part of it: it is trusted) and the excess noise ``xi`` referred to the channel
input. ``modulation_variance`` left ``None`` is optimised at every point. ``key_rate_bps`` is
``K`` times the symbol rate ``repetition_rate_hz``. ``qber`` is ``None``; ``details`` carries
``excess_noise``, ``mutual_information``, ``holevo_bound`` and ``modulation_variance``.

Far away ``K`` is a small difference of two terms of order ``T``; both are evaluated to full
relative precision (:mod:`qit4n.qkd._cv_holevo`), and a key smaller than
``KEY_RESOLUTION (beta I_AB + chi_BE)`` counts as none, so that neither the optimiser of the
modulation nor the maximal distance (:mod:`qit4n.qkd.distance`) can take rounding noise for key.

References
----------
Grosshans, F. et al., Nature 421, 238 (2003), doi:10.1038/nature01289 (GG02, reverse reconciliation).
Lodewyck, J. et al., Phys. Rev. A 76, 042305 (2007), doi:10.1103/PhysRevA.76.042305.
Laudenbach, F. et al., Adv. Quantum Technol. 1, 1800011 (2018), doi:10.1002/qute.201800011.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from qit4n.errors import ParameterError
from qit4n.physics.detector import DetectorEfficiency
from qit4n.qkd._cv_holevo import detector_noise, holevo_bound, mutual_information
from qit4n.qkd._mdi_search import maximise_positive
from qit4n.qkd.base import ChannelParameters, ProtocolSpec, RateResult

__all__ = ["PROTOCOL", "CVParameters", "key_rate"]

#: Range searched for an optimised modulation variance, SNU.
MODULATION_SEARCH_RANGE = (0.05, 200.0)
#: Relative size of the key, against ``beta I_AB + chi_BE``, below which it is not resolved.
KEY_RESOLUTION = 1e-12


class CVParameters(ChannelParameters):
    """GG02 with trusted detector noise: modulation, channel noise, detector and reconciliation."""

    repetition_rate_hz: float = Field(1e8, gt=0.0, le=1e12, description="symbols sent per second")
    modulation_variance: float | None = Field(
        None, gt=0.0, le=1e4, description="Alice's modulation variance V_A, SNU; None = optimised per point"
    )
    excess_noise: float = Field(0.01, ge=0.0, le=1.0, description="excess noise xi referred to the channel input, SNU")
    electronic_noise: float = Field(0.01, ge=0.0, le=1.0, description="detector electronic noise v_el, SNU")
    eta_detector: DetectorEfficiency = 0.6
    reconciliation_efficiency: float = Field(0.95, gt=0.0, le=1.0, description="beta: reconciled / mutual information")
    detection: Literal["homodyne", "heterodyne"] = Field("homodyne", description="Bob's measurement")


def _key_terms(t: np.ndarray, v_a: np.ndarray, params: CVParameters) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    heterodyne = params.detection == "heterodyne"
    chi_det = detector_noise(params.eta_detector, params.electronic_noise, heterodyne)
    v = v_a + 1.0
    chi_total = 1.0 / t - 1.0 + params.excess_noise + chi_det / t
    information = mutual_information(v, chi_total, heterodyne)
    leak_to_eve = holevo_bound(v, t, params.excess_noise, chi_det, heterodyne)
    return params.reconciliation_efficiency * information - leak_to_eve, information, leak_to_eve


def key_rate(eta_channel: np.ndarray, params: CVParameters) -> RateResult:
    """Asymptotic GG02 reverse-reconciliation key per symbol at each channel transmittance (any shape).

    >>> from qit4n.qkd import make_parameters
    >>> params = make_parameters("cv-gg02", overrides={"modulation_variance": 4.0})
    >>> result = key_rate(np.array([0.5, 0.1]), params)
    >>> bool(result.key_rate_per_pulse[0] > result.key_rate_per_pulse[1] > 0.0)
    True
    """
    eta = np.asarray(eta_channel, dtype=float)
    if not np.all((eta >= 0.0) & (eta <= 1.0)):
        raise ParameterError("eta_channel: must be within [0, 1]")
    lit = eta > 0.0
    t = np.where(lit, eta, 1.0)
    if params.modulation_variance is None:
        low = np.full(t.shape, MODULATION_SEARCH_RANGE[0])
        v_a, _ = maximise_positive(lambda v: _key_terms(t, v, params)[0], low, MODULATION_SEARCH_RANGE[1])
    else:
        v_a = np.full(t.shape, params.modulation_variance)
    key, information, leak_to_eve = _key_terms(t, v_a, params)
    resolved = key > KEY_RESOLUTION * (params.reconciliation_efficiency * information + leak_to_eve)
    per_symbol = np.where(lit & resolved, key, 0.0)
    details = {
        "excess_noise": np.full(t.shape, params.excess_noise),
        "mutual_information": np.where(lit, information, 0.0),
        "holevo_bound": np.where(lit, leak_to_eve, 0.0),
        "modulation_variance": v_a,
    }
    return RateResult(per_symbol, per_symbol * params.repetition_rate_hz, None, details)


PROTOCOL = ProtocolSpec(
    name="cv-gg02",
    title="GG02 CV-QKD, Gaussian modulation, reverse reconciliation (asymptotic, collective attacks)",
    parameters=CVParameters,
    key_rate=key_rate,
    reference="Lodewyck et al., Phys. Rev. A 76, 042305 (2007), doi:10.1103/PhysRevA.76.042305",
)
