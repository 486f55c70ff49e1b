"""The notebooks in ``examples/notebooks`` run top to bottom, each in under 20 s.

A notebook is read as JSON (nbformat 4) and its code cells run in order in one namespace, in a
scratch folder, as a fresh kernel would run them; assertions inside the notebooks check their
results. Notebooks are kept without outputs, so what they show is what this test ran.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "examples" / "notebooks").glob("*.ipynb"))

#: Seconds a notebook may take on the 2-core CI machine.
TIME_LIMIT_S = 20.0


def _code_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    cells = notebook["cells"]
    assert all(not cell.get("outputs") for cell in cells), f"{path.name}: clear the outputs before committing"
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def test_there_is_a_notebook_per_capability() -> None:
    capabilities = {
        "link-budget-and-key-rate",
        "post-processing",
        "network-planning",
        "kms-client",
        "repeater-chains",
        "threat-assessment",
    }
    assert capabilities <= {path.stem for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_quickly(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__main__"}
    start = time.perf_counter()
    for index, source in enumerate(_code_cells(path)):
        exec(compile(source, f"{path.name}[cell {index}]", "exec"), namespace)
    plt.close("all")
    assert time.perf_counter() - start < TIME_LIMIT_S
