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


def test_params_lists_every_set_name_with_unit_range_default_and_the_presets_that_set_it(
    cli_runner: CliRunner,
) -> None:
    from qit4n.qkd import all_presets, get_protocol

    result = cli_runner.invoke(app, ["params", "bb84-decoy", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == set(get_protocol("bb84-decoy").parameters.model_fields)
    assert rows["loss_db_per_km"]["unit"] == "dB/km" and rows["loss_db_per_km"]["allowed"] == ">= 0, <= 10"
    assert rows["eta_detector"]["default"] == "0.1" and rows["eta_detector"]["meaning"]
    gys = all_presets()["gys"].parameters
    assert all("gys" in rows[name]["set by presets"] for name in gys)
    bad = cli_runner.invoke(app, ["params", "nosuch"])
    assert bad.exit_code != 0


def test_presets_show_their_caveats(cli_runner: CliRunner) -> None:
    from qit4n.qkd import all_presets

    result = cli_runner.invoke(app, ["presets"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    for preset in all_presets().values():
        if preset.notes:
            assert " ".join(preset.notes.split())[:60] in result.stdout, preset.name
