"""Sparse network generation (k-d tree candidates, Delaunay spanning tree) against the dense generator it replaced."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).parent))
import reference_generate

from qit4n.errors import ParameterError
from qit4n.net.generate import generate_scenario


@pytest.mark.parametrize(
    ("nodes", "options"),
    [
        (2, {"demands": 1}),
        (5, {"links": 8, "demands": 2}),
        (12, {"links": 20, "demands": 2, "seed": 1}),
        (80, {"model": "geometric", "seed": 4}),
        (300, {"seed": 9}),
        (900, {"seed": 2, "demands": 20}),
        (600, {"model": "geometric", "links": 2500, "seed": 5}),
        (400, {"size_km": 200.0, "links": 5000, "seed": 6}),
    ],
)
def test_sparse_generator_matches_the_dense_one(nodes: int, options: dict) -> None:
    """Same nodes, links (ids, end points, lengths, rates) and demands as the N x N generator, seed for seed."""
    assert generate_scenario(nodes, **options) == reference_generate.generate_scenario(nodes, **options)


def test_too_few_pairs_in_range_names_the_limit_like_before() -> None:
    with pytest.raises(ParameterError, match="pairs are within max_link_km = 20") as new:
        generate_scenario(200, links=1000, max_link_km=20.0)
    with pytest.raises(ParameterError) as old:
        reference_generate.generate_scenario(200, links=1000, max_link_km=20.0)
    assert str(new.value) == str(old.value)


def test_large_network_is_connected_without_duplicate_links() -> None:
    """12,000 nodes (the dense generator needed 5.7 GB at 10,000): connected, 3 distinct links per node."""
    nodes = 12_000
    scenario = generate_scenario(nodes, demands=10, seed=3)
    index = {node.id: k for k, node in enumerate(scenario.nodes)}
    ends = np.array([[index[link.endpoints[0]], index[link.endpoints[1]]] for link in scenario.links])
    graph = coo_matrix((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), shape=(nodes, nodes))
    assert connected_components(graph, directed=False)[0] == 1
    assert len(scenario.links) == 3 * nodes and len({tuple(sorted(pair)) for pair in ends.tolist()}) == 3 * nodes
    assert all(link.length_km is not None and link.length_km >= 0.1 for link in scenario.links)


def test_a_square_beyond_the_poles_is_refused_in_one_line() -> None:
    with pytest.raises(
        ParameterError, match=r"^size_km = 10000: the square must stay between the poles, so at most 9340 km"
    ):
        generate_scenario(10, size_km=10_000.0)
