"""``qit4n --version`` and ``qit4n scenario list``: what a new user looks for first."""

from __future__ import annotations

import json
from importlib.metadata import version

from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.scenario import builtin_names, load_scenario


def test_version_prints_the_installed_version(cli_runner: CliRunner) -> None:
    result = cli_runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"qit4n {version('qit4n')}"


def test_scenario_list_names_every_builtin_with_its_size(cli_runner: CliRunner) -> None:
    result = cli_runner.invoke(app, ["scenario", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["name"] for row in rows] == builtin_names()
    for row in rows:
        scenario = load_scenario(row["name"])
        assert (row["nodes"], row["links"], row["demands"]) == (
            len(scenario.nodes),
            len(scenario.links),
            len(scenario.demands),
        )
    table = cli_runner.invoke(app, ["scenario", "list"], env={"COLUMNS": "80"})
    assert all(name in table.stdout for name in builtin_names())
