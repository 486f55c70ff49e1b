"""Synthetic QKD networks of any size: Waxman or random geometric graphs with users and demands.

Nodes are placed uniformly in a square of ``size_km`` (default ``60 km x sqrt(nodes)``, so the
density, and hence the typical link length, does not depend on the size, up to 20,000 nodes; the
default side stops growing at ``_MAX_DEFAULT_SIDE_KM``, the 20,000-node square, so larger networks
stay on the map and are denser) around a centre, and
joined first by a Euclidean minimum spanning tree (so the graph is connected), then by more links
up to ``links`` among pairs at most ``max_link_km`` apart: drawn with the Waxman probability
``beta * exp(-d / (alpha * L))`` (``L`` the largest distance) for ``model="waxman"``, or the shortest
remaining pairs (a random geometric graph with the radius that gives that many links) for
``model="geometric"``. The ``2 x demands`` demand
end points are users; every other node is a trusted relay. Each fibre link's length is its
great-circle length; with ``rates="model"`` (default) its ``key_rate_bps`` is computed here, in one
vectorised call, from ``protocol`` at qit4n's default device parameters, so loading a large network
does not re-evaluate the model link by link; ``rates="physics"`` leaves it to the loader.

References
----------
B. M. Waxman, Routing of multipoint connections, IEEE J. Sel. Areas Commun. 6, 1617 (1988),
doi:10.1109/49.12889. M. Penrose, Random Geometric Graphs, Oxford University Press (2003).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import ConvexHull, Delaunay, QhullError, cKDTree
from scipy.spatial.distance import pdist

from qit4n.errors import ParameterError
from qit4n.net.graph import great_circle_km
from qit4n.qkd import get_protocol, key_rate_at_distance, make_parameters
from qit4n.scenario import Scenario, scenario_from_dict

__all__ = ["generate_scenario"]

_KM_PER_DEG_LAT = 111.195
#: Below this many nodes the spanning tree and the diameter use every pair (cheap, and Qhull needs >= 3 points).
_ALL_PAIRS_NODES = 64
#: Default side of the square beyond 20,000 nodes (``60 km x sqrt(20000)``).
_MAX_DEFAULT_SIDE_KM = 60.0 * np.sqrt(20_000)


def _check(nodes: int, links: int, demands: int, model: str, rates: str) -> None:
    if nodes < 2 or nodes > 100_000:
        raise ParameterError(f"nodes = {nodes}: must be between 2 and 100000")
    if links < nodes - 1 or links > nodes * (nodes - 1) // 2:
        raise ParameterError(
            f"links = {links}: must be between nodes - 1 ({nodes - 1}) "
            f"and nodes (nodes - 1) / 2 ({nodes * (nodes - 1) // 2})"
        )
    if demands < 0 or 2 * demands > nodes:
        raise ParameterError(f"demands = {demands}: must be between 0 and nodes / 2 ({nodes // 2})")
    if model not in ("waxman", "geometric"):
        raise ParameterError(f"model = {model!r}: must be 'waxman' or 'geometric'")
    if rates not in ("model", "physics"):
        raise ParameterError(f"rates = {rates!r}: must be 'model' or 'physics'")


def _rates_bps(protocol: str, length_km: np.ndarray) -> np.ndarray:
    result = key_rate_at_distance(get_protocol(protocol), make_parameters(protocol), length_km)
    return np.asarray(result.key_rate_bps, dtype=float)


def _distance_km(xy_km: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Euclidean distances of the pairs ``(i, j)``, computed as :func:`scipy.spatial.distance.pdist` does."""
    dx = xy_km[i, 0] - xy_km[j, 0]
    dy = xy_km[i, 1] - xy_km[j, 1]
    return np.sqrt(dx * dx + dy * dy)


def _spanning_tree(xy_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean minimum spanning tree as pairs ``i < j``, from the Delaunay graph (which contains it).

    Small or degenerate point sets (fewer than ``_ALL_PAIRS_NODES`` nodes, or all on a line) use
    every pair instead; either way memory is O(N) for large N.
    """
    nodes = len(xy_km)
    try:
        if nodes < _ALL_PAIRS_NODES:
            raise QhullError("small")
        simplices = Delaunay(xy_km).simplices
        edges = np.concatenate([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
        edges.sort(axis=1)
        edges = np.unique(edges, axis=0)
    except QhullError:
        edges = np.column_stack(np.triu_indices(nodes, k=1))
    i, j = edges[:, 0], edges[:, 1]
    weight = _distance_km(xy_km, i, j) + 1e-9
    tree = minimum_spanning_tree(coo_matrix((weight, (i, j)), shape=(nodes, nodes))).tocoo()
    low, high = np.minimum(tree.row, tree.col), np.maximum(tree.row, tree.col)
    return low.astype(np.int64), high.astype(np.int64)


def _candidate_pairs(xy_km: np.ndarray, max_link_km: float, nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``i < j`` at most ``max_link_km`` apart, in row-major order, with their distances (k-d tree)."""
    found = cKDTree(xy_km).query_pairs(max_link_km * (1 + 1e-9) + 1e-9, output_type="ndarray").astype(np.int64)
    if len(found) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    i, j = np.minimum(found[:, 0], found[:, 1]), np.maximum(found[:, 0], found[:, 1])
    order = np.argsort(i * nodes + j)
    i, j = i[order], j[order]
    d = _distance_km(xy_km, i, j)
    keep = d <= max_link_km
    return i[keep], j[keep], d[keep]


def _diameter_km(xy_km: np.ndarray) -> float:
    """The largest distance between two nodes (found among the convex hull's vertices)."""
    try:
        points = xy_km[ConvexHull(xy_km).vertices] if len(xy_km) >= _ALL_PAIRS_NODES else xy_km
    except QhullError:
        points = xy_km
    return float(pdist(points).max())


def generate_scenario(
    nodes: int,
    *,
    links: int | None = None,
    demands: int = 5,
    model: Literal["waxman", "geometric"] = "waxman",
    seed: int = 0,
    size_km: float | None = None,
    alpha: float = 0.05,
    beta: float = 0.6,
    max_link_km: float = 150.0,
    centre_deg: tuple[float, float] = (48.0, 10.0),
    protocol: str = "bb84-decoy",
    rates: Literal["model", "physics"] = "model",
    demand_fraction: tuple[float, float] = (0.05, 0.4),
) -> Scenario:
    """A random network of ``nodes`` nodes and ``links`` links (default ``3 x nodes``) with ``demands`` demands.

    Demand rates are drawn uniformly in ``demand_fraction`` times the median link rate.

    >>> scenario = generate_scenario(12, links=20, demands=2, seed=1)
    >>> len(scenario.nodes), len(scenario.links), len(scenario.demands)
    (12, 20, 2)
    """
    links = 3 * nodes if links is None else links
    links = min(links, nodes * (nodes - 1) // 2)
    _check(nodes, links, demands, model, rates)
    rng = np.random.default_rng(seed)
    side_km = size_km if size_km is not None else min(60.0 * np.sqrt(nodes), _MAX_DEFAULT_SIDE_KM)
    half_deg = side_km / 2 / _KM_PER_DEG_LAT
    if abs(centre_deg[0]) + half_deg >= 90.0:
        raise ParameterError(
            f"size_km = {side_km:g}: the square must stay between the poles, so at most "
            f"{2 * (90.0 - abs(centre_deg[0])) * _KM_PER_DEG_LAT:.0f} km around latitude {centre_deg[0]:g}"
        )
    xy_km = rng.uniform(-side_km / 2, side_km / 2, size=(nodes, 2))
    lat0, lon0 = centre_deg
    latitude = lat0 + xy_km[:, 1] / _KM_PER_DEG_LAT
    longitude = lon0 + xy_km[:, 0] / (_KM_PER_DEG_LAT * np.cos(np.radians(lat0)))
    tree_i, tree_j = _spanning_tree(xy_km)
    chosen = set(zip(tree_i.tolist(), tree_j.tolist()))
    candidates_i, candidates_j, d = _candidate_pairs(xy_km, max_link_km, nodes)
    if chosen:
        free = np.isin(candidates_i * nodes + candidates_j, tree_i * nodes + tree_j, invert=True)
        candidates_i, candidates_j, d = candidates_i[free], candidates_j[free], d[free]
    if links - len(chosen) > len(candidates_i):
        raise ParameterError(
            f"links = {links}: only {len(candidates_i) + len(chosen)} pairs are within max_link_km = {max_link_km:g}"
        )
    extra = links - len(chosen)
    if extra > 0:
        if model == "waxman":
            weight = beta * np.exp(-d / (alpha * _diameter_km(xy_km)))
            picks = rng.choice(len(d), size=extra, replace=False, p=weight / weight.sum())
        else:
            picks = np.argsort(d, kind="stable")[:extra]
        chosen.update(zip(candidates_i[picks].tolist(), candidates_j[picks].tolist()))
    pairs = sorted(chosen)
    length_km = [max(great_circle_km(latitude[a], longitude[a], latitude[b], longitude[b]), 0.1) for a, b in pairs]
    length = np.round(np.array(length_km), 2)
    users = rng.choice(nodes, size=2 * demands, replace=False) if demands else np.zeros(0, dtype=int)
    user_set = set(users.tolist())
    names = [f"N{index}" for index in range(nodes)]
    node_list = [
        {
            "id": names[i],
            "role": "user" if i in user_set else "trusted-relay",
            "latitude_deg": round(float(latitude[i]), 5),
            "longitude_deg": round(float(longitude[i]), 5),
        }
        for i in range(nodes)
    ]
    link_list = [
        {"id": f"L{k}", "endpoints": [names[a], names[b]], "length_km": float(length[k]), "protocol": protocol}
        for k, (a, b) in enumerate(pairs)
    ]
    if rates == "model":
        rate_bps = _rates_bps(protocol, length)
        for entry, rate in zip(link_list, rate_bps):
            entry["key_rate_bps"] = float(f"{rate:.6g}")
        median_rate = float(np.median(rate_bps))
    else:
        median_rate = float(np.median(_rates_bps(protocol, length)))
    demand_list = [
        {
            "name": f"D{k}",
            "endpoints": [names[users[2 * k]], names[users[2 * k + 1]]],
            "key_rate_bps": float(f"{rng.uniform(*demand_fraction) * max(median_rate, 1.0):.4g}"),
        }
        for k in range(demands)
    ]
    data = {
        "name": f"synthetic-{model}-{nodes}n-{len(pairs)}l-seed{seed}",
        "description": f"Synthetic {model} network generated by qit4n.net.generate (seed {seed}); "
        f"link rates from {protocol} at default device parameters.",
        "sources": [
            "B. M. Waxman, IEEE J. Sel. Areas Commun. 6, 1617 (1988), doi:10.1109/49.12889"
            if model == "waxman"
            else "M. Penrose, Random Geometric Graphs (2003)"
        ],
        "nodes": node_list,
        "links": link_list,
        "demands": demand_list,
    }
    return scenario_from_dict(data, source="generated scenario")
