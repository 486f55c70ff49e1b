"""Network design: the cheapest set of candidate links that meets every demand, also under any single failure.

A mixed-integer program (SciPy's HiGHS): one binary per candidate link (build it or not) and, for
every network state (intact, and each single link failure; optionally each single relay-node
failure), a multi-commodity flow that carries every demand at its full rate through nodes allowed
to relay, using only built links that work in that state. Flows may differ between states, so a
failure may be answered by rerouting every demand. Cost of a candidate = ``cost_per_link +
cost_per_km x length`` (length given, or the great-circle distance between its end points).
The program grows as (links + 1) x demands x links, so it is meant for networks of tens of links.

References
----------
W. D. Grover, Mesh-Based Survivable Networks, Prentice Hall (2004), ch. 5 (joint working and spare
capacity design as an integer program). ITU-T Y.3803 (2020): trusted-node key relay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from qit4n.errors import InfeasibleError, ParameterError
from qit4n.net.graph import build_network
from qit4n.net.plan import demand_specs
from qit4n.scenario.load import scenario_from_dict
from qit4n.scenario.model import Scenario

__all__ = ["DesignResult", "design_network"]


@dataclass(frozen=True)
class DesignResult:
    """Chosen candidate links (id, end points, cost, length, key rate) and their total cost."""

    chosen: tuple[dict, ...]
    total_cost: float
    states: int

    def to_dict(self) -> dict:
        """JSON-ready form (``chosen_links``, ``total_cost``)."""
        return {"chosen_links": list(self.chosen), "total_cost": self.total_cost, "states": self.states}


def _merged(base: Scenario, candidates: Scenario) -> tuple[Scenario, list[int]]:
    known = {node.id for node in base.nodes}
    base_ids = {base.link_id(index) for index in range(len(base.links))}
    links = [link.model_dump(mode="json", exclude_defaults=True) for link in base.links]
    for index in range(len(base.links)):
        links[index]["id"] = base.link_id(index)
    positions = []
    for index, link in enumerate(candidates.links):
        for end in link.endpoints:
            if end not in known:
                raise ParameterError(
                    f"candidates.links[{index}].endpoints: {end!r} is not a node of scenario {base.name!r}"
                )
        entry = link.model_dump(mode="json", exclude_defaults=True)
        entry["id"] = candidates.link_id(index)
        if entry["id"] in base_ids:
            entry["id"] = f"candidate:{entry['id']}"
        positions.append(len(links))
        links.append(entry)
    data = base.model_dump(mode="json", exclude_defaults=True)
    data["links"] = links
    return scenario_from_dict(data, source=f"{base.name} + candidates"), positions


def design_network(
    scenario: Scenario,
    candidates: Scenario,
    *,
    cost_per_km: float = 1.0,
    cost_per_link: float = 0.0,
    survive_link_failures: bool = True,
    survive_node_failures: bool = False,
    users_relay: bool = False,
) -> DesignResult:
    """Choose the cheapest candidate links so every demand of ``scenario`` is met at its rate in every state.

    ``scenario`` gives nodes, demands and the links that already exist (free); ``candidates`` gives
    the links that may be built (its nodes are ignored; link end points must be nodes of ``scenario``),
    each costing its own ``cost`` when given, else ``cost_per_link + cost_per_km * length_km``.
    Raises :class:`InfeasibleError` when even building every candidate is not enough.
    """
    if cost_per_km < 0 or cost_per_link < 0:
        raise ParameterError(f"cost_per_km = {cost_per_km:g}, cost_per_link = {cost_per_link:g}: must be >= 0")
    merged, candidate_positions = _merged(scenario, candidates)
    network = build_network(merged, users_relay=users_relay)
    demands = demand_specs(merged)
    links = network.links
    nodes = network.node_ids
    index = {node: position for position, node in enumerate(nodes)}
    n_links, n_nodes = len(links), len(nodes)
    candidate_of = {position: number for number, position in enumerate(candidate_positions)}
    cost = np.array(
        [
            merged.links[position].cost
            if merged.links[position].cost is not None
            else cost_per_link + cost_per_km * links[position].length_km
            for position in candidate_positions
        ]
    )
    states: list[tuple[set[int], set[int]]] = [(set(), set())]
    if survive_link_failures:
        states += [({position}, set()) for position in range(n_links)]
    if survive_node_failures:
        states += [(set(), {index[node]}) for node in nodes if node in network.relays]
    n_binary = len(candidate_positions)
    rows, cols, values, lower, upper = [], [], [], [], []
    column = n_binary
    row = 0
    for dead_links, dead_nodes in states:
        capacity_entries: dict[int, list[int]] = {}
        for demand in demands:
            s, t = index[demand.source], index[demand.target]
            if s in dead_nodes or t in dead_nodes:
                continue
            balance_row = {node: row + node for node in range(n_nodes)}
            for position, link in enumerate(links):
                u, v = index[link.endpoints[0]], index[link.endpoints[1]]
                if position in dead_links or u in dead_nodes or v in dead_nodes or link.average_rate_bps <= 0:
                    continue
                for tail, head in ((u, v), (v, u)):
                    if head != t and head != s and nodes[head] not in network.relays:
                        continue
                    if head == s or tail == t:
                        continue
                    rows += [balance_row[tail], balance_row[head]]
                    cols += [column, column]
                    values += [1.0, -1.0]
                    capacity_entries.setdefault(position, []).append(column)
                    column += 1
            rate = demand.rate_bps
            for node in range(n_nodes):
                target = rate if node == s else -rate if node == t else 0.0
                lower.append(target)
                upper.append(target)
            row += n_nodes
        for position, columns in capacity_entries.items():
            rate = links[position].average_rate_bps
            rows += [row] * len(columns)
            cols += columns
            values += [1.0 / rate] * len(columns)
            if position in candidate_of:
                rows.append(row)
                cols.append(candidate_of[position])
                values.append(-1.0)
                upper.append(0.0)
            else:
                upper.append(1.0)
            lower.append(-np.inf)
            row += 1
    n_vars = column
    matrix = coo_array((values, (rows, cols)), shape=(row, n_vars)).tocsr()
    objective = np.concatenate([cost, np.zeros(n_vars - n_binary)])
    integrality = np.concatenate([np.ones(n_binary), np.zeros(n_vars - n_binary)])
    bounds = Bounds(np.zeros(n_vars), np.concatenate([np.ones(n_binary), np.full(n_vars - n_binary, np.inf)]))
    result = milp(
        objective,
        constraints=LinearConstraint(matrix, np.array(lower), np.array(upper)),
        integrality=integrality,
        bounds=bounds,
    )
    if result.status != 0 or result.x is None:
        what = "under every single failure" if len(states) > 1 else "in the intact network"
        raise InfeasibleError(
            f"design: no set of candidate links meets every demand at its rate {what} ({result.message})"
        )
    chosen = []
    total_cost = 0.0
    for number, position in enumerate(candidate_positions):
        if result.x[number] > 0.5:
            link = links[position]
            total_cost += float(cost[number])
            chosen.append(
                {
                    "id": link.id,
                    "endpoints": list(link.endpoints),
                    "cost": float(cost[number]),
                    "length_km": link.length_km,
                    "key_rate_bps": link.average_rate_bps,
                }
            )
    return DesignResult(tuple(chosen), total_cost, len(states))
