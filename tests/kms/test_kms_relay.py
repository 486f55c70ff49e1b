"""Key relay through trusted-node KMEs, and relays that fail half way (real servers, real TLS)."""

from __future__ import annotations

import pytest

from qit4n.kms.client import KMEError
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, network_status
from qit4n.scenario import scenario_from_dict


def chain_scenario(relays: int, rate_bps: float = 1e6, capacity_bits: float = 2e5):
    names = ["S", *[f"R{i}" for i in range(1, relays + 1)], "T"]
    nodes = [{"id": name, "role": "trusted-relay" if name.startswith("R") else "user"} for name in names]
    links = [
        {"endpoints": [a, b], "key_rate_bps": rate_bps, "pool_capacity_bits": capacity_bits}
        for a, b in zip(names, names[1:])
    ]
    return scenario_from_dict({"name": f"chain-{relays}", "nodes": nodes, "links": links})


def test_relay_across_three_trusted_nodes_spends_key_on_every_hop(tmp_path, live_network):
    plan = write_kme_plan(chain_scenario(3), tmp_path)
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-S", "SAE-T", 20)
        with live.client("SAE-S") as master, live.client("SAE-T") as slave:
            keys = master.get_key("SAE-T", number=8, size_bits=512)
            assert [k.key for k in slave.get_key_with_ids("SAE-S", [k.key_id for k in keys])] == [k.key for k in keys]
        after = network_status(plan)["kmes"]
    assert plan.configs["KME-S"].routes["KME-T"] == ["KME-R1", "KME-R2", "KME-R3", "KME-T"]
    hops = ["S", "R1", "R2", "R3", "T"]
    for left, right in zip(hops, hops[1:]):
        link_id = next(link.link_id for link in plan.configs[f"KME-{left}"].links if link.peer_kme_id == f"KME-{right}")
        sent = after[f"KME-{left}"]["links"][link_id]
        received = after[f"KME-{right}"]["links"][link_id]
        # keys, plus the link's hash key (2 units, once) and per message a 512-bit end-to-end key and a tag (3 units)
        auth_bits = (2 + 3) * 256
        assert sent["spent_bits"] == received["spent_bits"] == 8 * 512 + auth_bits, (link_id, sent, received)
        assert sent["auth_bits"] == received["auth_bits"] == auth_bits


def test_a_failing_hop_leaves_no_half_delivered_key(tmp_path, make_star, live_network):
    """B-C holds too little key: the relay to C fails at B, so the multicast copy at D is voided."""
    scenario = make_star(rate_bps=1e6, capacity_bits=2e5, relay_capacity_bits=256 * 8)
    plan = write_kme_plan(scenario, tmp_path)
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-D", 50)
        live.wait_for_keys("SAE-A", "SAE-C", 1)
        with live.client("SAE-A") as master:
            assert master.status("SAE-C")["stored_key_count"] <= 4  # B owns half of B-C's 8 units
            assert master.status("SAE-D")["stored_key_count"] >= 50
            with pytest.raises(KMEError) as failed:
                master.get_key("SAE-D", number=20, additional_slave_sae_ids=["SAE-C"])
            assert failed.value.status_code == 503
            with pytest.raises(KMEError):
                master.get_key("SAE-C", number=20)
        kmes = network_status(plan)["kmes"]
        assert kmes["KME-D"]["waiting_keys"] == 0 and kmes["KME-C"]["waiting_keys"] == 0
        assert kmes["KME-A"]["issued"] == 0
        with live.client("SAE-A") as master, live.client("SAE-D") as slave:
            key = master.get_key("SAE-D")[0]
            assert slave.get_key_with_ids("SAE-A", [key.key_id])[0].key == key.key


def test_relay_batches_stay_within_the_peers_body_limit():
    """Many waiting hop messages are split so that no request body exceeds max_bytes (16 messages of
    100 keys once made a 69 kB batch that the next KME refused with 400); one oversize message goes alone."""
    import asyncio
    import json

    from qit4n.kms.relay import RelayBatcher

    bodies: list[int] = []

    async def post(body):
        bodies.append(len(json.dumps(body)))
        await asyncio.sleep(0.01)
        return {"results": [{"status": 200, "echo": message["n"]} for message in body["messages"]]}

    async def run():
        batcher = RelayBatcher(post, max_bytes=16_384)
        messages = [{"n": index, "cipher": "x" * 5_000} for index in range(20)] + [{"n": 20, "cipher": "y" * 20_000}]
        return await asyncio.gather(*(batcher.submit(message) for message in messages))

    results = asyncio.run(run())
    assert [result["echo"] for result in results] == list(range(21))
    assert max(size for size in bodies if size < 20_000) <= 16_384
    assert sum(size > 16_384 for size in bodies) == 1
