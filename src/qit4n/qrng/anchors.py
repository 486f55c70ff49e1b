"""Published anchors of the QRNG device models: the papers' numbers, recomputed by qit4n.

- Xu et al., Opt. Express 20, 12366 (2012), section 3: a laser phase-noise QRNG read in its linear
  (small-phase) regime, so its quantum signal is Gaussian; worked example of the min-entropy of an
  8-bit ADC over ``[-a, a]``, ``a = 15 mV``, total variance 24.4 mV^2, quantum-to-classical ratio
  ``gamma = 21``: ``P_max = 9.6e-3``, 6.7 bits per sample. The paper takes the quantum Gaussian
  centred (no adversarial classical offset), so ``classical_bound_sigmas = 0`` here. The homodyne
  model (Gaussian signal plus Gaussian classical noise) and the phase-noise model (``V = cos(theta
  + pi/2)`` with a narrow phase spread) must both give it.
- Herrero-Collantes and Garcia-Escartin, Rev. Mod. Phys. 89, 015004 (2017), section VII.B,
  footnote 5: the probability that exactly one detector of a beam-splitter QRNG clicks on a
  coherent pulse is largest at ``alpha = sqrt(2 ln 2)``, mean photon number ``2 ln 2``.

``qit4n validate`` renders them with the other packages' anchors; ``tests/validation`` holds the
models to the same numbers.
"""

from __future__ import annotations

import math

from scipy.optimize import minimize_scalar

from qit4n.qkd.anchors import AnchorSpec
from qit4n.qrng.devices import beam_splitter_bit_probabilities, homodyne_min_entropy, phase_noise_min_entropy

__all__ = ["XU2012", "optimal_mean_photons", "qrng_anchor_specs", "xu2012_homodyne_bits", "xu2012_phase_noise_bits"]

#: Xu et al. 2012, section 3: ADC bits, half range (mV), total variance (mV^2), quantum-to-classical ratio.
XU2012 = {"adc_bits": 8, "half_range_mv": 15.0, "total_variance_mv2": 24.4, "gamma": 21.0}

_XU_PAPER = "Xu, Qi, Ma, Xu, Zheng, Lo, Opt. Express 20, 12366 (2012)"
_XU_PARAMETERS = "8-bit ADC over +-15 mV, sigma_total^2 24.4 mV^2, gamma 21 (13.2 dB), quantum Gaussian centred"
_RMP_PAPER = "Herrero-Collantes, Garcia-Escartin, Rev. Mod. Phys. 89, 015004 (2017)"

#: Phase per millivolt of the phase-noise model's reading of Xu's signal: small, so sin(theta) ~ theta.
_RAD_PER_MV = 1e-4


def xu2012_homodyne_bits(classical_bound_sigmas: float = 0.0) -> float:
    """The homodyne model's min-entropy (bits per sample) at Xu et al.'s operating point."""
    total_sigma_mv = math.sqrt(XU2012["total_variance_mv2"])
    return float(
        homodyne_min_entropy(
            10.0 * math.log10(XU2012["gamma"]),
            adc_bits=int(XU2012["adc_bits"]),
            range_sigmas=XU2012["half_range_mv"] / total_sigma_mv,
            classical_bound_sigmas=classical_bound_sigmas,
        )
    )


def xu2012_phase_noise_bits(classical_bound_sigmas: float = 0.0) -> float:
    """The phase-noise model's min-entropy (bits per sample) at Xu et al.'s operating point, the signal
    read as a phase of ``_RAD_PER_MV`` radians per millivolt."""
    gamma, variance = XU2012["gamma"], XU2012["total_variance_mv2"]
    return phase_noise_min_entropy(
        math.sqrt(variance * gamma / (gamma + 1.0)) * _RAD_PER_MV,
        adc_bits=int(XU2012["adc_bits"]),
        classical_sigma=math.sqrt(variance / (gamma + 1.0)) * _RAD_PER_MV,
        classical_bound_sigmas=classical_bound_sigmas,
        adc_half_range=XU2012["half_range_mv"] * _RAD_PER_MV,
    )


def optimal_mean_photons() -> float:
    """Mean photon number that maximises the single-click probability of an ideal 50/50 beam splitter."""
    result = minimize_scalar(
        lambda mu: -float(sum(beam_splitter_bit_probabilities(mu))),
        bounds=(1e-3, 10.0),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(result.x)


def qrng_anchor_specs() -> list[AnchorSpec]:
    """The published QRNG anchors (``tests/validation/test_qrng_published.py``)."""
    return [
        AnchorSpec(
            "qrng homodyne (Gaussian signal)",
            _XU_PAPER,
            "sec. 3, step 4: quantum min-entropy of the raw data, printed as 6.7 bits per 8-bit sample",
            _XU_PARAMETERS,
            6.7,
            0.05,
            xu2012_homodyne_bits,
            relative=False,
            unit="bits/sample",
        ),
        AnchorSpec(
            "qrng homodyne (Gaussian signal)",
            _XU_PAPER,
            "sec. 3, step 4: largest bin probability, printed as P_max = 9.6e-3",
            _XU_PARAMETERS,
            9.6e-3,
            0.015,
            lambda: 2.0 ** -xu2012_homodyne_bits(),
        ),
        AnchorSpec(
            "qrng phase noise",
            _XU_PAPER,
            "sec. 3, step 4: 6.7 bits per 8-bit sample (linear regime of the phase read-out, eq. 2)",
            _XU_PARAMETERS + "; phase 1e-4 rad per mV",
            6.7,
            0.05,
            xu2012_phase_noise_bits,
            relative=False,
            unit="bits/sample",
        ),
        AnchorSpec(
            "qrng beam splitter",
            _RMP_PAPER,
            "sec. VII.B, footnote 5: single-click probability largest at alpha = sqrt(2 ln 2)",
            "coherent pulse on a 50/50 beam splitter, ideal detectors, no dark counts; mean photon number",
            2.0 * math.log(2.0),
            1e-6,
            optimal_mean_photons,
            unit="photons",
        ),
    ]
