"""The network state in the terms of ETSI GS QKD 015 V2.1.1 (2022-04), YANG module ``etsi-qkd-sdn-node``.

One ``qkd_node`` per node, as its SDN agent would report it to the controller: the node's
``qkdn_id`` and status, one ``qkd_interface`` per QKD link end (``qkdi_id`` numbered from 1 within the
node), one ``qkd_link`` per QKD link ending at the node (``qkdl_type`` ``DIRECT``) with its
performance (``skr``: the key rate now; ``phys_perf``: the QBER) and one per installed relay route
starting at the node (``VIRT``: ``virt_prev_hop``/``virt_next_hop``). Identity names of
``etsi-qkdn-types`` are written without module prefix in upper case as below, since the
enumeration text of the YANG module was not available to this project (docs/network.md lists
the mapping and these names).
"""

from __future__ import annotations

from typing import Any

from qit4n.qkdn.state import LinkStatus, NetworkState, NodeStatus

__all__ = ["LINK_STATUS", "NODE_STATUS", "etsi015_document"]

#: LinkStatus -> qkdl_status (link-status-types).
LINK_STATUS = {
    LinkStatus.UP: "ACTIVE",
    LinkStatus.DEGRADED: "ACTIVE",
    LinkStatus.DOWN: "OFF",
    LinkStatus.ABORTED: "OFF",
}
#: NodeStatus -> qkdn_status (qkdn-status-types).
NODE_STATUS = {NodeStatus.UP: "UP", NodeStatus.DOWN: "DOWN"}


def etsi015_document(state: NetworkState) -> dict[str, Any]:
    """``{"network": ..., "qkd_node": [...]}`` with one ``qkd_node`` per node (module docstring)."""
    qkdn_ids = {node.id: str(node.qkdn_id) for node in state.nodes}
    kme_to_node = {node.kme_id: node.id for node in state.nodes}
    interfaces: dict[str, dict[str, int]] = {node.id: {} for node in state.nodes}
    for link in state.links:
        for end in link.endpoints:
            interfaces[end][link.id] = len(interfaces[end]) + 1
    nodes = []
    for node in state.nodes:
        links = []
        for link in state.links:
            if node.id not in link.endpoints:
                continue
            other = link.endpoints[1] if link.endpoints[0] == node.id else link.endpoints[0]
            phys_perf = [] if link.qber is None else [{"perf_type": "QBER", "value": link.qber}]
            links.append(
                {
                    "qkdl_id": str(link.qkdl_id),
                    "qkdl_status": LINK_STATUS[link.state],
                    "qkdl_enable": link.state != LinkStatus.DOWN,
                    "qkdl_local": {"qkdn_id": qkdn_ids[node.id], "qkdi_id": interfaces[node.id][link.id]},
                    "qkdl_remote": {"qkdn_id": qkdn_ids[other], "qkdi_id": interfaces[other][link.id]},
                    "qkdl_type": "DIRECT",
                    "qkdl_performance": {"skr": link.key_rate_bps, "eskr": link.key_rate_bps, "phys_perf": phys_perf},
                    "x_qit4n_link_id": link.id,
                    "x_qit4n_pool_bits": link.pool_bits,
                    "x_qit4n_pool_capacity_bits": link.pool_capacity_bits,
                }
            )
        for route in state.routes:
            if kme_to_node.get(route.source_kme) != node.id or len(route.path) < 3:
                continue
            target = kme_to_node[route.target_kme]
            links.append(
                {
                    "qkdl_id": f"{node.id}->{target}",
                    "qkdl_status": "ACTIVE",
                    "qkdl_enable": True,
                    "qkdl_local": {"qkdn_id": qkdn_ids[node.id]},
                    "qkdl_remote": {"qkdn_id": qkdn_ids[target]},
                    "qkdl_type": "VIRT",
                    "virt_prev_hop": None,
                    "virt_next_hop": [qkdn_ids[kme_to_node[hop]] for hop in route.path[1:]],
                }
            )
        nodes.append(
            {
                "qkdn_id": qkdn_ids[node.id],
                "qkdn_status": NODE_STATUS[node.state],
                "qkdn_location_id": node.id,
                "qkdn_capabilities": {
                    "link_stats_support": True,
                    "application_stats_support": False,
                    "key_relay_mode_enable": True,
                },
                "qkd_interfaces": {
                    "qkd_interface": [
                        {
                            "qkdi_id": number,
                            "qkdi_status": "UP" if node.state == NodeStatus.UP else "DOWN",
                            "qkdi_att_point": {"device": node.kme_id, "port": link_id},
                        }
                        for link_id, number in interfaces[node.id].items()
                    ]
                },
                "qkd_links": {"qkd_link": links},
            }
        )
    return {"network": state.network, "generated_at": state.generated_at.isoformat(), "qkd_node": nodes}
