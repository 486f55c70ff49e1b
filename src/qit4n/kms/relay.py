"""Key relay through trusted-node KMEs (ITU-T Y.3800-series): routes, one-time pad, hop messages.

A key for a slave SAE behind a KME that no QKD link joins to the master's KME travels hop by hop.
On the first hop the key *is* the link key the two ends share (only unit IDs travel); on every
later hop the trusted node XORs it with fresh link key of the next hop (one-time pad) and sends the
ciphertext with the unit IDs. Each hop consumes as much link key as the key is long, so every hop
spends key and no key crosses a link in clear.

References
----------
ITU-T Y.3800 (2019) clause 8, ITU-T Y.3803 (2020): key relay over trusted nodes.
G. S. Vernam, J. AIEE 45, 109 (1926): one-time pad.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from qit4n.errors import NoKeyRouteError
from qit4n.kms.errors import EtsiError
from qit4n.schema import StrictModel

__all__ = ["RelayBatcher", "RelayMessage", "relay_route", "route_table", "xor_bytes"]


def xor_bytes(left: bytes, right: bytes) -> bytes:
    """Bytewise XOR of two equally long byte strings (one-time pad).

    >>> xor_bytes(b"\\x0f\\xf0", b"\\xff\\xff")
    b'\\xf0\\x0f'
    """
    if len(left) != len(right):
        raise ValueError(f"one-time pad: lengths differ ({len(left)} != {len(right)} bytes)")
    return (int.from_bytes(left, "big") ^ int.from_bytes(right, "big")).to_bytes(len(left), "big")


def relay_route(scenario: Any, source: str, target: str) -> list[str]:
    """Nodes from ``source`` to ``target`` along the fewest QKD links (both ends included).

    The route comes from the network layer (:func:`qit4n.net.shortest_path` by hop count). Every
    KME of a key management network is a trusted node, so user sites relay too (as in SECOQC).

    >>> from qit4n.scenario import scenario_from_dict
    >>> s = scenario_from_dict({"name": "chain", "nodes": [{"id": "A"}, {"id": "B"}, {"id": "C"}],
    ...     "links": [{"endpoints": ["A", "B"], "key_rate_bps": 1e3}, {"endpoints": ["B", "C"], "key_rate_bps": 1e3}]})
    >>> relay_route(s, "A", "C")
    ['A', 'B', 'C']
    """
    from qit4n.net import build_network, shortest_path

    return shortest_path(build_network(scenario, users_relay=True), source, target, weight="hops")


def route_table(scenario: Any, source: str) -> dict[str, list[str]]:
    """For each node reachable from ``source``: the next nodes of its relay route, ending at it."""
    from qit4n.net import build_network, shortest_path

    network = build_network(scenario, users_relay=True)
    routes = {}
    for node in scenario.nodes:
        if node.id == source:
            continue
        try:
            routes[node.id] = shortest_path(network, source, node.id, weight="hops")[1:]
        except NoKeyRouteError:
            continue
    return routes


class RelayMessage(StrictModel):
    """What one KME sends the next on a relay route (KME-to-KME API, mutual TLS).

    The keys of one Get key call travel together: ``count`` keys of ``size`` bits, padded by the
    sender's units ``unit_start, unit_start + 2, ...`` of ``link_id`` (``units_per_key`` per key).
    """

    batch_ID: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{8}0000$")
    count: int = Field(ge=1, le=65535)
    size: int = Field(ge=8, le=1 << 20, multiple_of=8, description="key size in bits")
    master_SAE_ID: str
    slave_SAE_IDs: list[str] = Field(min_length=1, description="slaves attached to the last KME of the route")
    route: list[str] = Field(min_length=1, description="KMEs still to visit; the first is the receiver")
    link_id: str
    unit_start: int = Field(ge=0, description="first of the sender's units of link_id that pad the keys")
    ciphertext: str | None = Field(None, description="base64 of the keys XOR pads; None on the first hop (keys = pads)")


class RelayBatcher:
    """Sends relay messages to one peer KME, many per HTTPS request.

    Messages submitted while a request is in flight go together in the next one (at most
    ``max_batch``); the peer processes each message on its own and answers one status per
    message, so one failing message fails only its own submitter.
    """

    def __init__(self, post, *, max_batch: int = 64) -> None:
        self._post = post
        self._max_batch = max_batch
        self._waiting: list[tuple[dict, asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def submit(self, message: dict) -> None:
        """Send ``message``; returns when the peer has processed it, raises if it failed."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((message, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            try:
                answer = await self._post({"messages": [message for message, _ in batch]})
                results = answer["results"]
            except Exception as error:  # noqa: BLE001 - every submitter gets the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(
                            error
                            if isinstance(error, EtsiError)
                            else EtsiError(503, f"relay request failed: {error!r}")
                        )
                continue
            for (_, future), result in zip(batch, results):
                if future.done():
                    continue
                if result.get("status") == 200:
                    future.set_result(None)
                else:
                    future.set_exception(EtsiError(503, f"relay hop refused: {result.get('message')}", [result]))
