"""Issue 14: tables, messages and help of the main commands are readable in an 80-column terminal.

Each command runs in this process with ``COLUMNS=80``; every line must fit in 80 cells, nothing may
be cut with an ellipsis, and the values that used to be lost (demand names, exponents, the README's
own ``qin chain`` options) must appear whole.
"""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len

from qit4n.cli import main
from qit4n.cli.render import rich_table
from qit4n.report import Table


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    try:
        main(argv)
    except SystemExit as done:
        assert done.code in (0, None), capsys.readouterr()
    captured = capsys.readouterr()
    return captured.out + captured.err


@pytest.mark.parametrize(
    ("argv", "whole"),
    [
        (
            ["simulate", "secoqc-vienna-2008", "--duration", "1h"],
            ["headquarters-to-stpoelten", "research-to-stpoelten", "3.174e+11"],
        ),
        (["plan", "secoqc-vienna-2008"], ["headquarters-to-research", "2.959e+05", "1.143e+07"]),
        (["rate", "bb84-decoy", "--distance-km", "0,50,100"], ["1.4669e+05"]),
        (["rate", "--compare", "bb84-decoy,plob,tf", "--distance-km", "0,100"], ["bb84-decoy", "plob"]),
        (["sweep", "bb84-decoy", "--distance-km", "0,100", "--vary", "eta_detector=0.1,0.2", "--workers", "1"], []),
        (["scenario", "list"], ["beijing-shanghai-backbone"]),
        (["threat", "timeline"], ["gri-2023-pessimistic"]),
        (["threat", "catalog"], ["ml-kem-768"]),
        (
            ["qin", "chain", "--help"],
            ["--link-success-probability", "--swap-success-probability", "--bright-state-population"],
        ),
        (["plan", "--help"], ["--survivability / --no-survivability"]),
        (["--help"], ["scenario"]),
        (["params", "bb84-decoy"], ["dark_count_probability", "error_correction_efficiency", "dB/km"]),
        (["presets"], ["lim2014"]),
    ],
)
def test_output_fits_80_columns_and_nothing_is_cut(
    argv: list[str], whole: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    output = _run(argv, capsys, monkeypatch)
    widths = [cell_len(line) for line in output.splitlines()]
    assert max(widths) <= 80, "\n".join(line for line in output.splitlines() if cell_len(line) > 80)
    assert "…" not in output, output
    for text in whole:
        assert text in output, (text, output)
    assert not re.search(r"\de[+-]?$", output, flags=re.MULTILINE), output  # no number split after its exponent sign
    assert "<bool>" not in output


def test_a_table_too_wide_for_the_terminal_keeps_every_number_whole() -> None:
    """Five columns of 9-character numbers and two text columns in 80 columns: text folds, numbers do not
    (their natural width is 132 columns; 22 go to borders, 45 to the numbers, 13 are left for text)."""
    columns = ["label", *(f"value {index} (bit/s)" for index in range(5)), "note"]
    table = Table(columns, [["a-rather-long-demand-name", *([1.234e-05] * 5), "words that may wrap"]], caption="wide")
    from rich.console import Console

    console = Console(width=80, record=True)
    console.print(rich_table(table, width=80))
    text = console.export_text()
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    assert text.count("1.234e-05") == 5 and "a-rath" in text, text
