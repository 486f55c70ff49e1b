"""Emulated key supply: KMEs on 127.0.0.1 serve key distilled by the emulator and post-processing stack.

One 10 km fibre link, decoy BB84 (the default preset), blocks of 3e7 pulses (about 800 bytes of
final key each, a few seconds per block on one core).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import signal
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
import yaml

from qit4n.errors import ParameterError, ServiceError
from qit4n.kms.client import KMEError, sae_transport
from qit4n.kms.emulated_supply import ProducerConfig, block_seed, committed_state, produce
from qit4n.kms.launcher import Network, load_plan, write_kme_plan
from qit4n.kms.ops import InProcessNetwork, operator_cert, sae_client
from qit4n.scenario import scenario_from_dict

PULSES = 30_000_000
UNIT_BYTES = 32
#: Units 0 and 1 of every link hold its authentication key; a request of 256-bit keys spends, after
#: its keys, 3 units per hop on authentication (end-to-end key and tag pad): qit4n.kms.relayauth.
FIRST_KEY_UNIT = 2
OVERHEAD_UNITS = 3


def _scenario(capacity_bits: float = 1e6, **link):
    fields = {"id": "A-B", "endpoints": ["A", "B"], "length_km": 10.0, "pool_capacity_bits": capacity_bits, **link}
    return scenario_from_dict({"name": "kms-emulated-pair", "nodes": [{"id": "A"}, {"id": "B"}], "links": [fields]})


def _producer(plan) -> ProducerConfig:
    return ProducerConfig.model_validate_json(plan.producers[0].read_text())


def _distilled_bytes(secret_hex: str, block: int) -> tuple[bytes, bytes]:
    """Alice's and Bob's final keys of one block, recomputed here from the emulator and pipeline."""
    from qit4n.emulate.run import run_link

    result = run_link("bb84-decoy", 10.0, PULSES, seed=block_seed(secret_hex, block)).distilled.result
    return tuple(
        np.packbits(key[: key.size // 8 * 8], bitorder="little").tobytes() for key in (result.alice_key, result.bob_key)
    )


def _unit(material: bytes, index: int) -> bytes:
    return material[index * UNIT_BYTES : (index + 1) * UNIT_BYTES]


def test_both_saes_get_the_distilled_key_of_their_end_and_no_more(tmp_path):
    plan = write_kme_plan(_scenario(), tmp_path, supply="emulated", pulses_per_block=PULSES)
    producer = _producer(plan)
    state = produce(producer, blocks=1, pace=False)
    alice, bob = _distilled_bytes(producer.secret_hex, 0)
    assert alice == bob and len(alice) >= 4 * UNIT_BYTES
    assert producer.key_files[0].read_bytes() == alice and producer.key_files[1].read_bytes() == bob
    assert state == {"bytes": len(alice), "blocks": 1, "discarded": 0}
    units = len(alice) // UNIT_BYTES
    with InProcessNetwork(plan), sae_client(plan, "SAE-A") as sae_a, sae_client(plan, "SAE-B") as sae_b:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            sae_a.status("SAE-B")["stored_key_count"] < (units + 1) // 2
            or sae_b.status("SAE-A")["stored_key_count"] < units // 2
        ):
            time.sleep(0.05)
        owned_a, owned_b = (units + 1) // 2 - 1, units // 2 - 1  # unit 0 or 1 is the link's authentication key
        assert sae_a.status("SAE-B")["stored_key_count"] == owned_a - OVERHEAD_UNITS
        assert sae_b.status("SAE-A")["stored_key_count"] == owned_b - OVERHEAD_UNITS
        from_a = sae_a.get_key("SAE-B", number=2)
        from_b = sae_b.get_key("SAE-A", number=2)
        assert [key.key for key in from_a] == [_unit(alice, 2), _unit(alice, 4)]
        assert [key.key for key in from_b] == [_unit(bob, 3), _unit(bob, 5)]
        assert sae_b.get_key_with_ids("SAE-A", [key.key_id for key in from_a]) == from_a
        assert sae_a.get_key_with_ids("SAE-B", [key.key_id for key in from_b]) == from_b
        rest = owned_a - (2 + OVERHEAD_UNITS) - OVERHEAD_UNITS
        with pytest.raises(KMEError) as error:
            sae_a.get_key("SAE-B", number=rest + 1)
        assert error.value.status_code == 503
        assert len(sae_a.get_key("SAE-B", number=rest)) == rest


def test_relay_through_a_trusted_node_on_emulated_key(tmp_path):
    links = [{"id": f"{a}-{b}", "endpoints": [a, b], "length_km": 10.0} for a, b in (("A", "R"), ("R", "C"))]
    nodes = [{"id": "A"}, {"id": "R", "role": "trusted-relay"}, {"id": "C"}]
    plan = write_kme_plan(
        scenario_from_dict({"name": "kms-emulated-chain", "nodes": nodes, "links": links}),
        tmp_path,
        supply="emulated",
        pulses_per_block=PULSES,
    )
    producers = [ProducerConfig.model_validate_json(path.read_text()) for path in plan.producers]
    for producer in producers:
        produce(producer, blocks=1, pace=False)
    with InProcessNetwork(plan), sae_client(plan, "SAE-A") as sae_a, sae_client(plan, "SAE-C") as sae_c:
        deadline = time.monotonic() + 10
        while sae_a.status("SAE-C")["stored_key_count"] < 2:
            assert time.monotonic() < deadline, "pools did not fill from the distilled key"
            time.sleep(0.05)
        keys = sae_a.get_key("SAE-C", number=2)
        assert sae_c.get_key_with_ids("SAE-A", [key.key_id for key in keys]) == keys
    first_hop = producers[0].key_files[0].read_bytes()
    assert [key.key for key in keys] == [_unit(first_hop, FIRST_KEY_UNIT), _unit(first_hop, FIRST_KEY_UNIT + 2)]


def test_kill_9_kmes_on_emulated_key_no_unit_is_served_twice(tmp_path):
    plan = write_kme_plan(_scenario(), tmp_path, supply="emulated", pulses_per_block=PULSES)
    producer = _producer(plan)
    produce(producer, blocks=1, pace=False)
    end0 = producer.key_files[0].read_bytes()
    with Network(dataclasses.replace(plan, producers=())) as network:
        with sae_client(plan, "SAE-A") as sae_a:
            deadline = time.monotonic() + 10
            while sae_a.status("SAE-B")["stored_key_count"] < 3:
                assert time.monotonic() < deadline, "pool did not fill from the distilled key"
                time.sleep(0.05)
            first = sae_a.get_key("SAE-B", number=2)
        network.kill("KME-B")
        network.start(["KME-B"])
        with sae_client(plan, "SAE-B") as sae_b:
            assert sae_b.get_key_with_ids("SAE-A", [first[0].key_id]) == first[:1]
            with pytest.raises(KMEError) as again:
                sae_b.get_key_with_ids("SAE-A", [first[0].key_id])
            assert again.value.status_code == 400
        network.kill("KME-A")
        network.start(["KME-A"])
        with sae_client(plan, "SAE-A") as sae_a, sae_client(plan, "SAE-B") as sae_b:
            second = sae_a.get_key("SAE-B", number=1)
            assert sae_b.get_key_with_ids("SAE-A", [first[1].key_id, second[0].key_id]) == [first[1], second[0]]
    # the first request took units 2, 4 for keys and 6, 8, 10 for authentication
    assert [key.key for key in first + second] == [_unit(end0, 2), _unit(end0, 4), _unit(end0, 12)]


def test_a_restarted_producer_keeps_committed_key_and_drops_a_torn_append(tmp_path):
    plan = write_kme_plan(_scenario(), tmp_path, supply="emulated", pulses_per_block=PULSES)
    producer = _producer(plan)
    first = produce(producer, blocks=1, pace=False)
    committed = producer.key_files[0].read_bytes()
    with open(producer.key_files[0], "ab") as handle:
        handle.write(b"torn block: written at one end only")
    second = produce(producer, blocks=1, pace=False)
    end0, end1 = (path.read_bytes() for path in producer.key_files)
    assert end0 == end1 and end0.startswith(committed)
    assert second["blocks"] == 2 and second["bytes"] == len(end0) > first["bytes"]
    assert end0[first["bytes"] :] == _distilled_bytes(producer.secret_hex, 1)[0]


def test_a_block_whose_final_keys_differ_is_discarded(tmp_path, monkeypatch):
    from qit4n.emulate import run as emulate_run

    real_run_link = emulate_run.run_link

    def bob_flips_a_bit(*args, **kwargs):
        run = real_run_link(*args, **kwargs)
        result = run.distilled.result
        bob = result.bob_key.copy()
        bob[0] ^= 1
        distilled = dataclasses.replace(run.distilled, result=dataclasses.replace(result, bob_key=bob))
        return dataclasses.replace(run, distilled=distilled)

    monkeypatch.setattr(emulate_run, "run_link", bob_flips_a_bit)
    plan = write_kme_plan(_scenario(), tmp_path, supply="emulated", pulses_per_block=PULSES)
    producer = _producer(plan)
    assert produce(producer, blocks=1, pace=False) == {"bytes": 0, "blocks": 1, "discarded": 1}
    assert all(path.read_bytes() == b"" for path in producer.key_files)


def _kms_up(scenario_file, state, *options: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-c",
        "from qit4n.cli import main; main()",
        "kms",
        "up",
        str(scenario_file),
        "--state",
        str(state),
        *options,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines.append(process.stdout.readline())
        if "running" in lines[-1]:
            assert "link key: emulated and distilled (1 producers" in "".join(lines)
            return process
        if not lines[-1] and process.poll() is not None:
            break
    process.kill()
    raise AssertionError("kms up did not start:\n" + "".join(lines))


def test_kms_up_supply_emulated_pool_follows_the_distilled_key(tmp_path):
    capacity_units = 12  # 6 owned by each end: a request of 2 keys takes 5
    scenario_file = tmp_path / "pair.yaml"
    link = {
        "id": "A-B",
        "endpoints": ["A", "B"],
        "length_km": 10.0,
        "pool_capacity_bits": capacity_units * 8 * UNIT_BYTES,
    }
    scenario_file.write_text(yaml.safe_dump({"name": "pair", "nodes": [{"id": "A"}, {"id": "B"}], "links": [link]}))
    up = _kms_up(scenario_file, tmp_path / "state", "--supply", "emulated", "--pulses-per-block", str(PULSES))
    taken = []
    try:
        plan = load_plan(tmp_path / "state")
        producer = _producer(plan)
        transport = sae_transport(*operator_cert(plan))
        with (
            httpx.Client(transport=transport, timeout=5) as http,
            sae_client(plan, "SAE-A") as sae_a,
            sae_client(plan, "SAE-B") as sae_b,
        ):
            deadline = time.monotonic() + 60
            while committed_state(producer.committed_file)["blocks"] < 2:
                assert time.monotonic() < deadline, "producer made no progress"
                for kme_id in ("KME-A", "KME-B"):
                    link = http.get(plan.url(kme_id) + "/kme/v1/health").json()["links"]["A-B"]
                    distilled_units = committed_state(producer.committed_file)["bytes"] // UNIT_BYTES
                    assert (
                        link["pool_bits"] + link["spent_bits"]
                        <= link["distilled_bits"]
                        <= distilled_units * 8 * UNIT_BYTES
                    )
                    assert link["pool_bits"] <= capacity_units * 8 * UNIT_BYTES
                if sae_a.status("SAE-B")["stored_key_count"] >= 2:
                    taken += sae_a.get_key("SAE-B", number=2)
                time.sleep(0.1)
            # Units become usable once both ends have announced them (Kx supply, at most 1 s later).
            while not taken and time.monotonic() < deadline:
                if sae_a.status("SAE-B")["stored_key_count"] >= 2:
                    taken += sae_a.get_key("SAE-B", number=2)
                time.sleep(0.1)
            assert taken, "no key was served"
            assert sae_b.get_key_with_ids("SAE-A", [key.key_id for key in taken]) == taken
    finally:
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=30)
    assert up.returncode == 0, output
    end0 = producer.key_files[0].read_bytes()
    per_request = 2 * (2 + OVERHEAD_UNITS)  # units between the first keys of two requests of 2 keys
    expected = [_unit(end0, FIRST_KEY_UNIT + per_request * (i // 2) + 2 * (i % 2)) for i in range(len(taken))]
    assert [key.key for key in taken] == expected
    assert end0 == producer.key_files[1].read_bytes()


def test_one_producer_per_link_and_private_key_files(tmp_path):
    plan = write_kme_plan(_scenario(), tmp_path, supply="emulated", pulses_per_block=10_000)
    producer = _producer(plan)
    assert produce(producer, blocks=1, pace=False) == {"bytes": 0, "blocks": 1, "discarded": 0}
    assert all(path.stat().st_mode & 0o077 == 0 for path in producer.key_files)
    with open(producer.committed_file.with_suffix(".lock"), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ServiceError, match="another producer is running"):
            produce(producer, blocks=1, pace=False)
    assert committed_state(producer.committed_file)["blocks"] == 1


def test_supply_choice_is_checked_and_kept_with_the_state(tmp_path):
    with pytest.raises(ParameterError, match="supply = 'distilled'"):
        write_kme_plan(_scenario(), tmp_path / "a", supply="distilled")
    given = write_kme_plan(_scenario(length_km=None, key_rate_bps=1e3), tmp_path / "b", supply="emulated")
    assert given.producers == () and given.configs["KME-A"].links[0].key_file is None
    reasons = json.loads((tmp_path / "b" / "network.json").read_text())["modelled_links"]
    assert list(reasons) == ["A-B"] and "links[0].length_km = None" in reasons["A-B"]
    write_kme_plan(_scenario(), tmp_path / "c")
    with pytest.raises(ServiceError, match="planned with supply 'modelled'"):
        write_kme_plan(_scenario(), tmp_path / "c", supply="emulated")


def test_cli_up_rejects_a_bad_supply_with_exit_2(tmp_path):
    scenario_file = tmp_path / "pair.yaml"
    links = [{"endpoints": ["A", "B"], "length_km": 10.0}]
    scenario_file.write_text(yaml.safe_dump({"name": "pair", "nodes": [{"id": "A"}, {"id": "B"}], "links": links}))
    command = [
        sys.executable,
        "-c",
        "from qit4n.cli import main; main()",
        "kms",
        "up",
        str(scenario_file),
        "--state",
        str(tmp_path / "s"),
        "--supply",
        "bogus",
        "--duration-s",
        "0",
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "supply = 'bogus'" in result.stderr and "Traceback" not in result.stderr
