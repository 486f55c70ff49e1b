"""Issue 13: a degraded link (`network fault noise` below the abort QBER) slows the emulated supply as it
slows the modelled one, and a cut link's producer stops (qit4n.kms.emulated_supply, qit4n.qkdn.faults)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from qit4n.kms.emulated_supply import ProducerConfig, committed_state, produce, read_link_condition
from qit4n.kms.launcher import write_kme_plan
from qit4n.qkdn.faults import apply_fault
from qit4n.qkdn.plan import write_controller_plan
from qit4n.scenario import scenario_from_dict

PULSES = 30_000_000
SCENARIO = {
    "name": "emulated-degraded-pair",
    "nodes": [{"id": "A"}, {"id": "B"}],
    "links": [{"id": "A-B", "endpoints": ["A", "B"], "length_km": 10.0, "pool_capacity_bits": 1e6}],
}


def _planned(state: Path) -> tuple[object, ProducerConfig]:
    scenario = scenario_from_dict(SCENARIO)
    kmes = write_kme_plan(scenario, state, supply="emulated", pulses_per_block=PULSES)
    plan = write_controller_plan(scenario, kmes)
    return plan, ProducerConfig.model_validate_json(kmes.producers[0].read_text())


def _elsewhere(producer: ProducerConfig, folder: Path) -> ProducerConfig:
    """The same link (same secret, so the same blocks) with its files in ``folder``."""
    folder.mkdir(mode=0o700)
    files = (folder / "end0.key", folder / "end1.key")
    return producer.model_copy(update={"key_files": files, "committed_file": folder / "committed.json"})


def test_noise_below_the_abort_threshold_keeps_that_share_of_each_block(tmp_path: Path) -> None:
    plan, producer = _planned(tmp_path / "state")
    recorded = apply_fault(plan, "noise", "A-B", classical="1550.12:-20dBm")  # no KME runs: recorded, and told
    assert 0.5 < recorded["rate_factor"] < 1.0 and recorded["qber"] < 0.11  # the producer
    assert read_link_condition(producer.committed_file) == (False, recorded["rate_factor"])

    clean = _elsewhere(producer, tmp_path / "clean")
    full = produce(clean, blocks=1, pace=False)["bytes"]
    degraded = produce(producer, blocks=1, pace=False)["bytes"]
    assert full > 0 and degraded == int(full * recorded["rate_factor"])
    for clean_file, degraded_file in zip(clean.key_files, producer.key_files):
        assert degraded_file.read_bytes() == clean_file.read_bytes()[:degraded]  # both ends: the same prefix

    apply_fault(plan, "restore", "A-B")
    assert read_link_condition(producer.committed_file) == (False, 1.0)


def test_a_cut_link_distils_nothing_until_restored(tmp_path: Path) -> None:
    plan, producer = _planned(tmp_path / "state")
    apply_fault(plan, "cut", "A-B")
    worker = threading.Thread(target=produce, args=(producer,), kwargs={"blocks": 1, "pace": False}, daemon=True)
    worker.start()
    time.sleep(1.0)
    assert committed_state(producer.committed_file)["blocks"] == 0 and worker.is_alive()
    apply_fault(plan, "restore", "A-B")
    worker.join(timeout=60)
    assert not worker.is_alive() and committed_state(producer.committed_file)["blocks"] == 1
