"""Figures of the network layer: the network map, pool levels over time, delivered key over time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qit4n.net.graph import KeyNetwork

__all__ = ["plot_delivered", "plot_network", "plot_pool_levels"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _layout(network: KeyNetwork) -> dict[str, tuple[float, float]]:
    """Node positions: longitude/latitude where given; a node without them (a satellite) sits above
    the mean of its placed neighbours; a spring layout places whatever is left."""
    import networkx as nx

    positions = dict(network.positions)
    graph = network.multigraph()
    if positions:
        xy = np.array(list(positions.values()))
        lift = 0.1 * max(float(np.ptp(xy[:, 1])), 1e-3)
        for node in network.node_ids:
            placed = [positions[other] for other in graph.neighbors(node) if other in network.positions]
            if node not in positions and placed:
                x, y = np.mean(placed, axis=0)
                positions[node] = (float(x), float(y) + lift)
    missing = [node for node in network.node_ids if node not in positions]
    if missing:
        fixed = list(positions) or None
        seed_positions = {node: np.array(xy) for node, xy in positions.items()} or None
        layout = nx.spring_layout(graph, pos=seed_positions, fixed=fixed, seed=1)
        positions.update({node: tuple(layout[node]) for node in missing})
    return positions


def plot_network(network: KeyNetwork, path: Path, *, title: str = "") -> Path:
    """Nodes at their coordinates (relays as squares, users as circles), links coloured by key rate (log scale)."""
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    positions = _layout(network)
    figure, axes = plt.subplots(figsize=(7.5, 6.0), dpi=110)
    rates = np.array([max(link.average_rate_bps, 1e-3) for link in network.links]) if network.links else np.ones(1)
    norm = LogNorm(vmin=rates.min(), vmax=max(rates.max(), rates.min() * 10))
    cmap = plt.get_cmap("viridis")
    for link, rate in zip(network.links, rates):
        (x1, y1), (x2, y2) = positions[link.endpoints[0]], positions[link.endpoints[1]]
        axes.plot(
            [x1, x2],
            [y1, y2],
            color=cmap(norm(rate)),
            linewidth=2.0,
            linestyle="--" if link.satellite else "-",
            zorder=1,
        )
    few = len(network.node_ids) <= 60
    roles = {node.id: node.role.value for node in network.scenario.nodes}
    for node in network.node_ids:
        x, y = positions[node]
        relay = node in network.relays
        axes.scatter(
            [x], [y], marker="s" if relay else "o", s=30 if few else 6, color="#444" if relay else "#c0392b", zorder=2
        )
        if few and (len(network.node_ids) <= 25 or roles[node] != "trusted-relay"):
            axes.annotate(node, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    figure.colorbar(mappable, ax=axes, label="link key rate (bit/s, long-run mean)")
    axes.set_xlabel("longitude (deg)" if network.positions else "x")
    axes.set_ylabel("latitude (deg)" if network.positions else "y")
    axes.set_title(title or network.scenario.name)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_pool_levels(
    times_s: np.ndarray, levels_bits: np.ndarray, labels: tuple[str, ...], path: Path, *, most: int = 8
) -> Path:
    """Pool levels over time for the ``most`` pools that vary most."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 4.6), dpi=110)
    order = np.argsort(-np.ptp(levels_bits, axis=0))[:most] if levels_bits.size else np.zeros(0, dtype=np.intp)
    hours = times_s / 3600.0
    for column in order:
        axes.plot(hours, levels_bits[:, column], label=labels[column], linewidth=1.4)
    axes.set_xlabel("time (h)")
    axes.set_ylabel("key in pool (bits)")
    axes.set_title("Key pool levels")
    axes.grid(True, alpha=0.3)
    if len(order):
        axes.legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_delivered(times_s: np.ndarray, delivered_bits: np.ndarray, names: list[str], path: Path) -> Path:
    """Cumulative end-to-end key delivered to each demand."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 4.6), dpi=110)
    hours = times_s / 3600.0
    for column, name in enumerate(names):
        axes.plot(hours, delivered_bits[:, column], label=name, linewidth=1.6)
    axes.set_xlabel("time (h)")
    axes.set_ylabel("delivered key (bits)")
    axes.set_title("End-to-end key delivered")
    axes.grid(True, alpha=0.3)
    if names:
        axes.legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
