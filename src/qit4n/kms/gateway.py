"""Inter-domain key delivery through the gateway KMEs of two domains (issue 13 item 7).

A master SAE in domain A asks its own KME (ETSI GS QKD 014) for keys shared with a slave SAE of
domain B. Domain A's directory lists that slave at A's gateway KME, so the master's KME relays the
keys to A's gateway like to any slave's KME (one-time pad, authenticated, confirmed end to end;
:mod:`qit4n.kms.relay`). Before the master is answered:

1. *admit*: the master's KME asks A's gateway, which checks its end of the inter-domain link and
   the bilateral policy (:mod:`qit4n.kms.interconnect`), then asks B's gateway, which checks its
   end, the policy and its route to the slave's KME (B is asked even when A's policy refuses, so
   that both sides log the decision). A refusal costs no key.
2. *forward*: once the keys sit at A's gateway, the master's KME asks it to forward them. A's
   gateway takes them out of its store, checks the policy again and charges the hour's budget,
   pads them (with a fresh 512-bit end-to-end key) with the inter-domain link's own key and tags
   the message with that link's Wegman-Carter authenticator, and sends it to B's gateway over the
   inter-domain interface. B's gateway checks the sender, the tag and the policy (and charges its
   own ledger), consumes the link key, and re-originates the keys in domain B under the *same*
   batch (same key_IDs) with itself as the master SAE's KME: B's directory lists A's SAEs at B's
   gateway. Once the slave's KME has confirmed them, B's gateway answers with a receipt tag of the
   keys under the end-to-end key, which A's gateway checks before the master's KME answers.

The inter-domain interface is a separate TLS listener on each gateway whose client certificates
must chain to the *peer* domain's CA and name the peer gateway: each domain's CA is trusted by the
other's gateway only, and only there. Every decision (admit, forward, receive; allowed or refused,
with the reason) is written to each gateway's audit log, without key material. If either end of
the inter-domain link is cut, requests for the other domain's SAEs get ETSI 503 saying so.

References
----------
ETSI GS QKD 020, Interoperable key management system API, draft OpenAPI 0.5.1
(forge.etsi.org/rep/qkd/gs020-interop-kms): ``/kmapi/versions`` and ``/kmapi/v1/ext_keys`` in
blocking mode; what is followed and what departs is in docs/network.md, "Standards followed".
M. N. Wegman and J. L. Carter, J. Comput. Syst. Sci. 22, 265 (1981): the transfer's tag.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import hmac
import json
import logging
import time
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from qit4n.kms.errors import EtsiError
from qit4n.kms.interconnect import BudgetLedger, GatewaySettings, InterdomainConfig, match_rule
from qit4n.kms.relay import client_tls_source, xor_bytes
from qit4n.kms.relayauth import E2E_BYTES, EndToEnd, HopLayout
from qit4n.kms.shape import KeyShape
from qit4n.kms.storage import KeyBatch, KeyLookupError, PeerUnits, PoolExhaustedError, UnitMismatchError
from qit4n.kms.store import batch_key_ids, new_batch_id
from qit4n.kms.tls import ContextSource, TlsFiles
from qit4n.schema import StrictModel

if TYPE_CHECKING:
    import httpx
    import uvicorn

    from qit4n.kms.kme import KME
    from qit4n.kms.tls_server import TlsServerProtocol

__all__ = ["ExtKeys", "ExtKeysAdmit", "Gateway", "InterdomainAgent", "transfer_transcript"]

_log = logging.getLogger("qit4n.kms")
_TRANSFER_LABEL = b"qit4n interdomain ext_keys v1\x00"
_PEER_CA_POLL_S = 0.5
_KEY_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class ExtKeysAdmit(StrictModel):
    """May ``initiator_sae_id`` get ``number`` keys of ``key_size`` bits shared with ``target_sae_ids[0]``?

    The SAE fields are named as in ETSI GS QKD 020's ``ext_keys`` (see docs/network.md)."""

    initiator_sae_id: str = Field(min_length=1, max_length=256, description="the master SAE (peer domain)")
    target_sae_ids: list[str] = Field(min_length=1, max_length=1, description="the slave SAE (this domain)")
    number: int = Field(ge=1, le=65535)
    key_size: int = Field(ge=8, le=1 << 20, multiple_of=8, description="bits per key")

    @property
    def shape(self) -> KeyShape:
        """``number`` keys of ``key_size`` bits."""
        return KeyShape(number=self.number, size_bits=self.key_size)


class ExtKeys(ExtKeysAdmit):
    """Keys from the peer gateway (``POST /kmapi/v1/ext_keys``), one-time padded with inter-domain link key.

    ``key_IDs`` are the keys' IDs on both sides (a batch: the first ID and its successors);
    ``ciphertext`` is the keys and a 512-bit end-to-end key XOR the sender's units ``unit_start,
    unit_start + 2, ...`` of ``link_id``; ``tag`` the Wegman-Carter tag of the rest
    (:func:`transfer_transcript`) under the link's authentication key.
    """

    agreement: str = Field(min_length=1, max_length=256)
    key_IDs: list[Annotated[str, Field(pattern=_KEY_ID)]] = Field(min_length=1, max_length=65535)
    link_id: str = Field(min_length=1, max_length=256)
    unit_start: int = Field(ge=0, le=1 << 62)
    ciphertext: str = Field(max_length=1 << 22, description="base64")
    tag: str = Field(max_length=64, description="base64")


def transfer_transcript(message: ExtKeys, *, sender: str, receiver: str) -> bytes:
    """The bytes a transfer's tag covers: a label, both gateways and every field but the tag (canonical JSON)."""
    fields = message.model_dump(exclude={"tag"}) | {"sender": sender, "receiver": receiver}
    return _TRANSFER_LABEL + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _error_of(response: httpx.Response, who: str) -> EtsiError:
    try:
        body = response.json()
        message = str(body.get("message", ""))
    except ValueError:
        message = response.text[:200]
    status = response.status_code if response.status_code in (400, 401, 503) else 503
    return EtsiError(status, message or f"{who} answered {response.status_code}")


class Gateway:
    """The gateway KME's side (module docstring): policy, budget, the inter-domain link and interface."""

    def __init__(self, kme: KME, settings: GatewaySettings, interdomain: InterdomainConfig) -> None:
        self.kme = kme
        self.settings = settings
        self.interdomain = interdomain
        self.ledger = BudgetLedger(settings.ledger_file)
        #: Decisions by stage and outcome (``admit-outgoing allowed``, ...) and keys and bits carried.
        self.counters: collections.Counter[str] = collections.Counter()
        #: Why the last call to the peer gateway failed in transport (None: it answered).
        self.peer_error: str | None = None
        self._client: httpx.AsyncClient | None = None
        self._server: uvicorn.Server | None = None
        self._protocol: type[TlsServerProtocol] | None = None
        self._listener: asyncio.Task[None] | None = None

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the inter-domain interface as soon as the peer domain's CA certificate is there."""
        self._listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        import uvicorn
        from fastapi import FastAPI

        from qit4n.kms.errors import install_error_handlers
        from qit4n.kms.routers.interdomain import gateway_router
        from qit4n.kms.server import peer_cert_protocol

        while not self.settings.peer_ca.is_file():
            await asyncio.sleep(_PEER_CA_POLL_S)
        config = self.kme.config
        source = ContextSource(TlsFiles(config.cert, config.key, self.settings.peer_ca), config.tls_groups, server=True)
        self._protocol = peer_cert_protocol(source)
        app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
        app.include_router(gateway_router)
        install_error_handlers(app)
        app.state.kme = self.kme
        server_config = uvicorn.Config(
            app,
            host=self.settings.listen_host,
            port=self.settings.listen_port,
            http=self._protocol,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server_config.load()
        while self._server is None:
            server = uvicorn.Server(server_config)
            server.lifespan = server_config.lifespan_class(server_config)
            try:
                await server.startup()  # uvicorn exits (SystemExit) when it cannot bind
            except (OSError, SystemExit) as error:
                _log.warning(
                    "inter-domain interface %s: cannot listen (%r); retrying", self.settings.listen_port, error
                )
                await asyncio.sleep(_PEER_CA_POLL_S)
                continue
            self._server = server
        self.kme.audit.record("interdomain_listening", url=f"{self.settings.listen_host}:{self.settings.listen_port}")

    async def close(self) -> None:
        """Stop the inter-domain interface and close the connection to the peer gateway."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        if self._server is not None:
            server, self._server = self._server, None
            server.force_exit = True
            with contextlib.suppress(Exception):
                await server.shutdown()
            if self._protocol is not None:
                from qit4n.kms.server import abort_leftovers

                await abort_leftovers(server, self._protocol)
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _peer(self) -> httpx.AsyncClient:
        """HTTPS client to the peer gateway: our certificate, the peer domain's CA (opened on first use)."""
        if self._client is None:
            from qit4n.kms.tls_client import AsyncTlsClient

            if not self.settings.peer_ca.is_file():
                raise EtsiError(
                    503, f"the {self.interdomain.peer_domain} domain's CA certificate is not installed yet; retry later"
                )
            config = self.kme.config
            source = ContextSource(
                TlsFiles(config.cert, config.key, self.settings.peer_ca), config.tls_groups, server=False
            )
            self._client = AsyncTlsClient(source, timeout_s=config.peer_timeout_s)
        return self._client

    async def _call_peer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        peer = self.interdomain.peer_domain
        try:
            response = await self._peer().post(self.settings.peer_url + path, json=body)
        except httpx.HTTPError as error:
            self.peer_error = f"{type(error).__name__} at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"
            raise EtsiError(
                503, f"the {peer} domain's gateway does not answer ({type(error).__name__}); retry later"
            ) from None
        self.peer_error = None
        if response.status_code != 200:
            raise _error_of(response, f"the {peer} domain's gateway")
        answer: dict[str, Any] = response.json()
        return answer

    async def post_peer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The Kx key supply notifications of the inter-domain link (``/kme/v1/supply`` between KMEs of
        one domain) go to the peer gateway's ``/kmapi/v1/supply``; nothing else crosses this way."""
        if path != "/kme/v1/supply":
            raise EtsiError(503, f"{path} does not cross to the {self.interdomain.peer_domain} domain")
        return await self._call_peer("/kmapi/v1/supply", body)

    # -- checks and their audit -------------------------------------------------------------------------
    def _decide(self, stage: str, master: str, slave: str, bits: int, error: EtsiError | None, **extra: Any) -> None:
        """Write one policy decision to the audit log (no key material) and count it."""
        self.counters[f"{stage} {'refused' if error else 'allowed'}"] += 1
        self.kme.audit.record(
            "interdomain",
            agreement=self.interdomain.agreement,
            stage=stage,
            master=master,
            slave=slave,
            bits=bits,
            decision="refused" if error else "allowed",
            **({"status": error.status_code, "reason": error.message} if error else {}),
            **extra,
        )

    def link_down_reason(self) -> str | None:
        """Why this end of the inter-domain link produces no key now (cut or rate 0), or None."""
        condition = self.kme.link_conditions.get(self.settings.link_id)
        if condition is None:
            return None
        if condition.cut:
            return "cut"
        return "no key (rate 0)" if condition.rate_factor == 0.0 else None

    def _check_link(self, slave: str) -> None:
        reason = self.link_down_reason()
        if reason is not None:
            raise EtsiError(
                503,
                f"inter-domain link {self.settings.link_id} to the {self.interdomain.peer_domain} domain is down "
                f"({reason}); keys for {slave} cannot be issued now",
                [{"link": self.settings.link_id, "peer_domain": self.interdomain.peer_domain}],
            )

    def _check_policy(self, master: str, slave: str, bits: int) -> int:
        """The index of the rule allowing master -> slave with ``bits`` more this hour; 401 or 503 otherwise."""
        rules = self.settings.rules
        rule = match_rule(rules, master, slave)
        if rule is None:
            raise EtsiError(
                401,
                f"the inter-domain agreement {self.interdomain.agreement} does not allow {master} to get keys "
                f"shared with {slave}",
                [{"master_SAE_ID": master, "slave_SAE_ID": slave}],
            )
        self.ledger.check(rule, rules[rule].max_bits_per_hour, bits, pair=f"{master} -> {slave}")
        return rule

    def _check_local_slave(self, slave: str) -> str:
        """The KME of ``slave`` in this domain; 400 if it is not one, 503 if no route leads there."""
        config = self.kme.config
        kme_id = config.directory.get(slave)
        if kme_id is None or slave in self.interdomain.remote_sae_ids:
            raise EtsiError(400, f"{slave!r} is not an SAE of the {self.interdomain.domain} domain")
        if kme_id != config.kme_id and kme_id not in config.routes:
            raise EtsiError(503, f"no key route in the {self.interdomain.domain} domain to {slave}; retry later")
        return kme_id

    def check_peer(self, sender: str) -> None:
        """401 unless ``sender`` is the peer domain's gateway KME."""
        if sender != self.settings.peer_kme_id:
            raise EtsiError(401, f"{sender!r} is not the {self.interdomain.peer_domain} domain's gateway")

    # -- outgoing (this domain's master) -------------------------------------------------------------
    async def admit_outgoing(self, master: str, slave: str, shape: KeyShape) -> None:
        """Check this end, the policy and the peer gateway's consent before any key is spent."""
        bits = shape.number * shape.size_bits
        body = ExtKeysAdmit(
            initiator_sae_id=master, target_sae_ids=[slave], number=shape.number, key_size=shape.size_bits
        ).model_dump()
        try:
            self._check_link(slave)
            try:
                self._check_policy(master, slave, bits)
            except EtsiError as refused:
                # The decision is bilateral: the peer gateway evaluates and logs the request too.
                with contextlib.suppress(EtsiError):
                    await self._call_peer("/kmapi/v1/ext_keys/admit", body)
                raise refused from None
            await self._call_peer("/kmapi/v1/ext_keys/admit", body)
        except EtsiError as error:
            self._decide("admit-outgoing", master, slave, bits, error)
            raise
        self._decide("admit-outgoing", master, slave, bits, None)

    async def forward(self, master: str, slave: str, shape: KeyShape, batch_id: str) -> None:
        """Send the keys of ``batch_id`` (relayed here for ``slave``) to the peer gateway (module docstring)."""
        bits = shape.number * shape.size_bits
        try:
            await self._forward(master, slave, shape, batch_id, bits)
        except EtsiError as error:
            self._decide("forward", master, slave, bits, error, batch_ID=batch_id)
            raise
        self._decide("forward", master, slave, bits, None, batch_ID=batch_id)

    async def _forward(self, master: str, slave: str, shape: KeyShape, batch_id: str, bits: int) -> None:
        try:
            self._check_link(slave)
            rule = self._check_policy(master, slave, bits)
        except EtsiError:
            self.kme.store.void(batch_ids=[batch_id])  # the keys relayed here go no further
            raise
        self.ledger.charge(rule, bits)  # reserved at once (no await since the check), refunded on failure
        try:
            await self._send(master, slave, shape, batch_id)
        except BaseException:
            self.ledger.charge(rule, -bits)
            raise
        self.counters["keys_sent"] += shape.number
        self.counters["bits_sent"] += bits

    async def _send(self, master: str, slave: str, shape: KeyShape, batch_id: str) -> None:
        kme = self.kme
        try:
            taken = kme.store.take(slave=slave, master=master, key_ids=batch_key_ids(batch_id, shape.number))
        except KeyLookupError as error:
            raise EtsiError(400, f"batch {batch_id} is not waiting at the gateway for {slave}: {error}") from None
        keys = b"".join(item.material for item in taken)
        link_id = self.settings.link_id
        layout = HopLayout(shape, kme.config.key_size_bits)
        try:
            start, pad = kme.store.allocate(link_id=link_id, supply=kme.supplies[link_id], count=layout.total_units)
        except PoolExhaustedError as error:
            raise EtsiError(
                503, f"not enough key on the inter-domain link {link_id} for this request; retry later ({error})"
            ) from None
        e2e_key = kme.relay.fresh_keys(E2E_BYTES)
        e2e = EndToEnd(e2e_key)
        cipher = xor_bytes(keys + e2e_key, layout.payload_pad(pad))
        message = ExtKeys(
            initiator_sae_id=master,
            target_sae_ids=[slave],
            number=shape.number,
            key_size=shape.size_bits,
            agreement=self.interdomain.agreement,
            key_IDs=batch_key_ids(batch_id, shape.number),
            link_id=link_id,
            unit_start=start,
            ciphertext=base64.b64encode(cipher).decode("ascii"),
            tag="",
        )
        transcript = transfer_transcript(message, sender=kme.config.kme_id, receiver=self.settings.peer_kme_id)
        tag = kme.relay.authenticator(link_id).tag(transcript, pad=layout.tag_pad(pad))
        message = message.model_copy(update={"tag": base64.b64encode(tag).decode("ascii")})
        kme.relay.auth_units[link_id] += layout.overhead_units
        answer = await self._call_peer("/kmapi/v1/ext_keys", message.model_dump())
        try:
            receipt = base64.b64decode(str(answer.get("receipt", "")), validate=True)
        except (binascii.Error, ValueError):
            receipt = b""
        if not hmac.compare_digest(receipt, e2e.receipt_tag(batch_id, master, [slave], keys)):
            raise EtsiError(503, f"the {self.interdomain.peer_domain} domain's gateway answered a wrong receipt")

    # -- incoming (the peer domain's master) ---------------------------------------------------------
    def admit_incoming(self, sender: str, master: str, slave: str, shape: KeyShape) -> None:
        """The peer gateway asks whether ``master`` may get keys shared with our ``slave``."""
        bits = shape.number * shape.size_bits
        try:
            self.check_peer(sender)
            self._check_link(slave)
            self._check_local_slave(slave)
            self._check_policy(master, slave, bits)
        except EtsiError as error:
            self._decide("admit-incoming", master, slave, bits, error)
            raise
        self._decide("admit-incoming", master, slave, bits, None)

    async def receive(self, sender: str, message: ExtKeys) -> dict[str, str]:
        """A transfer from the peer gateway: check it, deliver its keys in this domain, answer the receipt."""
        master, slave, shape = message.initiator_sae_id, message.target_sae_ids[0], message.shape
        bits = shape.number * shape.size_bits
        try:
            answer = await self._receive(sender, message, master, slave, shape, bits)
        except EtsiError as error:
            self._decide("receive", master, slave, bits, error, batch_ID=message.key_IDs[0])
            raise
        self._decide("receive", master, slave, bits, None, batch_ID=message.key_IDs[0])
        return answer

    async def _receive(
        self, sender: str, message: ExtKeys, master: str, slave: str, shape: KeyShape, bits: int
    ) -> dict[str, str]:
        self.check_peer(sender)
        if message.agreement != self.interdomain.agreement or message.link_id != self.settings.link_id:
            raise EtsiError(401, "transfer names another agreement or link")
        batch_id = message.key_IDs[0]
        if not batch_id.endswith("0000") or message.key_IDs != batch_key_ids(batch_id, shape.number):
            raise EtsiError(400, "key_IDs must be one batch: its first key_ID and the next number - 1")
        self._check_link(slave)
        target = self._check_local_slave(slave)
        rule = self._check_policy(master, slave, bits)
        self.ledger.charge(rule, bits)  # reserved at once, refunded on failure
        try:
            answer = await self._deliver(sender, message, master, slave, shape, target)
        except BaseException:
            self.ledger.charge(rule, -bits)
            raise
        self.counters["keys_received"] += shape.number
        self.counters["bits_received"] += bits
        return answer

    async def _deliver(
        self, sender: str, message: ExtKeys, master: str, slave: str, shape: KeyShape, target: str
    ) -> dict[str, str]:
        """Authenticate and decode the transfer, then deliver its keys in this domain; the receipt."""
        kme = self.kme
        batch_id = message.key_IDs[0]
        link_id = self.settings.link_id
        layout = HopLayout(shape, kme.config.key_size_bits)
        unit_start = message.unit_start
        try:
            cipher = base64.b64decode(message.ciphertext, validate=True)
            tag = base64.b64decode(message.tag, validate=True)
        except (binascii.Error, ValueError):
            raise EtsiError(400, "ciphertext or tag is not base64") from None
        if len(cipher) != layout.payload_bytes:
            raise EtsiError(400, "ciphertext length does not match number and size")
        supply = kme.supplies[link_id]
        try:
            tag_pad = b"".join(supply.units(layout.tag_start(unit_start), 2 * layout.tag_units - 1)[::2])
        except (UnitMismatchError, ValueError) as error:
            raise EtsiError(401, f"transfer cannot be authenticated: {error}") from None
        transcript = transfer_transcript(message, sender=sender, receiver=kme.config.kme_id)
        if not kme.relay.authenticator(link_id).verify(transcript, pad=layout.tag_pad(tag_pad), tag=tag):
            raise EtsiError(401, "transfer failed its inter-domain link authentication tag")
        payload = b""

        def decode(pad: bytes) -> bytes:
            nonlocal payload
            payload = xor_bytes(cipher, layout.payload_pad(pad))
            return payload

        transit = new_batch_id()
        consumed = PeerUnits(link_id, unit_start, layout.total_units, supply)
        try:
            kme.store.receive(
                batch=KeyBatch(transit, master, [slave], shape), decode=decode, consumed=consumed, e2e_bytes=E2E_BYTES
            )
            kme.store.take(slave=slave, master=master, key_ids=batch_key_ids(transit, shape.number))
        except UnitMismatchError as error:
            raise EtsiError(
                401, f"transfer names inter-domain link units already consumed or not held here: {error}"
            ) from None
        kme.relay.auth_units[link_id] += layout.overhead_units
        keys, e2e = payload[:-E2E_BYTES], EndToEnd(payload[-E2E_BYTES:])
        try:
            await kme.relay.distribute(
                master=master,
                slaves_by_kme={target: [slave]},
                primary=kme.config.kme_id,
                shape=shape,
                batch_id=batch_id,
                keys=keys,
            )
        except EtsiError as error:
            raise EtsiError(
                503,
                f"keys for {slave} cannot be delivered in the {self.interdomain.domain} domain now; "
                f"retry later ({error.message})",
            ) from None
        receipt = e2e.receipt_tag(batch_id, master, [slave], keys)
        return {"status": "success", "receipt": base64.b64encode(receipt).decode("ascii")}

    # -- report -------------------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        """The gateway's state for the controller: link end, interface, counters, budget use per rule."""
        rules = self.settings.rules
        return {
            "link_id": self.settings.link_id,
            "link_down": self.link_down_reason(),
            "peer_kme_id": self.settings.peer_kme_id,
            "peer_ca_installed": self.settings.peer_ca.is_file(),
            "listening": self._server is not None,
            "peer_error": self.peer_error,
            "url": f"https://{self.settings.listen_host}:{self.settings.listen_port}",
            "counters": dict(sorted(self.counters.items())),
            "rules": [
                {**rule.model_dump(), "used_bits_last_hour": self.ledger.used_bits(index)}
                for index, rule in enumerate(rules)
            ],
        }


class InterdomainAgent:
    """Any KME of a joined domain: sends requests for the peer domain's SAEs through the gateway."""

    def __init__(self, kme: KME, interdomain: InterdomainConfig) -> None:
        self.kme = kme
        self.config = interdomain
        self.gateway = None if interdomain.gateway is None else Gateway(kme, interdomain.gateway, interdomain)
        self._client: httpx.AsyncClient | None = None

    def is_remote(self, sae_id: str) -> bool:
        """Whether ``sae_id`` is an SAE of the peer domain."""
        return sae_id in self.config.remote_sae_ids

    async def start(self) -> None:
        """Open the intra-domain client to the gateway (and, at the gateway, the inter-domain interface)."""
        from qit4n.kms.tls_client import AsyncTlsClient

        if self.gateway is not None:
            self.gateway.start()
        config = self.kme.config
        self._client = AsyncTlsClient(client_tls_source(config), timeout_s=2 * config.peer_timeout_s)

    async def close(self) -> None:
        """Close the connections."""
        if self.gateway is not None:
            await self.gateway.close()
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def _to_gateway(self, path: str, body: dict[str, Any]) -> None:
        import httpx

        url = self.kme.config.peers.get(self.config.gateway_kme_id)
        if url is None or self._client is None:
            raise EtsiError(503, f"the gateway {self.config.gateway_kme_id} cannot be reached")
        try:
            response = await self._client.post(url + path, json=body)
        except httpx.HTTPError as error:
            raise EtsiError(
                503, f"the {self.config.domain} domain's gateway does not answer ({type(error).__name__}); retry later"
            ) from None
        if response.status_code != 200:
            raise _error_of(response, "the gateway")

    async def admit(self, master: str, slave: str, shape: KeyShape) -> None:
        """Ask the gateway (and through it the peer gateway) whether ``master`` may get these keys."""
        if self.gateway is not None:
            await self.gateway.admit_outgoing(master, slave, shape)
            return
        body = {"master_SAE_ID": master, "slave_SAE_ID": slave, "number": shape.number, "size": shape.size_bits}
        await self._to_gateway("/kme/v1/interdomain/admit", body)

    async def forward(self, master: str, slave: str, shape: KeyShape, batch_id: str) -> None:
        """Have the gateway forward the batch (relayed to it) to the peer domain."""
        if self.gateway is not None:
            await self.gateway.forward(master, slave, shape, batch_id)
            return
        body = {
            "master_SAE_ID": master,
            "slave_SAE_ID": slave,
            "number": shape.number,
            "size": shape.size_bits,
            "batch_ID": batch_id,
        }
        await self._to_gateway("/kme/v1/interdomain/forward", body)

    def report(self) -> dict[str, Any]:
        """The interconnection as this KME sees it (the gateway adds its own state)."""
        return {
            "agreement": self.config.agreement,
            "domain": self.config.domain,
            "peer_domain": self.config.peer_domain,
            "gateway_kme_id": self.config.gateway_kme_id,
            "remote_sae_ids": self.config.remote_sae_ids,
            **({} if self.gateway is None else {"gateway": self.gateway.report()}),
        }
