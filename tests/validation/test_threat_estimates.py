"""Resource-estimate catalog entries against the papers' stated numbers and formulas.

* Roetteler, Naehrig, Svore, Lauter, ASIACRYPT 2017, arXiv:1706.06752, abstract: ECDLP on an
  n-bit prime curve with at most 9n + 2 ceil(log2 n) + 10 qubits and at most
  448 n^3 log2(n) + 4090 n^3 Toffoli gates; for P-256 (n = 256): 2330 qubits, 1.2875e11 Toffoli.
* Gidney and Ekera, Quantum 5, 433 (2021), arXiv:1905.09749: RSA-2048 in 8 hours with 20 million
  noisy qubits; gate error 1e-3, surface-code cycle 1 us, reaction time 10 us, planar grid.
* Gidney, arXiv:2505.15917 (2025), abstract: fewer than one million noisy qubits, less than a
  week, with the same assumptions as 2019.
* Litinski, arXiv:2306.08585 (2023), abstract: one key every 10 minutes with 6000 modules of
  1152 physical qubits at a 10 us code cycle; 50 million Toffoli gates per key.
Tolerance: relative 1e-4 (the catalog stores the formula values rounded to 5 significant digits).
"""

from __future__ import annotations

import math

import pytest

from qit4n.threat import load_catalog

CATALOG = {estimate.id: estimate for estimate in load_catalog().estimates}


def test_roetteler_2017_p256_qubits_and_toffoli_bound():
    n = 256
    entry = CATALOG["roetteler-2017-p256"]
    assert entry.logical_qubits == 9 * n + 2 * math.ceil(math.log2(n)) + 10 == 2330
    assert entry.toffoli_gates_upper_bound == pytest.approx(448 * n**3 * math.log2(n) + 4090 * n**3, rel=1e-4)


def test_gidney_ekera_2021_rsa2048():
    entry = CATALOG["gidney-ekera-2021-rsa2048"]
    assert (entry.physical_qubits, entry.runtime_hours) == (20e6, 8)
    assert (entry.physical_error_rate, entry.code_cycle_us, entry.reaction_time_us) == (1e-3, 1, 10)


def test_gidney_2025_keeps_the_2019_assumptions_with_fewer_qubits():
    old, new = CATALOG["gidney-ekera-2021-rsa2048"], CATALOG["gidney-2025-rsa2048"]
    assert (new.physical_qubits_below, new.runtime_hours_below) == (1e6, 7 * 24)
    assert (new.physical_error_rate, new.code_cycle_us, new.reaction_time_us) == (
        old.physical_error_rate,
        old.code_cycle_us,
        old.reaction_time_us,
    )
    assert old.physical_qubits / new.physical_qubits_below == 20


def test_litinski_2023_module_count():
    entry = CATALOG["litinski-2023-p256-active-volume"]
    assert entry.physical_qubits == 6000 * 1152
    # "one key can be generated every 10 minutes" (abstract) is a throughput, not a runtime.
    assert entry.runtime_hours is None
    assert entry.amortised_hours_per_key == pytest.approx(10 / 60, rel=1e-4)
    assert (entry.toffoli_gates, entry.code_cycle_us) == (50e6, 10)
