"""The Raman model against published properties of silica fibre."""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.physics.constants import BOLTZMANN_J_PER_K, PLANCK_J_S, SPEED_OF_LIGHT_M_PER_S
from qit4n.physics.raman import RAMAN_PEAK_GAIN_M_PER_W, raman_gain_spectrum, raman_scattering_coefficient


def test_raman_gain_peaks_near_13_thz() -> None:
    """Stolen and Ippen, Appl. Phys. Lett. 22, 276 (1973); Agrawal, Nonlinear Fiber Optics, sec. 8.1.1.

    The Raman gain of fused silica peaks at a shift of about 13.2 THz (440 cm^-1) with a peak
    gain of about 6e-14 m/W for a 1550 nm pump. Tolerance 0.3 THz on the position (the
    single-oscillator Blow-Wood response is a fit) and 1e-6 relative on the peak scaling.
    """
    shift_thz = np.linspace(0.0, 40.0, 40001)
    gain = raman_gain_spectrum(shift_thz)
    assert shift_thz[np.argmax(gain)] == pytest.approx(13.2, abs=0.3)
    assert gain.max() == pytest.approx(RAMAN_PEAK_GAIN_M_PER_W, rel=1e-6)
    assert raman_gain_spectrum(13.1, pump_wavelength_nm=1000.0) == pytest.approx(1.55 * raman_gain_spectrum(13.1), rel=1e-12)


@pytest.mark.parametrize("shift_thz", [0.2, 1.0, 5.0, 13.0])
def test_anti_stokes_to_stokes_ratio_is_the_boltzmann_factor(shift_thz: float) -> None:
    """Agrawal, Nonlinear Fiber Optics, sec. 8.1: spontaneous Stokes goes as n_th + 1, anti-Stokes as n_th.

    Their ratio is exp(-h dnu / k T) at the same shift (same gain, same quantum wavelength;
    the classical wavelengths are placed symmetrically in frequency). Tolerance 1e-3 relative
    (the peak gain scales as 1 / lambda_pump, which differs slightly between the two pumps).
    """
    nu_q = SPEED_OF_LIGHT_M_PER_S / 1550e-9
    stokes_pump_nm = SPEED_OF_LIGHT_M_PER_S / (nu_q + shift_thz * 1e12) * 1e9
    anti_stokes_pump_nm = SPEED_OF_LIGHT_M_PER_S / (nu_q - shift_thz * 1e12) * 1e9
    stokes = raman_scattering_coefficient(1550.0, stokes_pump_nm)
    anti_stokes = raman_scattering_coefficient(1550.0, anti_stokes_pump_nm)
    boltzmann = np.exp(-PLANCK_J_S * shift_thz * 1e12 / (BOLTZMANN_J_PER_K * 295.0))
    pump_ratio = stokes_pump_nm / anti_stokes_pump_nm
    assert float(anti_stokes / stokes) == pytest.approx(boltzmann * pump_ratio, rel=1e-3)
