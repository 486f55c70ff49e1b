"""The Raman model against published properties of silica fibre."""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.physics.constants import BOLTZMANN_J_PER_K, PLANCK_J_S, SPEED_OF_LIGHT_M_PER_S
from qit4n.physics.raman import FIBRE_EFFECTIVE_AREA_UM2, raman_efficiency_per_w_m, raman_scattering_coefficient


def test_tabulated_raman_efficiency_agrees_with_the_silica_gain_peak() -> None:
    """Stolen and Ippen, Appl. Phys. Lett. 22, 276 (1973); Agrawal, Nonlinear Fiber Optics, sec. 8.1.1.

    Silica's Raman gain peaks at a shift of about 13.2 THz (440 cm^-1) with a co-polarised peak
    gain of about 6e-14 m/W for a 1550 nm pump. The SSMF efficiency table we use (GNPy, after
    Curri et al. 2016) is an independent source: its peak must sit within 0.5 THz of 13.2 THz,
    and twice its polarisation-averaged peak times A_eff = 80 um^2 within 10 % of 6e-14 m/W.
    """
    shift_thz = np.linspace(0.0, 42.0, 42001)
    efficiency = raman_efficiency_per_w_m(shift_thz)
    assert shift_thz[np.argmax(efficiency)] == pytest.approx(13.2, abs=0.5)
    co_polarised_gain_m_per_w = 2.0 * efficiency.max() * FIBRE_EFFECTIVE_AREA_UM2 * 1e-12
    assert co_polarised_gain_m_per_w == pytest.approx(6e-14, rel=0.10)
    assert raman_efficiency_per_w_m(13.0, pump_wavelength_nm=1000.0) == pytest.approx(
        1.55 * raman_efficiency_per_w_m(13.0), rel=1e-12
    )


@pytest.mark.parametrize("shift_thz", [0.2, 1.0, 5.0, 13.0])
def test_anti_stokes_to_stokes_ratio_is_the_boltzmann_factor(shift_thz: float) -> None:
    """Agrawal, Nonlinear Fiber Optics, sec. 8.1: spontaneous Stokes goes as n_th + 1, anti-Stokes as n_th.

    Their ratio is exp(-h dnu / k T) at the same shift (same gain, same quantum wavelength;
    the classical wavelengths are placed symmetrically in frequency). Tolerance 1e-3 relative
    (the efficiency scales as 1 / lambda_pump, which differs slightly between the two pumps).
    """
    nu_q = SPEED_OF_LIGHT_M_PER_S / 1550e-9
    stokes_pump_nm = SPEED_OF_LIGHT_M_PER_S / (nu_q + shift_thz * 1e12) * 1e9
    anti_stokes_pump_nm = SPEED_OF_LIGHT_M_PER_S / (nu_q - shift_thz * 1e12) * 1e9
    stokes = raman_scattering_coefficient(1550.0, stokes_pump_nm)
    anti_stokes = raman_scattering_coefficient(1550.0, anti_stokes_pump_nm)
    boltzmann = np.exp(-PLANCK_J_S * shift_thz * 1e12 / (BOLTZMANN_J_PER_K * 295.0))
    pump_ratio = stokes_pump_nm / anti_stokes_pump_nm
    assert float(anti_stokes / stokes) == pytest.approx(boltzmann * pump_ratio, rel=1e-3)
