"""Key relay through trusted-node KMEs (ITU-T Y.3800-series): one-time pad, hop messages, the engine.

A key for a slave SAE behind a KME that no QKD link joins to the master's KME travels hop by hop.
On the first hop the key *is* the link key the two ends share (only unit IDs travel); on every
later hop the trusted node XORs it with fresh link key of the next hop (one-time pad) and sends the
ciphertext with the unit IDs. Each hop consumes as much link key as the key is long, so every hop
spends key and no key crosses a link in clear.

Every hop message carries a Wegman-Carter tag under the hop's link key, and the master's and the
slave's KMEs confirm end to end that the same keys arrived before the master is answered
(:mod:`qit4n.kms.relayauth`). A hop spends, besides the keys' pad, the pad of a 512-bit end-to-end
key and of the 128-bit tag.

:class:`RelayEngine` is the KME-to-KME side of a KME: it makes the keys of a request, carries them
to every slave's KME and confirms them there before the master is answered, and voids them
everywhere if any transport or check fails (no half-delivered key). Messages to one peer travel in
batches (:class:`RelayBatcher`). The routes come from the plan (:mod:`qit4n.kms.routes`).

On the wire these are the Kx messages of ITU-T Q.4163 (:mod:`qit4n.kms.kx`): each hop is a key relay
message, the slave's KME's receipt is the key relay completion notification, and the master's KME's
end-to-end confirmation and void are qit4n extensions.

References
----------
ITU-T Y.3800 (2019) clause 8, ITU-T Y.3803 (2020): key relay over trusted nodes.
ITU-T Q.4163 (12/2023): protocols for Kx interfaces (message set of clause 8).
G. S. Vernam, J. AIEE 45, 109 (1926): one-time pad.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import hmac
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from qit4n.errors import RandomnessError
from qit4n.kms.config import KMEConfig, LinkConfig
from qit4n.kms.errors import EtsiError
from qit4n.kms.kx import (
    KeyRelayCompletionNotification,
    KeyRelayConfirmation,
    KeyRelayMessage,
    KeyRelayVoid,
    check_parties,
)
from qit4n.kms.relayauth import (
    E2E_BYTES,
    EndToEnd,
    HopLayout,
    confirm_batch,
    hop_transcript,
    link_authenticator,
    reserved_units,
    void_batch,
)
from qit4n.kms.shape import KeyShape
from qit4n.kms.storage import KeyBatch, KeyStorage, PeerUnits, PoolExhaustedError, UnitMismatchError
from qit4n.kms.store import new_batch_id
from qit4n.kms.supply import KeySupply
from qit4n.kms.tls import ContextSource, TlsFiles
from qit4n.randomness import RandomnessSource

if TYPE_CHECKING:
    import httpx

    from qit4n.postprocess.authentication import MessageAuthenticator

__all__ = ["PEER_KEEPALIVE_S", "RelayBatcher", "RelayEngine", "client_tls_source", "xor_bytes"]

#: Idle connections to peer KMEs are kept this long for reuse (s): beyond the key supply
#: notifications' slowest cadence (:data:`qit4n.kms.kxsupply.COMFORTABLE_DELAY_S`), below the
#: servers' keep-alive (:data:`qit4n.kms.server.KEEP_ALIVE_S`).
PEER_KEEPALIVE_S = 15.0

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


class RelayBatcher:
    """Sends relay messages to one peer KME, many per HTTPS request.

    Messages submitted while a request is in flight go together in the next one (at most
    ``max_batch`` messages and ``max_bytes`` of JSON, the peers' request-body limit; a message
    alone above it still goes alone); the peer processes each message on its own and answers one
    status per message, so one failing message fails only its own submitter.
    """

    def __init__(self, post: PostBatch, *, max_batch: int = 64, max_bytes: int = 1 << 16) -> None:
        self._post = post
        self._max_batch = max_batch
        self._max_bytes = max_bytes
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[dict[str, Any]]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send ``message``; returns the peer's result for it once processed, raises if it failed."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            count = self._batch_size()
            batch, self._waiting = self._waiting[:count], self._waiting[count:]
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
                    future.set_result(result)
                else:
                    future.set_exception(EtsiError(503, f"relay hop refused: {result.get('message')}", [result]))

    def _batch_size(self) -> int:
        """How many waiting messages fit in one request: ``{"messages": [m1, m2, ...]}`` within the limits."""
        size_bytes = len('{"messages": []}')
        for count, (message, _) in enumerate(self._waiting[: self._max_batch]):
            size_bytes += len(json.dumps(message)) + 2
            if size_bytes > self._max_bytes:
                return max(count, 1)
        return min(len(self._waiting), self._max_batch)


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
        self._confirmers: dict[str, RelayBatcher] = {}
        self._authenticators: dict[str, MessageAuthenticator] = {}
        #: Units spent on authentication (end-to-end keys and tags) per link, since start.
        self.auth_units: collections.Counter[str] = collections.Counter()
        #: Refused messages by kind (``relay``, ``confirm``, ``void``), since start.
        self.refused: collections.Counter[str] = collections.Counter()

    async def start(self) -> None:
        """Open the HTTPS client used towards other KMEs."""
        import httpx

        from qit4n.kms.tls_client import AsyncTlsClient

        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32, keepalive_expiry=PEER_KEEPALIVE_S)
        source = client_tls_source(self.config)
        self._client = AsyncTlsClient(source, timeout_s=self.config.peer_timeout_s, limits=limits)

    async def close(self) -> None:
        """Close the connections to other KMEs (no relay is possible afterwards)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    # -- link authentication -------------------------------------------------------------------
    def authenticator(self, link_id: str) -> MessageAuthenticator:
        """The Wegman-Carter tagger of a link, keyed by its reserved first units (cached)."""
        mac = self._authenticators.get(link_id)
        if mac is None:
            units = self.supplies[link_id].units(0, reserved_units(self.unit_bits))
            mac = self._authenticators[link_id] = link_authenticator(b"".join(units))
        return mac

    def _hop_message(
        self,
        *,
        receiver: str,
        link_id: str,
        start: int,
        batch: KeyBatch,
        route: list[str],
        cipher: bytes | None,
        pad: bytes,
    ) -> dict[str, Any]:
        """A relay message to ``receiver`` over ``link_id`` whose units (from ``start``) gave ``pad``, tagged."""
        layout = HopLayout(batch.shape, self.unit_bits)
        transcript = hop_transcript(
            sender=self.config.kme_id,
            receiver=receiver,
            link_id=link_id,
            unit_start=start,
            batch_id=batch.batch_id,
            shape=batch.shape,
            master=batch.master,
            slaves=batch.slaves,
            route=route,
            ciphertext=cipher,
        )
        tag = self.authenticator(link_id).tag(transcript, pad=layout.tag_pad(pad))
        self.auth_units[link_id] += layout.overhead_units
        return {  # a KeyRelayMessage (Q.4163 8.1), built as a dict: the receiver validates it
            "message_type": "key_relay",
            "source_KME_ID": self.config.kme_id,
            "destination_KME_ID": receiver,
            "key_relay_ID": batch.batch_id,
            "key_count": batch.shape.number,
            "key_size": batch.shape.size_bits,
            "master_SAE_ID": batch.master,
            "slave_SAE_IDs": batch.slaves,
            "route": route,
            "link_ID": link_id,
            "link_key_ID_start": start,
            "encrypted_keys": None if cipher is None else base64.b64encode(cipher).decode("ascii"),
            "authentication_tag": base64.b64encode(tag).decode("ascii"),
        }

    # -- the master's KME ----------------------------------------------------------------------
    def first_link(self, target: str) -> LinkConfig:
        """The link of the first hop towards the KME ``target`` (which must have a route)."""
        next_kme = self.config.routes[target][0]
        link = self.config.link_to(next_kme)
        if link is None:
            raise EtsiError(503, f"{self.config.kme_id} has no QKD link to {next_kme}")
        return link

    def overhead_units(self) -> int:
        """Units each hop spends on authentication per request (end-to-end key and tag)."""
        return HopLayout(KeyShape(number=1, size_bits=self.unit_bits), self.unit_bits).overhead_units

    async def route_owned_units(self, target: str) -> int:
        """Keys of ``key_size_bits`` the route to ``target`` can carry in one request now: the smallest
        allocatable pool along it, less the authentication overhead of a request.

        Each trusted node reports its own outgoing pool (KME-to-KME health); an unreachable one counts 0.
        """
        route = self.config.routes[target]
        stored = self.store.unit_count(link_id=self.first_link(target).link_id, owned_only=True)
        hops = list(zip(route[:-1], route[1:]))
        levels = await asyncio.gather(*(self._owned_units(hop, nxt) for hop, nxt in hops), return_exceptions=True)
        for level in levels:
            stored = min(stored, 0 if isinstance(level, BaseException) else level)
        return max(stored - self.overhead_units(), 0)

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
        self,
        *,
        master: str,
        slaves_by_kme: dict[str, list[str]],
        primary: str,
        shape: KeyShape,
        batch_id: str | None = None,
        keys: bytes | None = None,
    ) -> tuple[str, bytes]:
        """New keys of ``shape`` for ``master``, committed and confirmed at every slave's KME: (batch ID, keys).

        The keys are the first hop's pad towards ``primary`` (the KME of the first slave), or
        random when ``primary`` is this KME; other KMEs get them XOR their own first hop's pad.
        Each slave's KME checks them end to end with this KME (:meth:`_deliver`). Returns only
        after every KME has confirmed them; if any transport or check
        fails the batch is voided everywhere and :class:`EtsiError` 503 is raised. ``slaves_by_kme``
        maps each slave's KME (this one included, when a slave is attached here) to its slaves.
        An inter-domain gateway passes the ``keys`` and ``batch_id`` that came from the peer domain
        (with ``primary`` this KME; :mod:`qit4n.kms.gateway`).
        """
        kme_id = self.config.kme_id
        batch_id = batch_id or new_batch_id()
        layout = HopLayout(shape, self.unit_bits)
        sends: list[tuple[str, int, bytes | None, bytes]] = []
        e2e_keys: dict[str, bytes] = {}
        if primary == kme_id:
            keys = self.fresh_keys(shape.total_bytes) if keys is None else keys
        else:
            start, pad = self._allocate_first_hop(primary, layout)
            payload = layout.payload_pad(pad)
            keys, e2e_keys[primary] = payload[:-E2E_BYTES], payload[-E2E_BYTES:]
            sends.append((primary, start, None, pad))
        for target in slaves_by_kme:
            if target not in (primary, kme_id):
                start, pad = self._allocate_first_hop(target, layout)
                e2e_keys[target] = self.fresh_keys(E2E_BYTES)
                sends.append((target, start, xor_bytes(keys + e2e_keys[target], layout.payload_pad(pad)), pad))
        if kme_id in slaves_by_kme:
            local = KeyBatch(batch_id, master, slaves_by_kme[kme_id], shape)
            self.store.receive(batch=local, decode=lambda _pad: keys)
        results = await asyncio.gather(
            *(
                self._deliver(
                    target, start, cipher, pad, KeyBatch(batch_id, master, slaves_by_kme[target], shape), keys, e2e_keys
                )
                for target, start, cipher, pad in sends
            ),
            return_exceptions=True,
        )
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            await self._void_everywhere(batch_id, e2e_keys)
            raise EtsiError(
                503, "key relay to a slave SAE's KME failed; no key was issued", [{"reason": str(failures[0])}]
            )
        return batch_id, keys

    def _allocate_first_hop(self, target: str, layout: HopLayout) -> tuple[int, bytes]:
        """(first unit, pad) of a relay message of ``layout`` on the first link towards ``target``."""
        link = self.first_link(target)
        try:
            return self.store.allocate(
                link_id=link.link_id, supply=self.supplies[link.link_id], count=layout.total_units
            )
        except PoolExhaustedError as error:
            raise EtsiError(
                503, "not enough key stored on KME for this request", [{"link": link.link_id, "reason": str(error)}]
            ) from None

    async def _deliver(
        self,
        target: str,
        start: int,
        cipher: bytes | None,
        pad: bytes,
        batch: KeyBatch,
        keys: bytes,
        e2e_keys: dict[str, bytes],
    ) -> None:
        """Relay the batch to ``target`` and confirm it there end to end.

        A slave's KME one link away receives the keys under this KME's link tag and answers with
        its key relay completion notification at once; one behind trusted nodes stores them pending
        until the key relay confirmation, which goes directly to it, past the trusted nodes, and is
        answered with the completion notification.
        """
        route = self.config.routes[target]
        link_id = self.first_link(target).link_id
        message = self._hop_message(
            receiver=route[0], link_id=link_id, start=start, batch=batch, route=route, cipher=cipher, pad=pad
        )
        result = await self._relay_to(route[0], message)
        e2e = EndToEnd(e2e_keys[target])
        if len(route) > 1:
            tag = e2e.confirm_tag(batch.batch_id, batch.master, batch.slaves, keys)
            batcher = self._confirmers.get(target)
            if batcher is None:
                batcher = self._confirmers[target] = RelayBatcher(
                    lambda body: self.post(target, "/kme/v1/confirm", body), max_bytes=self.config.max_request_bytes
                )
            confirmation = {  # a KeyRelayConfirmation (qit4n extension)
                "message_type": "key_relay_confirmation",
                "source_KME_ID": self.config.kme_id,
                "destination_KME_ID": target,
                "key_relay_ID": batch.batch_id,
                "authentication_tag": base64.b64encode(tag).decode("ascii"),
            }
            result = await batcher.submit(confirmation)
        self._check_completion(target, batch, keys, e2e, result)

    def _check_completion(
        self, target: str, batch: KeyBatch, keys: bytes, e2e: EndToEnd, result: dict[str, Any]
    ) -> None:
        """Raise 503 unless ``result`` carries ``target``'s key relay completion notification of the
        batch to this KME, tagged with the receipt tag of exactly ``keys`` under ``e2e``."""
        receipt = b""
        try:
            notification = KeyRelayCompletionNotification.model_validate(result.get("completion"))
            check_parties(notification, sender=target, receiver=self.config.kme_id)
            if notification.key_relay_ID == batch.batch_id:
                receipt = base64.b64decode(notification.authentication_tag, validate=True)
        except (ValidationError, EtsiError, binascii.Error, ValueError):
            pass
        if not hmac.compare_digest(receipt, e2e.receipt_tag(batch.batch_id, batch.master, batch.slaves, keys)):
            raise EtsiError(
                503, f"{target} answered batch {batch.batch_id} with a wrong receipt: keys differ end to end"
            )

    async def post(self, kme_id: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``path`` of the peer KME ``kme_id`` (mutual TLS); its JSON answer, or 503."""
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

    async def _relay_to(self, kme_id: str, message: dict[str, Any]) -> dict[str, Any]:
        batcher = self._batchers.get(kme_id)
        if batcher is None:
            batcher = self._batchers[kme_id] = RelayBatcher(
                lambda body: self.post(kme_id, "/kme/v1/relay", body), max_bytes=self.config.max_request_bytes
            )
        return await batcher.submit(message)

    async def _void_everywhere(self, batch_id: str, e2e_keys: dict[str, bytes]) -> None:
        """Void the batch here and at every KME it was sent to (each :class:`~qit4n.kms.kx.KeyRelayVoid`
        tagged with that KME's ``E``)."""
        self.store.void(batch_ids=[batch_id])

        def void(kme_id: str, e2e: bytes) -> dict[str, Any]:
            return {
                "message_type": "key_relay_void",
                "source_KME_ID": self.config.kme_id,
                "destination_KME_ID": kme_id,
                "key_relay_ID": batch_id,
                "authentication_tag": base64.b64encode(EndToEnd(e2e).void_tag(batch_id)).decode(),
            }

        await asyncio.gather(
            *(self.post(kme_id, "/kme/v1/void", {"messages": [void(kme_id, e2e)]}) for kme_id, e2e in e2e_keys.items()),
            return_exceptions=True,
        )

    # -- trusted nodes and slaves' KMEs -----------------------------------------------------------
    async def relay_batch(self, sender: str, messages: list[KeyRelayMessage]) -> list[dict[str, Any] | BaseException]:
        """Receive key relay messages from ``sender``; one outcome (the answer's fields, or the error) per message.

        The store work of all messages commits together (group commit, before anything is
        answered or forwarded); then the messages that go on are forwarded concurrently. A
        message not from ``sender`` to this KME, whose tag fails, or that names units already
        consumed (a replay), is refused with 401 and changes nothing.
        """
        outcomes: list[dict[str, Any] | BaseException] = []
        forwards: list[tuple[int, str, dict[str, Any]]] = []
        with self.store.group():
            for position, message in enumerate(messages):
                try:
                    next_kme, fields = self._relay_step(sender, message)
                except EtsiError as error:
                    outcomes.append(error)
                    continue
                except Exception as error:  # noqa: BLE001 - one bad message must not sink the batch
                    outcomes.append(EtsiError(503, f"relay step failed: {type(error).__name__}: {error}"))
                    continue
                outcomes.append(fields if next_kme is None else {})
                if next_kme is not None:
                    forwards.append((position, next_kme, fields))
        results = await asyncio.gather(
            *(self._relay_to(kme_id, body) for _, kme_id, body in forwards), return_exceptions=True
        )
        for (position, _, _), result in zip(forwards, results):
            outcomes[position] = result if isinstance(result, BaseException) else {}
        return outcomes

    def _check_tag(self, sender: str, link: LinkConfig, message: KeyRelayMessage, cipher: bytes | None) -> None:
        """Refuse (401) a relay message whose tag does not verify under the link's key and its tag pad."""
        layout = HopLayout(message.shape, self.unit_bits)
        try:
            tag = base64.b64decode(message.authentication_tag, validate=True)
            supply = self.supplies[link.link_id]
            pad = b"".join(supply.units(layout.tag_start(message.link_key_ID_start), 2 * layout.tag_units - 1)[::2])
            mac = self.authenticator(link.link_id)
        except (binascii.Error, ValueError, UnitMismatchError) as error:
            self.refused["relay"] += 1
            raise EtsiError(401, f"relay message cannot be authenticated: {error}") from None
        transcript = hop_transcript(
            sender=sender,
            receiver=self.config.kme_id,
            link_id=link.link_id,
            unit_start=message.link_key_ID_start,
            batch_id=message.key_relay_ID,
            shape=message.shape,
            master=message.master_SAE_ID,
            slaves=message.slave_SAE_IDs,
            route=message.route,
            ciphertext=cipher,
        )
        if not mac.verify(transcript, pad=layout.tag_pad(pad), tag=tag):
            self.refused["relay"] += 1
            raise EtsiError(401, "relay message failed its link authentication tag", [{"link_id": link.link_id}])

    def _relay_step(self, sender: str, message: KeyRelayMessage) -> tuple[str | None, dict[str, Any]]:
        """Store work of one relay hop: (next KME, message) when the keys go on, else (None, answer fields).

        At the slave's KME, keys that come straight from the master's KME (under its link tag) are
        deliverable at once and answered with the key relay completion notification; keys that
        crossed trusted nodes wait, pending, for the master's KME's confirmation (:meth:`confirm`).
        """
        cfg = self.config
        check_parties(message, sender=sender, receiver=cfg.kme_id)
        link = next((link for link in cfg.links if link.link_id == message.link_ID), None)
        if link is None or link.peer_kme_id != sender or message.route[0] != cfg.kme_id:
            raise EtsiError(
                401, "relay message does not match a QKD link with the sending KME", [{"link_id": message.link_ID}]
            )
        shape = message.shape
        layout = HopLayout(shape, self.unit_bits)
        try:
            cipher = None if message.encrypted_keys is None else base64.b64decode(message.encrypted_keys, validate=True)
        except (binascii.Error, ValueError):
            raise EtsiError(400, "encrypted_keys is not base64") from None
        if cipher is not None and len(cipher) != layout.payload_bytes:
            raise EtsiError(400, "encrypted_keys length does not match key_count and key_size")
        self._check_tag(sender, link, message, cipher)

        def decode(pad: bytes) -> bytes:
            payload = layout.payload_pad(pad)
            return payload if cipher is None else xor_bytes(cipher, payload)

        consumed = PeerUnits(link.link_id, message.link_key_ID_start, layout.total_units, self.supplies[link.link_id])
        try:
            if len(message.route) == 1:
                for sae_id in message.slave_SAE_IDs:
                    if cfg.directory.get(sae_id) != cfg.kme_id:
                        raise EtsiError(400, f"slave {sae_id!r} is not attached to {cfg.kme_id}")
                batch = KeyBatch(message.key_relay_ID, message.master_SAE_ID, message.slave_SAE_IDs, shape)
                direct = cfg.directory.get(message.master_SAE_ID) == sender
                payload = b""

                def keep(pad: bytes) -> bytes:
                    nonlocal payload
                    payload = decode(pad)
                    return payload

                self.store.receive(batch=batch, decode=keep, consumed=consumed, e2e_bytes=E2E_BYTES, pending=not direct)
                self.auth_units[link.link_id] += layout.overhead_units
                if not direct:
                    return None, {}
                keys, e2e = payload[:-E2E_BYTES], EndToEnd(payload[-E2E_BYTES:])
                receipt = e2e.receipt_tag(batch.batch_id, batch.master, batch.slaves, keys)
                return None, {"completion": completion_notification(cfg.kme_id, sender, batch.batch_id, receipt)}
            out_link = cfg.link_to(message.route[1])
            if out_link is None:
                raise EtsiError(400, f"{cfg.kme_id} has no QKD link to {message.route[1]}")
            pad_in, out_start, pad_out = self.store.forward(
                consumed=consumed,
                out_link_id=out_link.link_id,
                out_supply=self.supplies[out_link.link_id],
                out_count=layout.total_units,
            )
        except UnitMismatchError as error:
            self.refused["relay"] += 1
            raise EtsiError(
                401,
                "relay message names link units already consumed (a replay) or not the sender's",
                [{"reason": str(error)}],
            ) from None
        except PoolExhaustedError as error:
            raise EtsiError(503, "relay hop cannot pad the key", [{"kme": cfg.kme_id, "reason": str(error)}]) from None
        self.auth_units[link.link_id] += layout.overhead_units
        cipher_out = xor_bytes(decode(pad_in), layout.payload_pad(pad_out))
        batch = KeyBatch(message.key_relay_ID, message.master_SAE_ID, message.slave_SAE_IDs, shape)
        forward = self._hop_message(
            receiver=message.route[1],
            link_id=out_link.link_id,
            start=out_start,
            batch=batch,
            route=message.route[1:],
            cipher=cipher_out,
            pad=pad_out,
        )
        return message.route[1], forward

    def confirm(self, sender: str, message: KeyRelayConfirmation) -> dict[str, str]:
        """Slave's KME: :func:`~qit4n.kms.relayauth.confirm_batch`; returns the key relay completion
        notification to the master's KME (refusals counted)."""
        try:
            check_parties(message, sender=sender, receiver=self.config.kme_id)
            receipt = confirm_batch(
                self.store,
                self.config.directory,
                sender=sender,
                batch_id=message.key_relay_ID,
                tag=message.authentication_tag,
            )
        except EtsiError:
            self.refused["confirm"] += 1
            raise
        return completion_notification(self.config.kme_id, sender, message.key_relay_ID, receipt)

    def void(self, sender: str, message: KeyRelayVoid) -> int:
        """Slave's KME: :func:`~qit4n.kms.relayauth.void_batch` (refusals counted)."""
        try:
            check_parties(message, sender=sender, receiver=self.config.kme_id)
            return void_batch(
                self.store,
                self.config.directory,
                sender=sender,
                batch_id=message.key_relay_ID,
                tag=message.authentication_tag,
            )
        except EtsiError:
            self.refused["void"] += 1
            raise


def completion_notification(source: str, destination: str, key_relay_id: str, receipt: bytes | str) -> dict[str, str]:
    """A :class:`~qit4n.kms.kx.KeyRelayCompletionNotification` (Q.4163 8.2) carrying the receipt tag."""
    tag = receipt if isinstance(receipt, str) else base64.b64encode(receipt).decode("ascii")
    return {
        "message_type": "key_relay_completion_notification",
        "source_KME_ID": source,
        "destination_KME_ID": destination,
        "key_relay_ID": key_relay_id,
        "result": "completed",
        "authentication_tag": tag,
    }
