"""Key relay through trusted-node KMEs (ITU-T Y.3800-series): one-time pad, hop messages, the engine.

A key for a slave SAE behind a KME that no QKD link joins to the master's KME travels hop by hop.
On the first hop the key *is* the link key the two ends share (only unit IDs travel); on every
later hop the trusted node XORs it with fresh link key of the next hop (one-time pad) and sends the
ciphertext with the unit IDs. Each hop consumes as much link key as the key is long, so every hop
spends key and no key crosses a link in clear.

:class:`RelayEngine` is the KME-to-KME side of a KME: it makes the keys of a request, carries them
to every slave's KME before the master is answered, and voids them everywhere if any transport
fails (no half-delivered key). Relay messages to one peer travel in batches (:class:`RelayBatcher`).
The routes come from the plan (:mod:`qit4n.kms.routes`).

References
----------
ITU-T Y.3800 (2019) clause 8, ITU-T Y.3803 (2020): key relay over trusted nodes.
G. S. Vernam, J. AIEE 45, 109 (1926): one-time pad.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field

from qit4n.errors import RandomnessError
from qit4n.kms.config import KMEConfig, LinkConfig
from qit4n.kms.errors import EtsiError
from qit4n.kms.shape import KeyShape
from qit4n.kms.storage import KeyBatch, KeyStorage, PeerUnits, PoolExhaustedError, UnitMismatchError
from qit4n.kms.store import new_batch_id
from qit4n.kms.supply import KeySupply
from qit4n.kms.tls import ContextSource, TlsFiles
from qit4n.randomness import RandomnessSource
from qit4n.schema import StrictModel

if TYPE_CHECKING:
    import httpx

__all__ = ["RelayBatcher", "RelayEngine", "RelayMessage", "client_tls_source", "xor_bytes"]

#: Sends one batch request to a peer KME and returns its JSON answer.
PostBatch = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def xor_bytes(left: bytes, right: bytes) -> bytes:
    """Bytewise XOR of two equally long byte strings (one-time pad).

    >>> xor_bytes(b"\\x0f\\xf0", b"\\xff\\xff")
    b'\\xf0\\x0f'
    """
    if len(left) != len(right):
        raise ValueError(f"one-time pad: lengths differ ({len(left)} != {len(right)} bytes)")
    return (int.from_bytes(left, "big") ^ int.from_bytes(right, "big")).to_bytes(len(left), "big")


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

    @property
    def shape(self) -> KeyShape:
        """``count`` keys of ``size`` bits."""
        return KeyShape(number=self.count, size_bits=self.size)


class RelayBatcher:
    """Sends relay messages to one peer KME, many per HTTPS request.

    Messages submitted while a request is in flight go together in the next one (at most
    ``max_batch``); the peer processes each message on its own and answers one status per
    message, so one failing message fails only its own submitter.
    """

    def __init__(self, post: PostBatch, *, max_batch: int = 64) -> None:
        self._post = post
        self._max_batch = max_batch
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, message: dict[str, Any]) -> None:
        """Send ``message``; returns when the peer has processed it, raises if it failed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
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


def client_tls_source(config: KMEConfig) -> ContextSource:
    """TLS client of a KME towards other KMEs: its own certificate, the network's CA and CRL, its ``tls_groups``."""
    return ContextSource(TlsFiles(config.cert, config.key, config.ca, config.crl), config.tls_groups, server=False)


class RelayEngine:
    """Hop-by-hop one-time-pad relay of one KME (module docstring): construct, ``await start()``.

    Parameters
    ----------
    config : KMEConfig
    store : KeyStorage
        The KME's store; every hop commits there before it answers.
    supplies : mapping
        Link ID -> the link's key supply (units of ``config.key_size_bits`` bits).
    randomness : RandomnessSource, optional
        A QRNG whose bytes are XORed into the keys this KME generates itself (:meth:`fresh_keys`).
    """

    def __init__(
        self,
        config: KMEConfig,
        store: KeyStorage,
        supplies: Mapping[str, KeySupply],
        randomness: RandomnessSource | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.supplies = supplies
        self.randomness = randomness
        self.unit_bits = config.key_size_bits
        self._client: httpx.AsyncClient | None = None
        self._batchers: dict[str, RelayBatcher] = {}

    async def start(self) -> None:
        """Open the HTTPS client used towards other KMEs."""
        import httpx

        from qit4n.kms.tls_client import async_tls_transport

        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        transport = async_tls_transport(client_tls_source(self.config), limits=limits)
        self._client = httpx.AsyncClient(transport=transport, timeout=self.config.peer_timeout_s)

    async def close(self) -> None:
        """Close the connections to other KMEs (no relay is possible afterwards)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    # -- the master's KME ----------------------------------------------------------------------
    def first_link(self, target: str) -> LinkConfig:
        """The link of the first hop towards the KME ``target`` (which must have a route)."""
        next_kme = self.config.routes[target][0]
        link = self.config.link_to(next_kme)
        if link is None:
            raise EtsiError(503, f"{self.config.kme_id} has no QKD link to {next_kme}")
        return link

    async def route_owned_units(self, target: str) -> int:
        """Units the route to ``target`` can pad now: the smallest allocatable pool along it.

        Each trusted node reports its own outgoing pool (KME-to-KME health); an unreachable one counts 0.
        """
        route = self.config.routes[target]
        stored = self.store.unit_count(link_id=self.first_link(target).link_id, owned_only=True)
        hops = list(zip(route[:-1], route[1:]))
        levels = await asyncio.gather(*(self._owned_units(hop, nxt) for hop, nxt in hops), return_exceptions=True)
        for level in levels:
            stored = min(stored, 0 if isinstance(level, BaseException) else level)
        return stored

    async def _owned_units(self, kme_id: str, next_kme_id: str) -> int:
        if self._client is None:
            raise EtsiError(503, f"KME {kme_id!r} cannot be reached from {self.config.kme_id}")
        response = await self._client.get(self.config.peers[kme_id] + "/kme/v1/health")
        links = response.json()["links"] if response.status_code == 200 else {}
        owned = [link["owned_bits"] for link in links.values() if link["peer"] == next_kme_id]
        return max(owned, default=0) // self.unit_bits

    def fresh_keys(self, num_bytes: int) -> bytes:
        """Key material this KME generates itself: the OS's bytes, XOR the QRNG's when one is set (the
        XOR is uniform if either input is). A QRNG that failed its health tests stops key
        generation: :class:`EtsiError` 503 naming the source and the test."""
        keys = os.urandom(num_bytes)
        if self.randomness is None:
            return keys
        try:
            return xor_bytes(keys, self.randomness.random_bytes(num_bytes))
        except RandomnessError as error:
            raise EtsiError(503, f"no key was issued: {error}") from None

    async def distribute(
        self, *, master: str, slaves_by_kme: dict[str, list[str]], primary: str, shape: KeyShape
    ) -> tuple[str, bytes]:
        """New keys of ``shape`` for ``master``, committed at every slave's KME: (batch ID, keys).

        The keys are the first hop's pad towards ``primary`` (the KME of the first slave), or
        random when ``primary`` is this KME; other KMEs get them XOR their own first hop's pad.
        Returns only after every KME has committed; if any transport fails the batch is voided
        everywhere and :class:`EtsiError` 503 is raised. ``slaves_by_kme`` maps each slave's KME
        (this one included, when a slave is attached here) to its slaves.
        """
        kme_id = self.config.kme_id
        batch_id = new_batch_id()
        plans: list[tuple[str, int, bytes | None]] = []
        if primary == kme_id:
            keys = self.fresh_keys(shape.total_bytes)
        else:
            start, keys = self._allocate_first_hop(primary, shape)
            plans.append((primary, start, None))
        for target in slaves_by_kme:
            if target not in (primary, kme_id):
                start, pad_keys = self._allocate_first_hop(target, shape)
                plans.append((target, start, xor_bytes(keys, pad_keys)))
        if kme_id in slaves_by_kme:
            local = KeyBatch(batch_id, master, slaves_by_kme[kme_id], shape)
            self.store.receive(batch=local, decode=lambda _pad: keys)
        results = await asyncio.gather(
            *(
                self._send(target, start, cipher, KeyBatch(batch_id, master, slaves_by_kme[target], shape))
                for target, start, cipher in plans
            ),
            return_exceptions=True,
        )
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            await self._void_everywhere(list(slaves_by_kme), batch_id)
            raise EtsiError(
                503, "key relay to a slave SAE's KME failed; no key was issued", [{"reason": str(failures[0])}]
            )
        return batch_id, keys

    def _allocate_first_hop(self, target: str, shape: KeyShape) -> tuple[int, bytes]:
        """(first unit, keys) of the pad of ``shape`` on the first link towards ``target``."""
        link = self.first_link(target)
        try:
            start, pad = self.store.allocate(
                link_id=link.link_id,
                supply=self.supplies[link.link_id],
                count=shape.pool_units(unit_bits=self.unit_bits),
            )
        except PoolExhaustedError as error:
            raise EtsiError(
                503, "not enough key stored on KME for this request", [{"link": link.link_id, "reason": str(error)}]
            ) from None
        return start, shape.keys_from_pad(pad, unit_bits=self.unit_bits)

    async def _send(self, target: str, start: int, cipher: bytes | None, batch: KeyBatch) -> None:
        route = self.config.routes[target]
        message = {
            "batch_ID": batch.batch_id,
            "count": batch.shape.number,
            "size": batch.shape.size_bits,
            "master_SAE_ID": batch.master,
            "slave_SAE_IDs": batch.slaves,
            "route": route,
            "link_id": self.first_link(target).link_id,
            "unit_start": start,
            "ciphertext": None if cipher is None else base64.b64encode(cipher).decode("ascii"),
        }
        await self._relay_to(route[0], message)

    async def _post(self, kme_id: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self.config.peers.get(kme_id)
        if url is None or self._client is None:
            raise EtsiError(503, f"KME {kme_id!r} cannot be reached from {self.config.kme_id}")
        response = await self._client.post(url + path, json=body)
        if response.status_code != 200:
            raise EtsiError(
                503, f"KME {kme_id} answered {response.status_code}", [{"kme": kme_id, "body": response.text[:200]}]
            )
        answer: dict[str, Any] = response.json()
        return answer

    async def _relay_to(self, kme_id: str, message: dict[str, Any]) -> None:
        batcher = self._batchers.get(kme_id)
        if batcher is None:
            batcher = self._batchers[kme_id] = RelayBatcher(lambda body: self._post(kme_id, "/kme/v1/relay", body))
        await batcher.submit(message)

    async def _void_everywhere(self, kme_ids: list[str], batch_id: str) -> None:
        self.store.void(batch_ids=[batch_id])
        remote = [kme_id for kme_id in kme_ids if kme_id != self.config.kme_id]
        await asyncio.gather(
            *(self._post(kme_id, "/kme/v1/void", {"batch_IDs": [batch_id]}) for kme_id in remote),
            return_exceptions=True,
        )

    # -- trusted nodes and slaves' KMEs -----------------------------------------------------------
    async def relay_batch(self, sender: str, messages: list[RelayMessage]) -> list[BaseException | None]:
        """Receive relay messages from ``sender``; one outcome (None or the error) per message.

        The store work of all messages commits together (group commit, before anything is
        answered or forwarded); then the messages that go on are forwarded concurrently.
        """
        outcomes: list[BaseException | None] = []
        forwards: list[tuple[int, str, dict[str, Any]]] = []
        with self.store.group():
            for position, message in enumerate(messages):
                try:
                    onward = self._relay_step(sender, message)
                except EtsiError as error:
                    outcomes.append(error)
                    continue
                except Exception as error:  # noqa: BLE001 - one bad message must not sink the batch
                    outcomes.append(EtsiError(503, f"relay step failed: {type(error).__name__}: {error}"))
                    continue
                outcomes.append(None)
                if onward is not None:
                    forwards.append((position, *onward))
        results = await asyncio.gather(
            *(self._relay_to(kme_id, body) for _, kme_id, body in forwards), return_exceptions=True
        )
        for (position, _, _), result in zip(forwards, results):
            outcomes[position] = result
        return outcomes

    def _relay_step(self, sender: str, message: RelayMessage) -> tuple[str, dict[str, Any]] | None:
        """Store work of one relay hop; returns (next KME, message) when the keys go on."""
        cfg = self.config
        link = next((link for link in cfg.links if link.link_id == message.link_id), None)
        if link is None or link.peer_kme_id != sender or message.route[0] != cfg.kme_id:
            raise EtsiError(
                401, "relay message does not match a QKD link with the sending KME", [{"link_id": message.link_id}]
            )
        shape = message.shape
        cipher = None if message.ciphertext is None else base64.b64decode(message.ciphertext)
        if cipher is not None and len(cipher) != shape.total_bytes:
            raise EtsiError(400, "ciphertext length does not match count and size")

        def decode(pad: bytes) -> bytes:
            keys = shape.keys_from_pad(pad, unit_bits=self.unit_bits)
            return keys if cipher is None else xor_bytes(cipher, keys)

        units = shape.pool_units(unit_bits=self.unit_bits)
        consumed = PeerUnits(link.link_id, message.unit_start, units, self.supplies[link.link_id])
        try:
            if len(message.route) == 1:
                for sae_id in message.slave_SAE_IDs:
                    if cfg.directory.get(sae_id) != cfg.kme_id:
                        raise EtsiError(400, f"slave {sae_id!r} is not attached to {cfg.kme_id}")
                batch = KeyBatch(message.batch_ID, message.master_SAE_ID, message.slave_SAE_IDs, shape)
                self.store.receive(batch=batch, decode=decode, consumed=consumed)
                return None
            out_link = cfg.link_to(message.route[1])
            if out_link is None:
                raise EtsiError(400, f"{cfg.kme_id} has no QKD link to {message.route[1]}")
            pad_in, out_start, pad_out = self.store.forward(
                consumed=consumed,
                out_link_id=out_link.link_id,
                out_supply=self.supplies[out_link.link_id],
                out_count=units,
            )
        except (UnitMismatchError, PoolExhaustedError) as error:
            raise EtsiError(503, "relay hop cannot pad the key", [{"kme": cfg.kme_id, "reason": str(error)}]) from None
        cipher_out = xor_bytes(decode(pad_in), shape.keys_from_pad(pad_out, unit_bits=self.unit_bits))
        forward = message.model_dump(mode="json")
        forward.update(
            route=message.route[1:],
            link_id=out_link.link_id,
            unit_start=out_start,
            ciphertext=base64.b64encode(cipher_out).decode("ascii"),
        )
        return message.route[1], forward
