"""Midpoint-source heralded generation: limits, monotonicity, selection in chains and on the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.errors import ParameterError
from qit4n.qin.chain import ChainParameters, link_model, simulate_chain_mc
from qit4n.qin.des_chain import simulate_chain_des
from qit4n.qin.midpoint import midpoint_source, sample_midpoint_source


@pytest.mark.parametrize("statistics", ["thermal", "poisson"])
def test_low_brightness_limit_is_linear_in_each_transmittance(statistics: str) -> None:
    outcome = midpoint_source(mean_pairs=1e-5, eta_a=0.3, eta_b=0.05, statistics=statistics)
    assert float(outcome.success_probability) == pytest.approx(1e-5 * 0.3 * 0.05, rel=1e-4)
    assert float(outcome.fidelity) == pytest.approx(1.0, abs=1e-4)


def test_brightness_trades_rate_for_fidelity_and_broadcasts() -> None:
    mean_pairs = np.array([0.001, 0.01, 0.1, 1.0])
    outcome = midpoint_source(mean_pairs=mean_pairs, eta_a=0.2, dark_count_probability=1e-6)
    assert outcome.state.shape == (4, 4)
    assert np.all(np.diff(outcome.success_probability) > 0)
    assert np.all(np.diff(outcome.fidelity) < 0)
    assert np.allclose(outcome.state.sum(axis=-1), 1.0)


def test_symmetric_in_the_two_nodes() -> None:
    one = midpoint_source(mean_pairs=0.3, eta_a=0.7, eta_b=0.1, dark_count_probability=0.01)
    other = midpoint_source(mean_pairs=0.3, eta_a=0.1, eta_b=0.7, dark_count_probability=0.01)
    assert np.allclose(one.state, other.state) and np.isclose(one.success_probability, other.success_probability)


def test_dark_counts_herald_without_light() -> None:
    outcome = midpoint_source(mean_pairs=1e-9, eta_a=1e-3, dark_count_probability=0.01)
    assert float(outcome.success_probability) == pytest.approx(1e-4, rel=1e-2)
    assert float(outcome.fidelity) < 0.3


def test_bad_parameters_name_the_field() -> None:
    with pytest.raises(ParameterError, match="eta_a"):
        midpoint_source(mean_pairs=0.1, eta_a=1.5)
    with pytest.raises(ParameterError, match="statistics"):
        midpoint_source(mean_pairs=0.1, eta_a=0.5, statistics="coherent")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="statistics"):
        sample_midpoint_source(np.random.default_rng(1), 10, mean_pairs=0.1, eta_a=0.5, statistics="coherent")  # type: ignore[arg-type]


def test_chain_selects_the_scheme() -> None:
    params = ChainParameters(segments=2, length_km=50.0, scheme="midpoint-source", source_mean_pairs=0.05)
    model = link_model(params)
    barrett_kok = link_model(params.model_copy(update={"scheme": "barrett-kok"}))
    assert model.attempt_time_s == pytest.approx(1.5 * barrett_kok.attempt_time_s)
    eta_node = 0.5 * 0.9 * 10 ** (-0.2 * 12.5 / 10) * 0.9
    expected = midpoint_source(mean_pairs=0.05, eta_a=eta_node, dark_count_probability=1e-6)
    assert model.success_probability == pytest.approx(float(expected.success_probability))
    assert model.link_fidelity == pytest.approx(float(expected.fidelity))
    mc = simulate_chain_mc(params, 2000, np.random.default_rng(1)).summary()
    des = simulate_chain_des(params, duration_s=2.0, seed=1).summary()
    assert mc["link_fidelity"] == model.link_fidelity and des["delivered_pairs"] > 0


def test_cli_scheme_and_bad_brightness() -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "qin",
            "chain",
            "--segments",
            "2",
            "--length-km",
            "50",
            "--scheme",
            "midpoint-source",
            "--source-mean-pairs",
            "0.05",
            "--samples",
            "2000",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["link_success_probability"] > 0 and report["link_fidelity"] < 1.0
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "qit4n",
            "qin",
            "chain",
            "--segments",
            "2",
            "--length-km",
            "50",
            "--scheme",
            "midpoint-source",
            "--source-mean-pairs",
            "-1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "source_mean_pairs" in bad.stderr and "Traceback" not in bad.stderr
