"""ETSI GS QKD 004 semantics of a KME: OPEN_CONNECT, GET_KEY and CLOSE over key streams.

A key stream is mapped onto the ETSI 014 machinery: the key of (KSID, index) is one ETSI 014 key
of ``key_chunk_size`` bytes, made by the *source's* KME on the first GET_KEY of that index from
either end (:meth:`Etsi004.key_for`), with the source SAE and the destination SAE as its slaves.
The relay engine commits it at the destination's KME before the source's KME records its key_ID,
so on a direct link, across trusted nodes, or on one KME, both ends take the same bytes from their
own KME's store, each exactly once. The destination's KME asks the source's KME for the key_ID
(and to connect, and to close) over the KME-to-KME API (mutual TLS with KME certificates).

Every call answers one of the status codes of the GS (:data:`STATUS`); only a malformed request
(HTTP 400) or a caller that is not the SAE it names (HTTP 401) is answered otherwise.

References
----------
ETSI GS QKD 004 V2.1.1 (2020-08), clause 6: OPEN_CONNECT, GET_KEY, CLOSE, QoS and status values.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from qit4n.kms.audit import AuditLog
from qit4n.kms.config import KMEConfig
from qit4n.kms.errors import EtsiError
from qit4n.kms.quotas import QuotaBook
from qit4n.kms.relay import RelayEngine, client_tls_source
from qit4n.kms.shape import KeyShape
from qit4n.kms.storage import KeyLookupError, KeyStorage
from qit4n.kms.store import batch_key_ids, split_key_id
from qit4n.kms.streams import StreamBook, StreamEnd, streams_path
from qit4n.schema import StrictModel

if TYPE_CHECKING:
    import httpx

__all__ = [
    "MAX_CHUNK_BYTES",
    "MAX_TIMEOUT_MS",
    "STATUS",
    "Etsi004",
    "GetKeyRequest",
    "GetKeyResult",
    "KSIDRequest",
    "OpenConnectRequest",
    "OpenResult",
    "QoS",
]

_log = logging.getLogger("qit4n.kms")

#: The status values of the GS (clause 6), by code.
STATUS = {
    0: "Successful",
    1: "Successful connection, but peer not connected",
    2: "GET_KEY failed because insufficient key available",
    3: "GET_KEY failed because peer application is not yet connected",
    4: "No QKD connection available",
    5: "OPEN_CONNECT failed because the KSID is already in use",
    6: "TIMEOUT_ERROR: the call failed because of the specified timeout",
    7: "OPEN failed because requested QoS settings could not be met, counter proposal included in return",
    8: "GET_KEY failed because metadata field size insufficient",
}

#: Largest key chunk a KME serves, in bytes (larger requests get status 7 with this as counter proposal).
MAX_CHUNK_BYTES = 1024
#: Longest GET_KEY wait a KME grants, in ms.
MAX_TIMEOUT_MS = 60_000
_METADATA_MIMETYPE = "application/json"
_POLL_S = 0.05


class QoS(StrictModel):
    """QoS of a key stream (GS clause 6.1); 0 in ``max_bps``/``ttl`` means no limit."""

    key_chunk_size: int = Field(32, ge=1, le=1 << 20, description="bytes of key per GET_KEY")
    max_bps: float = Field(0.0, ge=0.0, description="most key bits per second one end may take (0: no limit)")
    min_bps: float = Field(0.0, ge=0.0, description="key bits per second the link must sustain for this stream")
    jitter: int = Field(0, ge=0, description="ms (recorded, not enforced)")
    priority: int = Field(0, ge=0, description="(recorded, not enforced)")
    timeout: int = Field(0, ge=0, le=3_600_000, description="ms a GET_KEY waits for key before status 6")
    ttl: int = Field(
        0, ge=0, le=10 * 365 * 86400, description="s the stream stays open after OPEN_CONNECT (0: no limit)"
    )
    metadata_mimetype: str = Field(_METADATA_MIMETYPE, min_length=1, max_length=255)

    @model_validator(mode="after")
    def _rates(self) -> QoS:
        if self.max_bps and self.min_bps > self.max_bps:
            raise ValueError(f"min_bps = {self.min_bps} must be <= max_bps = {self.max_bps} (or max_bps = 0)")
        return self


_ID = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._:@/-]+$")
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_KSID = Field(pattern=_UUID, description="Key_stream_ID (a UUID)")


class OpenConnectRequest(StrictModel):
    """OPEN_CONNECT(source, destination, QoS, Key_stream_ID or null)."""

    source: str = _ID
    destination: str = _ID
    qos: QoS = Field(default_factory=QoS)
    KSID: str | None = Field(None, pattern=_UUID, description="null for the source: the KME assigns it")


class OpenResult(StrictModel):
    """OPEN_CONNECT's return: (Key_stream_ID, QoS, status)."""

    status: int
    message: str
    KSID: str | None = None
    qos: QoS | None = None


class GetKeyRequest(StrictModel):
    """GET_KEY(Key_stream_ID, index, Metadata): ``metadata_size`` is the caller's metadata buffer in bytes."""

    KSID: str = _KSID
    index: int | None = Field(None, ge=0, le=(1 << 32) - 1, description="default: this end's next index")
    metadata_size: int | None = Field(None, ge=0, le=1 << 16, description="default: any size")


class GetKeyResult(StrictModel):
    """GET_KEY's return: (status, key_buffer, index, Metadata)."""

    status: int
    message: str
    key_buffer: str | None = Field(None, description="base64 of key_chunk_size bytes")
    index: int | None = None
    metadata: str | None = Field(None, description="metadata of metadata_mimetype (JSON text)")
    metadata_size: int | None = Field(None, description="bytes of the metadata (the minimum needed, for status 8)")


class KSIDRequest(StrictModel):
    """A call naming one stream (CLOSE, and the KME-to-KME stream calls)."""

    KSID: str = _KSID


class _Outcome(Exception):
    """A GS status other than 0, with its reason."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        super().__init__(f"{STATUS[status]}: {reason}")


def _qos_fields(qos: dict[str, Any]) -> QoS:
    return QoS(**{name: value for name, value in qos.items() if name in QoS.model_fields})


class Etsi004:
    """The ETSI GS QKD 004 service of one KME (module docstring); one per KME, ``await close()`` at the end."""

    def __init__(
        self, config: KMEConfig, store: KeyStorage, relay: RelayEngine, quotas: QuotaBook, audit: AuditLog
    ) -> None:
        self.config = config
        self.store = store
        self.relay = relay
        self.quotas = quotas
        self.audit = audit
        self.book = StreamBook(streams_path(config.database))
        self._making: dict[str, asyncio.Lock] = {}  # per open stream: its keys are made one at a time
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        """Close the KME-to-KME client and the stream table."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
        self.book.close()

    # -- OPEN_CONNECT --------------------------------------------------------------------------
    async def open_connect(self, caller: str, request: OpenConnectRequest) -> OpenResult:
        """OPEN_CONNECT: the source opens (KSID null or proposed), the destination joins with the KSID."""
        source, destination = request.source, request.destination
        if caller not in (source, destination):
            raise EtsiError(
                401, f"caller {caller!r} is neither source nor destination", [{"source": source, "caller": caller}]
            )
        if source == destination:
            raise EtsiError(400, "destination must differ from source", [{"destination": destination}])
        interdomain = self.config.interdomain
        for role, sae_id in (("source", source), ("destination", destination)):
            if sae_id not in self.config.directory:
                raise EtsiError(400, f"{role} {sae_id!r} is not an SAE of this network", [{role: sae_id}])
            if interdomain is not None and sae_id in interdomain.remote_sae_ids:
                raise EtsiError(
                    400,
                    f"{role} {sae_id!r} is an SAE of the {interdomain.peer_domain} domain: key streams do not cross "
                    "domains (use ETSI GS QKD 014)",
                    [{role: sae_id}],
                )
        try:
            if caller == source:
                return self._open_source(request)
            return await self._open_destination(request)
        except _Outcome as outcome:
            return OpenResult(status=outcome.status, message=str(outcome), KSID=request.KSID)

    def _open_source(self, request: OpenConnectRequest) -> OpenResult:
        cfg = self.config
        target = cfg.directory[request.destination]
        link_id = ""
        if target != cfg.kme_id:
            if target not in cfg.routes:
                raise _Outcome(4, f"no key route to {request.destination!r}")
            link = self.relay.first_link(target)
            link_id = link.link_id
            available_bps = max(0.0, link.key_rate_bps - self.book.reserved_bps(link_id))
        else:
            available_bps = float("inf")
        counter = self._counter_proposal(request.qos, available_bps)
        if counter is not None:
            return OpenResult(status=7, message=f"{STATUS[7]}: see qos", KSID=None, qos=counter)
        ksid = request.KSID or str(uuid.uuid4())
        if self.book.ends(ksid):
            raise _Outcome(5, f"KSID {ksid} is in use at this KME")
        qos = request.qos.model_dump() | {"link_id": link_id}
        end = StreamEnd(ksid, "source", request.source, request.destination, qos, False, 0, time.time(), False)
        if not self.book.open_end(end):
            raise _Outcome(5, f"KSID {ksid} is in use at this KME")
        self.audit.record("stream_open", KSID=ksid, source=request.source, destination=request.destination)
        return OpenResult(status=1, message=STATUS[1], KSID=ksid, qos=request.qos)

    def _counter_proposal(self, qos: QoS, available_bps: float) -> QoS | None:
        """The QoS this KME can grant instead of ``qos``, or None if ``qos`` can be met."""
        chunk_limit = min(MAX_CHUNK_BYTES, self.config.max_key_size_bits // 8)
        changes: dict[str, Any] = {}
        if qos.key_chunk_size > chunk_limit:
            changes["key_chunk_size"] = chunk_limit
        if qos.min_bps > available_bps:
            changes["min_bps"] = available_bps
        if qos.timeout > MAX_TIMEOUT_MS:
            changes["timeout"] = MAX_TIMEOUT_MS
        if qos.metadata_mimetype != _METADATA_MIMETYPE:
            changes["metadata_mimetype"] = _METADATA_MIMETYPE
        lifetime_s = int(self.config.key_lifetime_s)
        if qos.ttl > lifetime_s:
            changes["ttl"] = lifetime_s
        return qos.model_copy(update=changes) if changes else None

    async def _open_destination(self, request: OpenConnectRequest) -> OpenResult:
        ksid = request.KSID
        if ksid is None:
            raise EtsiError(400, "KSID: the destination opens with the KSID the source received", [{"KSID": None}])
        if self.book.end(ksid, "destination") is not None:
            raise _Outcome(5, f"KSID {ksid} is already open at the destination")
        source_kme = self.config.directory[request.source]
        pair = {"KSID": ksid, "source": request.source, "destination": request.destination}
        if source_kme == self.config.kme_id:
            qos = self.connect_from_peer(pair)
        else:
            answer = await self._peer_call(source_kme, "/kme/v1/streams/connect", pair)
            if answer["status"] != 0:
                raise _Outcome(answer["status"], answer["message"])
            qos = answer["qos"]
        end = StreamEnd(ksid, "destination", request.source, request.destination, qos, True, 0, time.time(), False)
        if not self.book.open_end(end):
            raise _Outcome(5, f"KSID {ksid} is already open at the destination")
        self.audit.record("stream_join", KSID=ksid, source=request.source, destination=request.destination)
        return OpenResult(status=0, message=STATUS[0], KSID=ksid, qos=_qos_fields(qos))

    def connect_from_peer(self, pair: dict[str, str]) -> dict[str, Any]:
        """At the source's KME: the destination joins ``pair["KSID"]``; returns the stream's QoS.

        Raises :class:`_Outcome` 4 (no such open stream for this pair) or 5 (already joined).
        """
        source_end = self.book.end(pair["KSID"], "source")
        if (
            source_end is None
            or source_end.closed
            or (source_end.source, source_end.destination) != (pair["source"], pair["destination"])
        ):
            raise _Outcome(4, f"no open key stream {pair['KSID']} from {pair['source']} to {pair['destination']}")
        if not self.book.connect_peer(pair["KSID"]):
            raise _Outcome(5, f"KSID {pair['KSID']} already has its destination")
        return source_end.qos

    # -- GET_KEY -------------------------------------------------------------------------------
    async def get_key(self, caller: str, request: GetKeyRequest) -> GetKeyResult:
        """GET_KEY: the key of (KSID, index) for the calling end, or the status that says why not."""
        try:
            return await self._get_key(caller, request)
        except _Outcome as outcome:
            return GetKeyResult(status=outcome.status, message=str(outcome), index=request.index)

    def _caller_end(self, caller: str, ksid: str) -> StreamEnd:
        ends = self.book.ends(ksid)
        end = next((end for end in ends if end.sae == caller), None)
        if end is None:
            if ends:
                raise EtsiError(401, f"key stream {ksid} does not belong to {caller!r}", [{"KSID": ksid}])
            raise _Outcome(4, f"no key stream {ksid} at this KME")
        if end.closed:
            raise _Outcome(4, f"key stream {ksid} is closed")
        ttl_s = end.qos.get("ttl", 0)
        if ttl_s and time.time() > end.opened_s + ttl_s:
            raise _Outcome(4, f"key stream {ksid} expired (ttl = {ttl_s} s)")
        return end

    async def _get_key(self, caller: str, request: GetKeyRequest) -> GetKeyResult:
        end = self._caller_end(caller, request.KSID)
        if end.role == "source" and not end.peer_connected:
            raise _Outcome(3, f"{end.destination} has not opened {end.ksid}")
        qos = _qos_fields(end.qos)
        chunk_bits = qos.key_chunk_size * 8
        if qos.max_bps and (end.taken + 1) * chunk_bits > chunk_bits + qos.max_bps * (time.time() - end.opened_s):
            raise _Outcome(2, f"max_bps = {qos.max_bps} reached by this end")
        index = end.taken if request.index is None else request.index
        key_id = await self._wait_key_id(end, index, qos)
        metadata = json.dumps({"KSID": end.ksid, "index": index, "key_ID": key_id}, separators=(",", ":"))
        needed = len(metadata.encode())
        if request.metadata_size is not None and request.metadata_size < needed:
            return GetKeyResult(status=8, message=STATUS[8], index=index, metadata_size=needed)
        try:
            found = await asyncio.to_thread(self.store.take, slave=caller, master=end.source, key_ids=[key_id])
        except KeyLookupError:
            raise EtsiError(
                400,
                f"index = {index}: its key was already delivered to {caller} or has expired (keys are delivered once)",
                [{"KSID": end.ksid, "index": index}],
            ) from None
        self.book.count_taken(end.ksid, end.role)
        self.audit.record("stream_key", KSID=end.ksid, sae=caller, index=index, key_ID=key_id)
        return GetKeyResult(
            status=0,
            message=STATUS[0],
            key_buffer=base64.b64encode(found[0].material).decode("ascii"),
            index=index,
            metadata=metadata,
            metadata_size=needed,
        )

    async def _wait_key_id(self, end: StreamEnd, index: int, qos: QoS) -> str:
        """The key_ID of (KSID, index), made if needed; waits up to the QoS timeout for key."""
        deadline = time.monotonic() + qos.timeout / 1000
        while True:
            try:
                if self.config.directory[end.source] == self.config.kme_id:
                    return await self.key_for(end.ksid, index)
                known = self.book.key_id(end.ksid, index)
                if known is not None:
                    return known
                answer = await self._peer_call(
                    self.config.directory[end.source], "/kme/v1/streams/key", {"KSID": end.ksid, "index": index}
                )
                if answer["status"] != 0:
                    raise _Outcome(answer["status"], answer["message"])
                self.book.record_key(end.ksid, index, answer["key_ID"])
                return str(answer["key_ID"])
            except _Outcome as outcome:
                if outcome.status != 2:
                    raise
                if time.monotonic() >= deadline:
                    if qos.timeout:
                        raise _Outcome(6, f"no key for index {index} within timeout = {qos.timeout} ms") from None
                    raise
            await asyncio.sleep(min(_POLL_S, max(0.0, deadline - time.monotonic())))

    async def key_for(self, ksid: str, index: int) -> str:
        """At the source's KME: the key_ID of (``ksid``, ``index``), made on first request (status 2 if no key)."""
        async with self._making.setdefault(ksid, asyncio.Lock()):
            known = self.book.key_id(ksid, index)
            if known is not None:
                return known
            source_end = self.book.end(ksid, "source")
            if source_end is None or source_end.closed:
                raise _Outcome(4, f"key stream {ksid} is not open at the source's KME")
            if not source_end.peer_connected:
                raise _Outcome(3, f"{source_end.destination} has not opened {ksid}")
            key_id = await self._make_key(source_end)
            self.book.record_key(ksid, index, key_id)
            return key_id

    async def _make_key(self, end: StreamEnd) -> str:
        kme_id = self.config.kme_id
        target = self.config.directory[end.destination]
        slaves_by_kme = {kme_id: [end.source]}
        slaves_by_kme.setdefault(target, []).append(end.destination)
        shape = KeyShape(number=1, size_bits=_qos_fields(end.qos).key_chunk_size * 8)
        try:
            if target != kme_id:  # the source SAE's pool share (quotas), as for its ETSI 014 keys
                link = self.relay.first_link(target)
                unit_bits = self.config.key_size_bits
                self.quotas.draw_pool(
                    end.source,
                    link_id=link.link_id,
                    bits=shape.pool_units(unit_bits=unit_bits) * unit_bits,
                    capacity_bits=link.pool_capacity_bits,
                    rate_bps=link.key_rate_bps,
                )
            batch_id, _keys = await self.relay.distribute(
                master=end.source, slaves_by_kme=slaves_by_kme, primary=target, shape=shape
            )
        except EtsiError as error:
            _log.info("key stream %s: no key made: %s", end.ksid, error)
            raise _Outcome(2, "not enough key on the route to the destination now") from None
        self.store.count_issued(number=1)
        return batch_key_ids(batch_id, 1)[0]

    # -- CLOSE ---------------------------------------------------------------------------------
    async def close_stream(self, caller: str, ksid: str) -> GetKeyResult:
        """CLOSE: both ends of the stream are closed; keys not yet taken here are erased."""
        try:
            end = self._caller_end(caller, ksid)
        except _Outcome as outcome:
            return GetKeyResult(status=outcome.status, message=str(outcome))
        batch_ids = self.close_here(ksid)
        other_kme = self.config.directory[end.peer]
        if other_kme != self.config.kme_id:
            try:
                answer = await self._peer_call(
                    other_kme, "/kme/v1/streams/close", {"KSID": ksid, "batch_IDs": batch_ids}
                )
                if end.role == "destination":  # only the source's KME (the keys' master KME) names batches to void
                    self.close_here(ksid, list(answer.get("batch_IDs") or []))
            except _Outcome as outcome:  # the other end sees the closed stream on its next call, or its ttl
                _log.warning("key stream %s: close not delivered to %s: %s", ksid, other_kme, outcome)
        self.audit.record("stream_close", KSID=ksid, sae=caller)
        return GetKeyResult(status=0, message=STATUS[0])

    def close_here(self, ksid: str, peer_batch_ids: list[str] | None = None) -> list[str]:
        """Close the ends of ``ksid`` at this KME; void the stream's keys waiting here (those this KME
        recorded, and ``peer_batch_ids``, those the other end's KME recorded). Returns the former."""
        key_ids = self.book.close_stream(ksid)
        self._making.pop(ksid, None)
        batch_ids = [part[0] for key_id in key_ids if (part := split_key_id(key_id)) is not None]
        if batch_ids or peer_batch_ids:
            self.store.void(batch_ids=sorted({*batch_ids, *(peer_batch_ids or [])}))
        return batch_ids

    # -- KME-to-KME ----------------------------------------------------------------------------
    async def _peer_call(self, kme_id: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self.config.peers.get(kme_id)
        if url is None:
            raise _Outcome(4, f"KME {kme_id} cannot be reached")
        if self._client is None:
            from qit4n.kms.tls_client import AsyncTlsClient

            self._client = AsyncTlsClient(client_tls_source(self.config), timeout_s=self.config.peer_timeout_s)
        try:
            response = await self._client.post(url + path, json=body)
        except Exception as error:  # noqa: BLE001 - any transport failure means no connection
            _log.warning("key stream call to %s failed: %r", kme_id, error)
            raise _Outcome(4, "the other end's KME cannot be reached") from None
        if response.status_code != 200:
            _log.warning("key stream call to %s answered %s: %s", kme_id, response.status_code, response.text[:200])
            raise _Outcome(4, f"the other end's KME refused the stream call ({response.status_code})")
        answer: dict[str, Any] = response.json()
        return answer

    async def peer_request(self, sender: str, path: str, ksid: str, body: dict[str, Any]) -> dict[str, Any]:
        """Serve a KME-to-KME stream call from ``sender`` (the KME of the stream's other end)."""
        try:
            if path == "connect":
                if self.config.directory.get(body["destination"]) != sender:
                    raise EtsiError(401, f"{body['destination']!r} is not attached to {sender}")
                return {"status": 0, "message": STATUS[0], "qos": self.connect_from_peer(body)}
            source_end = self.book.end(ksid, "source")
            peer_end = self.book.end(ksid, "destination")
            ends = [end for end in (source_end, peer_end) if end is not None]
            if ends and all(self.config.directory.get(end.peer) != sender for end in ends):
                raise EtsiError(401, f"key stream {ksid} has no end at {sender}")
            if path == "key":
                return {"status": 0, "message": STATUS[0], "key_ID": await self.key_for(ksid, int(body["index"]))}
            if not ends:
                return {"status": 0, "message": STATUS[0]}
            # Batches named by the sender are voided only when it is the source's KME, the keys' master KME.
            from_master = peer_end is not None and self.config.directory.get(peer_end.source) == sender
            own = self.close_here(ksid, list(body.get("batch_IDs") or []) if from_master else [])
            return {"status": 0, "message": STATUS[0], "batch_IDs": own}
        except _Outcome as outcome:
            return {"status": outcome.status, "message": str(outcome)}
