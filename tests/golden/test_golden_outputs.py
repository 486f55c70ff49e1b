"""Behaviour lock for the architecture refactor: the JSON of key commands equals the recorded one.

The files in ``tests/golden/outputs/`` were written by the code as it stood before the layering
refactor (issue 11). A refactor must leave them unchanged; a bug fix that changes one regenerates
it (``QIT4N_REGOLD=1 pytest tests/golden``) and names the change in its commit.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qit4n.cli import app

GOLDEN_DIR = Path(__file__).parent / "outputs"
EXAMPLES_DIR = Path(__file__).parents[2] / "examples"

COMMANDS: dict[str, list[str]] = {
    "rate-bb84-decoy-gys": ["rate", "bb84-decoy", "--preset", "gys", "--distance-km", "0:200:25", "--json"],
    "rate-bb84-finite-lim2014": [
        "rate",
        "bb84-decoy-finite",
        "--preset",
        "lim2014",
        "--pulses",
        "1e10",
        "--distance-km",
        "0,50,100",
        "--json",
    ],
    "rate-mdi": ["rate", "mdi", "--distance-km", "0:200:50", "--json"],
    "rate-tf": ["rate", "tf", "--distance-km", "0:400:100", "--json"],
    "rate-cv-lodewyck2007": ["rate", "cv-gg02", "--preset", "lodewyck2007", "--distance-km", "0,25,50", "--json"],
    "rate-bbm92": ["rate", "bbm92", "--distance-km", "0,50,100", "--json"],
    "rate-bbm92-repeater": ["rate", "bbm92-repeater", "--distance-km", "0,100,200", "--json"],
    "rate-compare": ["rate", "--compare", "bb84-decoy,tf,plob", "--distance-km", "0:400:100", "--json"],
    "rate-max-distance": ["rate", "bb84-decoy-inf", "--preset", "gys", "--max-distance", "--json"],
    "plan-secoqc": ["plan", "secoqc-vienna-2008", "--json"],
    "plan-tokyo": ["plan", "tokyo-2010", "--json"],
    "simulate-secoqc": ["simulate", "secoqc-vienna-2008", "--duration", "1h", "--seed", "3", "--json"],
    "emulate-bb84-decoy": ["emulate", "bb84-decoy", "--distance-km", "25", "--pulses", "2e6", "--seed", "5", "--json"],
    "emulate-bbm92": [
        "emulate",
        "bbm92",
        "--distance-km",
        "10",
        "--pulses",
        "2e6",
        "--set",
        "eta_detector=0.6",
        "--seed",
        "5",
        "--json",
    ],
    "postprocess-cascade": ["postprocess", "--qber", "0.02", "--bits", "100000", "--seed", "7", "--json"],
    "qin-run": ["qin", "run", "qin-metro-2qc", "--seed", "2", "--duration", "200ms", "--json"],
    "qin-chain": [
        "qin",
        "chain",
        "--segments",
        "4",
        "--length-km",
        "200",
        "--samples",
        "20000",
        "--seed",
        "3",
        "--json",
    ],
    "threat-assess": ["threat", "assess", str(EXAMPLES_DIR / "inventory.yaml"), "--year", "2026", "--json"],
}

RELATIVE_TOLERANCE = 1e-9
WALL_CLOCK_KEYS = frozenset({"seconds"})


def _assert_same(actual: object, expected: object, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert sorted(actual) == sorted(expected), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for key, value in expected.items():
            if key in WALL_CLOCK_KEYS:
                continue
            _assert_same(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            _assert_same(left, right, f"{where}[{index}]")
    elif isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        assert math.isclose(actual, expected, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-300), (
            f"{where}: {actual!r} != {expected!r}"
        )
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_output_matches_the_recorded_one(name: str, cli_runner: CliRunner) -> None:
    result = cli_runner.invoke(app, COMMANDS[name])
    assert result.exit_code == 0, result.output
    actual = json.loads(result.stdout)
    golden_path = GOLDEN_DIR / f"{name}.json"
    if os.environ.get("QIT4N_REGOLD") == "1":
        GOLDEN_DIR.mkdir(exist_ok=True)
        golden_path.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
    _assert_same(actual, json.loads(golden_path.read_text()), name)
