"""Repeaterless bounds against their closed forms and the high-loss slopes quoted in the papers.

PLOB: S. Pirandola, R. Laurenza, C. Ottaviani, L. Banchi, Nat. Commun. 8, 15043 (2017):
secret-key capacity of the pure-loss channel -log2(1 - eta), ~1.44 eta (eta / ln 2) bits per use
at high loss. TGW: M. Takeoka, S. Guha, M. M. Wilde, Nat. Commun. 5, 5235 (2014):
log2((1 + eta) / (1 - eta)), ~2.88 eta (2 eta / ln 2) at high loss. Tolerances: 1e-12 relative on
the closed forms, 0.5 % on the slopes (quoted to three digits).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qit4n.qkd import get_protocol, make_parameters


@pytest.mark.parametrize("eta", [0.5, 0.1, 1e-2, 1e-5])
def test_plob_closed_form(eta: float) -> None:
    result = get_protocol("plob").evaluate(np.array([eta]), make_parameters("plob"))
    assert result.key_rate_per_pulse[0] == pytest.approx(-math.log2(1 - eta), rel=1e-12)


@pytest.mark.parametrize("eta", [0.5, 0.1, 1e-2, 1e-5])
def test_tgw_closed_form(eta: float) -> None:
    result = get_protocol("tgw").evaluate(np.array([eta]), make_parameters("tgw"))
    assert result.key_rate_per_pulse[0] == pytest.approx(math.log2((1 + eta) / (1 - eta)), rel=1e-12)


def test_high_loss_slopes() -> None:
    eta = np.array([1e-6])
    plob = get_protocol("plob").evaluate(eta, make_parameters("plob")).key_rate_per_pulse[0]
    tgw = get_protocol("tgw").evaluate(eta, make_parameters("tgw")).key_rate_per_pulse[0]
    assert plob / eta[0] == pytest.approx(1.44, rel=0.005)
    assert tgw / eta[0] == pytest.approx(2.88, rel=0.005)


def test_bound_at_200_km_of_standard_fibre() -> None:
    """0.2 dB/km, 200 km: eta = 1e-4, PLOB = 1.4427e-4 bits per use (1.44 eta)."""
    eta = np.array([10 ** (-0.2 * 200 / 10)])
    result = get_protocol("plob").evaluate(eta, make_parameters("plob"))
    assert result.key_rate_per_pulse[0] == pytest.approx(1.4427e-4, rel=1e-4)
