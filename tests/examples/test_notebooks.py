"""The notebooks in ``examples/notebooks``: one per capability, kept without outputs, checking their results.

The notebooks themselves run under nbmake (the ``test`` extra): pyproject.toml's pytest
configuration puts ``examples/notebooks`` in ``testpaths`` and ``--nbmake`` in ``addopts``, so the
README's test command executes each one top to bottom in a fresh ``python3`` kernel (ipykernel)
from its own folder, and a failing assertion in a cell fails that notebook's test. This module
checks what the run cannot: that every capability has a notebook, that the run is configured, and
that each notebook is committed clean and asserts something.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "examples" / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

#: A notebook per capability of the README's "What qit4n is" table (and the QRNG package).
CAPABILITIES = {
    "link-budget-and-key-rate",  # QKD links
    "post-processing",  # emulator and post-processing
    "network-planning",  # QKD networks
    "running-qkd-network",  # network operations (`network up`, faults)
    "kms-client",  # key management
    "quantum-random-numbers",  # QRNG
    "repeater-chains",  # quantum information networks
    "threat-assessment",  # quantum threat
}


def test_there_is_a_notebook_per_capability() -> None:
    assert {path.stem for path in NOTEBOOKS} == CAPABILITIES


def test_the_test_command_runs_every_notebook(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.hasplugin("nbmake"), "install the test extra: pip install -e '.[test]'"
    assert pytestconfig.getoption("nbmake"), "pyproject.toml's addopts must pass --nbmake"
    testpaths = {(ROOT / path).resolve() for path in pytestconfig.getini("testpaths")}
    assert NOTEBOOK_DIR.resolve() in testpaths


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_clean_and_asserts(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)  # cell ids included: nbformat 4.5
    assert notebook.metadata.kernelspec.name == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, f"{path.name}: no code cells"
    assert all(not cell.outputs and cell.execution_count is None for cell in code), (
        f"{path.name}: clear the outputs before committing"
    )
    asserts = [node for cell in code for node in ast.walk(ast.parse(cell.source)) if isinstance(node, ast.Assert)]
    assert asserts, f"{path.name}: a notebook checks its results with assert statements"
