"""Mosca exposure: hand-computed values, the quantile integration, and monotonicity properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qit4n.threat import (
    Asset,
    Triangular,
    assess_asset,
    crqc_probability,
    exposure_probabilities,
    hndl_probability,
    load_catalog,
)
from qit4n.threat.mosca import forgery_probability, quantiles

CATALOG = load_catalog()
GRI = CATALOG.timeline("gri-2023")


def test_crqc_cdf_is_zero_before_survey_and_follows_its_tail_after_the_last_anchor():
    assert crqc_probability(GRI, [1990.0, 2023.0]).tolist() == [0.0, 0.0]
    # gri-2023 keeps its 2028-2033 slope (0.04 a year) after 2033 and reaches 1 in 2050.25.
    assert crqc_probability(GRI, [2038.0, 2050.25, 2100.0]) == pytest.approx([0.51, 1.0, 1.0], abs=1e-12)
    # A 10-year and a 50-year secret no longer look alike.
    assert float(crqc_probability(GRI, 2026 + 10 + 1)) < float(crqc_probability(GRI, 2026 + 50 + 1))
    flat = CATALOG.timeline("gri-2023-pessimistic")
    assert crqc_probability(flat, [2038.0, 2100.0]).tolist() == [0.33, 0.33]


def test_point_values_are_exact():
    # x = 5, y = 2 from 2026: F(2033) = 0.31 (GRI 2023, within 10 years); forgery F(2028) = 0.11.
    assert hndl_probability(GRI, now_year=2026, secrecy_years=5, migration_years=2) == pytest.approx(0.31)
    assert forgery_probability(GRI, now_year=2026, migration_years=2) == pytest.approx(0.11)
    # A root trusted 7 more years: F(2033) = 0.31 whatever the migration time.
    assert forgery_probability(GRI, now_year=2026, migration_years=2, trust_years=7) == pytest.approx(0.31)


def test_symmetric_triangular_on_a_linear_segment_equals_the_mean():
    # F is linear (0.04 per year) on [2028, 2033]; x ~ Tri(1, 2, 3), y = 2 from 2026 keeps
    # now + x + y in [2029, 2031], so E[F] = F(2026 + 2 + 2) = 0.11 + 2 * 0.04 = 0.19 exactly.
    value = hndl_probability(GRI, now_year=2026, secrecy_years=Triangular(low=1, mode=2, high=3), migration_years=2)
    assert value == pytest.approx(0.19, abs=1e-12)


def test_quantile_rule_converges_to_the_triangular_expectation_across_a_kink():
    # x ~ Tri(0, 0, 10) straddles the kink at 2033 (slope 0.04 -> 0.0008 per year). Reference:
    # fine trapezoid integration of F(2026 + 2 + x) against the density 2 (10 - x) / 100.
    x = np.linspace(0.0, 10.0, 200_001)
    density = 2.0 * (10.0 - x) / 100.0
    reference = np.trapezoid(crqc_probability(GRI, 2028.0 + x) * density, x)
    value = hndl_probability(
        GRI, now_year=2026, secrecy_years=Triangular(low=0, mode=0, high=10), migration_years=2, nodes=256
    )
    assert value == pytest.approx(reference, abs=1e-4)


def test_quantiles_are_the_triangular_inverse_cdf():
    values = quantiles(Triangular(low=0, mode=0, high=2), 2)
    assert values == pytest.approx([2.0 - np.sqrt(3.0), 1.0])


def test_union_of_hndl_and_forgery_is_the_later_end():
    hndl, forgery, either = exposure_probabilities(
        GRI,
        now_year=2026,
        secrecy_years=1,
        migration_years=1,
        trust_years=10,
        key_exchange_vulnerable=True,
        signature_vulnerable=True,
    )
    assert (hndl, forgery, either) == pytest.approx((0.11, 0.43, 0.43))  # F(2028), F(2036) = 0.31 + 0.04 * 3


def test_invalid_triangular_names_its_fields():
    with pytest.raises(ValueError, match="low <= mode <= high"):
        Triangular(low=3, mode=1, high=5)


durations = st.floats(min_value=0.0, max_value=40.0, allow_nan=False)
now_years = st.floats(min_value=2015.0, max_value=2045.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    now=now_years, x=durations, y=durations, dx=durations, dy=durations, spread=st.floats(min_value=0.0, max_value=10.0)
)
def test_exposure_non_decreasing_in_secrecy_and_migration(now, x, y, dx, dy, spread):
    for scenario in CATALOG.timelines:
        base = hndl_probability(
            scenario,
            now_year=now,
            secrecy_years=Triangular(low=x, mode=x + spread / 2, high=x + spread),
            migration_years=y,
        )
        longer_secret = hndl_probability(
            scenario,
            now_year=now,
            secrecy_years=Triangular(low=x + dx, mode=x + dx + spread / 2, high=x + dx + spread),
            migration_years=y,
        )
        slower = hndl_probability(
            scenario,
            now_year=now,
            secrecy_years=Triangular(low=x, mode=x + spread / 2, high=x + spread),
            migration_years=y + dy,
        )
        assert longer_secret >= base - 1e-12
        assert slower >= base - 1e-12
        assert (
            forgery_probability(scenario, now_year=now, migration_years=y + dy)
            >= forgery_probability(scenario, now_year=now, migration_years=y) - 1e-12
        )


PQC = [a.id for a in CATALOG.algorithms if not a.quantum_vulnerable]


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.sampled_from(PQC), min_size=1, max_size=6), x=durations, y=durations, t=durations, now=now_years
)
def test_pqc_only_asset_is_never_vulnerable_to_shor(names, x, y, t, now):
    asset = Asset(
        name="pqc", algorithms=names, secrecy_lifetime_years=x, migration_time_years=y, trust_lifetime_years=t
    )
    for scenario in CATALOG.timelines:
        risk = assess_asset(asset, CATALOG, scenario, CATALOG.policies, now_year=now)
        assert not risk.vulnerable
        assert risk.exposure_probability == risk.hndl_probability == risk.forgery_probability == 0.0
        assert risk.deadline is None


def test_quantile_integration_agrees_with_seeded_monte_carlo():
    # Independent check: sample x and y with numpy's triangular sampler and average F.
    rng = np.random.default_rng(20240521)
    samples = 200_000
    secrecy, migration = Triangular(low=2, mode=6, high=25), Triangular(low=0.5, mode=2, high=6)
    x = rng.triangular(secrecy.low, secrecy.mode, secrecy.high, samples)
    y = rng.triangular(migration.low, migration.mode, migration.high, samples)
    for scenario in CATALOG.timelines:
        values = crqc_probability(scenario, 2026 + x + y)
        monte_carlo, error = values.mean(), values.std() / np.sqrt(samples)
        integrated = hndl_probability(scenario, now_year=2026, secrecy_years=secrecy, migration_years=migration)
        assert abs(integrated - monte_carlo) < 4 * error + 5e-5, scenario.id  # 64-node quadrature error ~1e-5
