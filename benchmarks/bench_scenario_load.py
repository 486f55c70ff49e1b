"""Loading large generated scenarios: YAML against JSON, CPU seconds, identical objects.

For each size a network is generated, written with :func:`qit4n.scenario.scenario_to_yaml` and
:func:`qit4n.scenario.scenario_to_json`, and read back with :func:`qit4n.scenario.load_scenario`
(parse, schema, cross-references and model checks). The YAML row is the previous way to ship a
large network; both must give the same :class:`~qit4n.scenario.Scenario`.

Run: ``.venv/bin/python benchmarks/bench_scenario_load.py [--nodes 1000,10000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from qit4n.net.generate import generate_scenario
from qit4n.scenario import load_scenario, scenario_to_json, scenario_to_yaml


def _timed_load(path: Path) -> tuple[float, object]:
    start = time.process_time()
    loaded = load_scenario(path)
    return time.process_time() - start, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="1000,10000", help="network sizes, comma separated")
    args = parser.parse_args()
    load_scenario("secoqc-vienna-2008")  # imports outside the clock
    print(f"{'nodes':>7} {'yaml MB':>8} {'json MB':>8} {'yaml s':>7} {'json s':>7} {'ratio':>6} identical")
    with tempfile.TemporaryDirectory() as folder:
        for nodes in (int(text) for text in args.nodes.split(",")):
            scenario = generate_scenario(nodes, demands=50, seed=0)
            yaml_path, json_path = Path(folder) / "net.yaml", Path(folder) / "net.json"
            yaml_path.write_text(scenario_to_yaml(scenario))
            json_path.write_text(scenario_to_json(scenario))
            yaml_s, from_yaml = _timed_load(yaml_path)
            json_s, from_json = _timed_load(json_path)
            print(
                f"{nodes:7d} {yaml_path.stat().st_size / 1e6:8.1f} {json_path.stat().st_size / 1e6:8.1f} "
                f"{yaml_s:7.2f} {json_s:7.2f} {yaml_s / json_s:6.1f} {from_yaml == from_json == scenario}"
            )


if __name__ == "__main__":
    main()
