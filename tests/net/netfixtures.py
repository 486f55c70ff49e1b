"""Small scenarios shared by the net tests (imported by file name; test folders have no __init__)."""

from __future__ import annotations

import numpy as np

from qit4n.scenario import Scenario, scenario_from_dict


def chain_scenario(rates_bps: list[float], demand_bps: float = 1.0, capacity_bits: float = 1e9) -> Scenario:
    """Users A and B joined by a chain of trusted relays with the given link rates."""
    names = ["A"] + [f"R{i}" for i in range(1, len(rates_bps))] + ["B"]
    nodes = [{"id": name, "role": "user" if name in ("A", "B") else "trusted-relay"} for name in names]
    links = [
        {
            "id": f"L{i}",
            "endpoints": [names[i], names[i + 1]],
            "key_rate_bps": rate,
            "pool_capacity_bits": capacity_bits,
        }
        for i, rate in enumerate(rates_bps)
    ]
    return scenario_from_dict(
        {
            "name": "chain",
            "nodes": nodes,
            "links": links,
            "demands": [{"name": "ab", "endpoints": ["A", "B"], "key_rate_bps": demand_bps}],
        }
    )


def random_scenario(seed: int, n_nodes: int = 7, n_links: int = 12, n_demands: int = 3) -> Scenario:
    """A random connected-ish network: 2 users per demand end, the rest trusted relays, parallel links allowed."""
    rng = np.random.default_rng(seed)
    names = [f"N{i}" for i in range(n_nodes)]
    roles = ["user" if i < 3 else "trusted-relay" for i in range(n_nodes)]
    links = []
    for i in range(1, n_nodes):
        links.append((names[i], names[int(rng.integers(0, i))]))
    while len(links) < n_links:
        a, b = rng.choice(n_nodes, size=2, replace=False)
        links.append((names[a], names[b]))
    demand_pairs = [("N0", "N1"), ("N1", "N2"), ("N0", "N2")][:n_demands]
    return scenario_from_dict(
        {
            "name": f"random-{seed}",
            "nodes": [{"id": name, "role": role} for name, role in zip(names, roles)],
            "links": [
                {"id": f"L{i}", "endpoints": list(pair), "key_rate_bps": float(rng.integers(1, 20)) * 100.0}
                for i, pair in enumerate(links)
            ],
            "demands": [
                {"name": f"d{i}", "endpoints": list(pair), "key_rate_bps": float(rng.integers(1, 30)) * 100.0}
                for i, pair in enumerate(demand_pairs)
            ],
        }
    )
