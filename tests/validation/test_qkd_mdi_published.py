"""The decoy-state MDI-QKD model against claims printed in the MDI-QKD papers.

Devices: preset ``mdi-lcq2012`` (Lo, Curty and Qi, PRL 108, 130503 (2012): eta_d = 14.5 %,
background 6.02e-6, i.e. p_d = 3.0e-6 per detector, e_d = 1.5 %, f = 1.16, 0.2 dB/km). The figure
values of that paper and the tables of Ma and Razavi (PRA 86, 062319 (2012)) and Xu, Curty, Qi and
Lo (NJP 15, 113007 (2013)) could not be read from any stored copy, so the checks here are the
statements of their abstracts and texts, with tolerances stated per test.
"""

from __future__ import annotations

import pytest

from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd.distance import max_distance_km

#: The relay devices of the LCQ preset, for a decoy-state BB84 receiver with the same detectors:
#: the 6.02e-6 background of one receiver is 3.01e-6 per detector.
LCQ_DETECTORS_BB84 = {
    "loss_db_per_km": 0.2,
    "eta_detector": 0.145,
    "dark_count_probability": 3.01e-6,
    "misalignment_error": 0.015,
    "error_correction_efficiency": 1.16,
}


def _mdi_reach_km(overrides: dict) -> float:
    return max_distance_km(get_protocol("mdi"), make_parameters("mdi", "mdi-lcq2012", overrides), tolerance_km=0.1)


def test_vacuum_and_one_weak_decoy_approach_the_infinite_decoy_limit():
    """S.-H. Sun, M. Gao, C.-Y. Li, L.-M. Liang, "Practical decoy state measurement-device-independent
    quantum key distribution", arXiv:1305.7396 (2013), abstract:
    with only the vacuum and one weak decoy the bounds on Y11 and e11 "can asymptotically approach
    the theoretical limit of the infinite number of decoy states".

    Checked on the LCQ devices: the reach with the vacuum and a weak decoy nu grows as nu falls
    and tends to the infinite-decoy reach (measured 232.05 km): 197.6, 216.7, 229.2 and 231.6 km
    at nu = 0.1, 0.05, 0.01 and 0.001, the last within 0.5 % of the limit (tolerance).
    """
    limit_km = _mdi_reach_km({"decoy_method": "infinite"})
    reach_km = [_mdi_reach_km({"minimum_decoy_intensity": nu}) for nu in (0.1, 0.05, 0.01, 0.001)]
    assert reach_km == sorted(reach_km)
    assert all(reach < limit_km + 0.1 for reach in reach_km)
    assert reach_km[-1] == pytest.approx(limit_km, rel=0.005)


def test_mdi_reaches_further_than_decoy_bb84_on_the_same_detectors():
    """Lo, Curty and Qi 2012: MDI-QKD with weak coherent pulses and decoys "can double the
    transmission distance covered with conventional QKD schemes using WCPs".

    Checked: with the relay's detectors used as a BB84 receiver (background 6.02e-6 per pulse,
    14.5 %, e_d = 1.5 %, f = 1.16, infinite decoys) decoy-state BB84 reaches 159.6 km, MDI-QKD
    232.1 km: a factor 1.45, further but not double. Which conventional scheme the paper's factor
    two refers to (decoy or non-decoy WCP BB84) could not be read, so only "further" is asserted;
    the measured factor is reported.
    """
    bb84_km = max_distance_km(
        get_protocol("bb84-decoy-inf"),
        make_parameters("bb84-decoy-inf", overrides=LCQ_DETECTORS_BB84),
        tolerance_km=0.1,
    )
    mdi_km = _mdi_reach_km({"decoy_method": "infinite"})
    assert mdi_km > bb84_km
