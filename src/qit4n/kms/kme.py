"""The key management entity: issues keys to master SAEs, relays them, delivers them to slaves.

:class:`KME` holds one KME's store, link supplies and the HTTPS client it uses to reach other
KMEs; the routers call it. Keys for a slave behind another KME are transported before the master
gets them: the master's answer comes only after every slave's KME has committed the key, so a key
acknowledged to a master is always deliverable. If any transport fails, the master gets 503 and
the KMEs that already stored the key are told to void it (no half-delivered key).
"""

from __future__ import annotations

import asyncio
import base64
import os
import ssl
import time

from qit4n.kms.config import KMEConfig
from qit4n.kms.emulated_supply import DistilledLinkFiller, DistilledLinkSupply
from qit4n.kms.errors import EXTENSION_MANDATORY_UNSUPPORTED, SIZE_NOT_MULTIPLE_OF_8, EtsiError
from qit4n.kms.relay import RelayBatcher, RelayMessage, xor_bytes
from qit4n.kms.schemas import KeyRequest, Status
from qit4n.kms.store import KeyBatch, KeyStore, PoolExhaustedError, UnitMismatchError, batch_key_ids, new_batch_id
from qit4n.kms.supply import LinkFiller, SeededLinkSupply

__all__ = ["KME", "IssuedKey"]

IssuedKey = tuple[str, bytes]


def client_ssl_context(config: KMEConfig) -> ssl.SSLContext:
    """TLS client context of a KME towards other KMEs: its own certificate, the network's CA."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(config.ca))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(config.cert), str(config.key))
    return context


class KME:
    """One KME (see the module docstring): construct, then ``await start()``; ``await close()`` at the end."""

    def __init__(self, config: KMEConfig) -> None:
        self.config = config
        self.unit_bytes = config.key_size_bits // 8
        self.store = KeyStore(config.database, synchronous=config.synchronous)
        self.supplies = {}
        self.fillers = []
        for link in config.links:
            if link.key_file is None:
                supply = SeededLinkSupply(link.secret_hex, unit_bytes=self.unit_bytes)
                filler = LinkFiller(
                    link.link_id, supply, key_rate_bps=link.key_rate_bps, capacity_bits=link.pool_capacity_bits
                )
            else:
                supply = DistilledLinkSupply(link.key_file, link.committed_file, unit_bytes=self.unit_bytes)
                filler = DistilledLinkFiller(link.link_id, supply, capacity_bits=link.pool_capacity_bits)
            self.supplies[link.link_id] = supply
            self.fillers.append(filler)
        for link in config.links:
            self.store.register_link(link.link_id, link.parity)
        self._client = None
        self._batchers: dict[str, RelayBatcher] = {}

    async def start(self) -> None:
        """Open the HTTPS client used towards other KMEs."""
        import httpx

        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self._client = httpx.AsyncClient(
            verify=client_ssl_context(self.config), timeout=self.config.peer_timeout_s, limits=limits
        )

    async def close_peers(self) -> None:
        """Close the connections to other KMEs (no relay is possible afterwards)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def close(self) -> None:
        """Close the client and the database."""
        await self.close_peers()
        self.store.close()

    async def run_supply(self) -> None:
        """Fill the link pools at their key rates until cancelled (side effect: writes the store)."""
        loop = asyncio.get_running_loop()
        last = last_expiry = loop.time()
        while True:
            await asyncio.sleep(self.config.supply_interval_s)
            now = loop.time()
            for filler in self.fillers:
                filler.tick(self.store, now - last)
            self.store.flush_counters()
            if now - last_expiry >= 1.0:
                self.store.expire(time.time() - self.config.key_lifetime_s)
                last_expiry = now
            last = now

    # -- ETSI GS QKD 014 ----------------------------------------------------------------------
    def _target_kme(self, sae_id: str, role: str) -> str:
        kme_id = self.config.directory.get(sae_id)
        if kme_id is None:
            raise EtsiError(
                400, f"{role} {sae_id!r} is not an SAE of this network", [{"parameter": role, "value": sae_id}]
            )
        if kme_id != self.config.kme_id and kme_id not in self.config.routes:
            raise EtsiError(503, f"no key route from {self.config.kme_id} to {kme_id}", [{"target_KME_ID": kme_id}])
        return kme_id

    def _units_per_key(self, size_bits: int) -> int:
        return -(-size_bits // self.config.key_size_bits)

    async def status(self, master: str, slave: str) -> Status:
        """Status data for a master SAE and one of its slaves (clause 5.1).

        ``stored_key_count`` is the number of ``key_size`` keys the route can carry now: the
        smallest allocatable pool along it (each trusted node reports its own outgoing pool).
        """
        if master == slave:
            raise EtsiError(400, "slave_SAE_ID must differ from the calling master SAE", [{"slave_SAE_ID": slave}])
        target = self._target_kme(slave, "slave_SAE_ID")
        cfg = self.config
        if target == cfg.kme_id:
            stored = max_count = cfg.max_key_per_request
        else:
            route = cfg.routes[target]
            link = cfg.link_to(route[0])
            stored = self.store.unit_count(link.link_id, owned_only=True)
            max_count = int(link.pool_capacity_bits // (2 * cfg.key_size_bits))
            hops = list(zip(route[:-1], route[1:]))
            levels = await asyncio.gather(*(self._owned_units(hop, nxt) for hop, nxt in hops), return_exceptions=True)
            for level in levels:
                stored = min(stored, 0 if isinstance(level, BaseException) else level)
        return Status(
            source_KME_ID=cfg.kme_id,
            target_KME_ID=target,
            master_SAE_ID=master,
            slave_SAE_ID=slave,
            key_size=cfg.key_size_bits,
            stored_key_count=stored,
            max_key_count=max_count,
            max_key_per_request=cfg.max_key_per_request,
            max_key_size=cfg.max_key_size_bits,
            min_key_size=cfg.min_key_size_bits,
            max_SAE_ID_count=cfg.max_sae_id_count,
        )

    async def _owned_units(self, kme_id: str, next_kme_id: str) -> int:
        url = self.config.peers[kme_id]
        response = await self._client.get(url + "/kme/v1/health")
        links = response.json()["links"] if response.status_code == 200 else {}
        owned = [link["owned_bits"] for link in links.values() if link["peer"] == next_kme_id]
        return max(owned, default=0) // self.config.key_size_bits

    def _check_request(self, master: str, slave: str, request: KeyRequest) -> tuple[int, int, list[str]]:
        cfg = self.config
        if request.extension_mandatory:
            unsupported = [{"extension_mandatory_unsupported": request.extension_mandatory}]
            raise EtsiError(400, EXTENSION_MANDATORY_UNSUPPORTED, unsupported)
        number = 1 if request.number is None else request.number
        size = cfg.key_size_bits if request.size is None else request.size
        if number > cfg.max_key_per_request:
            raise EtsiError(400, f"number = {number}: must be <= max_key_per_request = {cfg.max_key_per_request}")
        if size % 8:
            raise EtsiError(400, SIZE_NOT_MULTIPLE_OF_8, [{"size": size}])
        if not cfg.min_key_size_bits <= size <= cfg.max_key_size_bits:
            raise EtsiError(
                400,
                f"size = {size}: must lie in [min_key_size, max_key_size] = [{cfg.min_key_size_bits}, {cfg.max_key_size_bits}]",
            )
        extra = list(request.additional_slave_SAE_IDs or [])
        if len(extra) > cfg.max_sae_id_count:
            raise EtsiError(
                400,
                f"additional_slave_SAE_IDs: {len(extra)} given, must be <= max_SAE_ID_count = {cfg.max_sae_id_count}",
            )
        slaves = [slave, *extra]
        if len(set(slaves)) != len(slaves) or master in slaves:
            raise EtsiError(
                400,
                "additional_slave_SAE_IDs must be distinct and differ from the master and slave_SAE_ID",
                [{"additional_slave_SAE_IDs": extra}],
            )
        return number, size, slaves

    async def issue(self, master: str, slave: str, request: KeyRequest) -> list[IssuedKey]:
        """Get key (clause 5.2): new keys for ``master``, transported to every slave's KME first."""
        number, size, slaves = self._check_request(master, slave, request)
        by_kme: dict[str, list[str]] = {}
        for sae_id in slaves:
            by_kme.setdefault(self._target_kme(sae_id, "slave_SAE_ID"), []).append(sae_id)
        batch_id = new_batch_id()
        size_bytes = size // 8
        primary = self.config.directory[slave]
        plans: list[tuple[str, int, bytes | None]] = []
        if primary == self.config.kme_id:
            keys = os.urandom(number * size_bytes)
        else:
            start, pad = self._allocate_first_hop(primary, number, size)
            keys = self._keys_from_pad(pad, number, size)
            plans.append((primary, start, None))
        for kme_id in by_kme:
            if kme_id not in (primary, self.config.kme_id):
                start, pad = self._allocate_first_hop(kme_id, number, size)
                plans.append((kme_id, start, xor_bytes(keys, self._keys_from_pad(pad, number, size))))
        if self.config.kme_id in by_kme:
            batch = KeyBatch(batch_id, master, by_kme[self.config.kme_id], size_bytes, number)
            self.store.receive(None, 0, 0, None, lambda _pad: keys, batch)
        results = await asyncio.gather(
            *(
                self._send(kme_id, start, cipher, batch_id, number, size, master, by_kme[kme_id])
                for kme_id, start, cipher in plans
            ),
            return_exceptions=True,
        )
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            await self._void_everywhere(list(by_kme), batch_id)
            raise EtsiError(
                503, "key relay to a slave SAE's KME failed; no key was issued", [{"reason": str(failures[0])}]
            )
        self.store.count_issued(number)
        key_ids = batch_key_ids(batch_id, number)
        return [(key_ids[i], keys[i * size_bytes : (i + 1) * size_bytes]) for i in range(number)]

    def _keys_from_pad(self, pad: bytes, number: int, size: int) -> bytes:
        """The keys (concatenated) that a pad of ``units_per_key`` units per key yields."""
        stride = self._units_per_key(size) * self.unit_bytes
        size_bytes = size // 8
        if stride == size_bytes:
            return pad
        return b"".join(pad[i * stride : i * stride + size_bytes] for i in range(number))

    def _allocate_first_hop(self, target: str, number: int, size: int) -> tuple[int, bytes]:
        link = self.config.link_to(self.config.routes[target][0])
        try:
            return self.store.allocate(link.link_id, self.supplies[link.link_id], number * self._units_per_key(size))
        except PoolExhaustedError as error:
            raise EtsiError(
                503, "not enough key stored on KME for this request", [{"link": link.link_id, "reason": str(error)}]
            ) from None

    async def _send(
        self,
        target: str,
        start: int,
        cipher: bytes | None,
        batch_id: str,
        number: int,
        size: int,
        master: str,
        slaves: list[str],
    ) -> None:
        route = self.config.routes[target]
        message = {
            "batch_ID": batch_id,
            "count": number,
            "size": size,
            "master_SAE_ID": master,
            "slave_SAE_IDs": slaves,
            "route": route,
            "link_id": self.config.link_to(route[0]).link_id,
            "unit_start": start,
            "ciphertext": None if cipher is None else base64.b64encode(cipher).decode("ascii"),
        }
        await self._relay_to(route[0], message)

    async def _post(self, kme_id: str, path: str, body: dict) -> dict:
        url = self.config.peers.get(kme_id)
        if url is None or self._client is None:
            raise EtsiError(503, f"KME {kme_id!r} cannot be reached from {self.config.kme_id}")
        response = await self._client.post(url + path, json=body)
        if response.status_code != 200:
            raise EtsiError(
                503, f"KME {kme_id} answered {response.status_code}", [{"kme": kme_id, "body": response.text[:200]}]
            )
        return response.json()

    async def _relay_to(self, kme_id: str, message: dict) -> None:
        batcher = self._batchers.get(kme_id)
        if batcher is None:
            batcher = self._batchers[kme_id] = RelayBatcher(lambda body: self._post(kme_id, "/kme/v1/relay", body))
        await batcher.submit(message)

    async def _void_everywhere(self, kme_ids: list[str], batch_id: str) -> None:
        self.store.void([batch_id])
        remote = [kme_id for kme_id in kme_ids if kme_id != self.config.kme_id]
        await asyncio.gather(
            *(self._post(kme_id, "/kme/v1/void", {"batch_IDs": [batch_id]}) for kme_id in remote),
            return_exceptions=True,
        )

    def deliver(self, slave: str, master: str, key_ids: list[str]) -> list[IssuedKey]:
        """Get key with key IDs (clause 5.3): all or none, each key to each named slave once."""
        from qit4n.kms.errors import KEYS_NOT_FOUND
        from qit4n.kms.store import KeyLookupError

        if len(set(key_ids)) != len(key_ids):
            raise EtsiError(400, "key_IDs must not repeat a key_ID", [{"key_IDs": key_ids}])
        try:
            found = self.store.take(slave, master, key_ids)
        except KeyLookupError as error:
            if error.unauthorised:
                raise EtsiError(401, "keys were not issued for this SAE pair", [{"key_IDs": error.key_ids}]) from None
            raise EtsiError(400, KEYS_NOT_FOUND, [{"key_IDs_not_found": error.key_ids}]) from None
        return [(item.key_id, item.material) for item in found]

    # -- KME-to-KME ---------------------------------------------------------------------------
    async def relay_batch(self, sender: str, messages: list[RelayMessage]) -> list[BaseException | None]:
        """Receive relay messages from ``sender``; one outcome (None or the error) per message.

        The store work of all messages commits together (group commit, before anything is
        answered or forwarded); then the messages that go on are forwarded concurrently.
        """
        outcomes: list[BaseException | None] = []
        forwards: list[tuple[int, str, dict]] = []
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

    async def relay(self, sender: str, message: RelayMessage) -> None:
        """Receive one relay message from ``sender``: store the keys here, or pass them on."""
        onward = self._relay_step(sender, message)
        if onward is not None:
            await self._relay_to(*onward)

    def _relay_step(self, sender: str, message: RelayMessage) -> tuple[str, dict] | None:
        """Store work of one relay hop; returns (next KME, message) when the keys go on."""
        cfg = self.config
        link = next((link for link in cfg.links if link.link_id == message.link_id), None)
        if link is None or link.peer_kme_id != sender or message.route[0] != cfg.kme_id:
            raise EtsiError(
                401, "relay message does not match a QKD link with the sending KME", [{"link_id": message.link_id}]
            )
        size_bytes = message.size // 8
        units = message.count * self._units_per_key(message.size)
        cipher = None if message.ciphertext is None else base64.b64decode(message.ciphertext)
        if cipher is not None and len(cipher) != message.count * size_bytes:
            raise EtsiError(400, "ciphertext length does not match count and size")

        def decode(pad: bytes) -> bytes:
            keys = self._keys_from_pad(pad, message.count, message.size)
            return keys if cipher is None else xor_bytes(cipher, keys)

        supply = self.supplies[link.link_id]
        try:
            if len(message.route) == 1:
                for sae_id in message.slave_SAE_IDs:
                    if cfg.directory.get(sae_id) != cfg.kme_id:
                        raise EtsiError(400, f"slave {sae_id!r} is not attached to {cfg.kme_id}")
                batch = KeyBatch(
                    message.batch_ID, message.master_SAE_ID, message.slave_SAE_IDs, size_bytes, message.count
                )
                self.store.receive(link.link_id, message.unit_start, units, supply, decode, batch)
                return None
            out_link = cfg.link_to(message.route[1])
            if out_link is None:
                raise EtsiError(400, f"{cfg.kme_id} has no QKD link to {message.route[1]}")
            pad_in, out_start, pad_out = self.store.forward(
                link.link_id,
                message.unit_start,
                units,
                supply,
                out_link.link_id,
                self.supplies[out_link.link_id],
                units,
            )
        except (UnitMismatchError, PoolExhaustedError) as error:
            raise EtsiError(503, "relay hop cannot pad the key", [{"kme": cfg.kme_id, "reason": str(error)}]) from None
        keys = decode(pad_in)
        cipher_out = xor_bytes(keys, self._keys_from_pad(pad_out, message.count, message.size))
        forward = message.model_dump(mode="json")
        forward.update(
            route=message.route[1:],
            link_id=out_link.link_id,
            unit_start=out_start,
            ciphertext=base64.b64encode(cipher_out).decode("ascii"),
        )
        return message.route[1], forward

    def _distilled_bits(self, link_id: str) -> int | None:
        """Key distilled for a link so far (emulated supply), None for a modelled link."""
        supply = self.supplies[link_id]
        return supply.available_units() * self.config.key_size_bits if isinstance(supply, DistilledLinkSupply) else None

    def health(self) -> dict:
        """Pool levels and key counters of this KME (KME-to-KME and operator API)."""
        return {
            "kme_id": self.config.kme_id,
            "sae_ids": self.config.sae_ids,
            "links": {
                link.link_id: {
                    "peer": link.peer_kme_id,
                    "pool_bits": self.store.unit_count(link.link_id) * self.config.key_size_bits,
                    "owned_bits": self.store.unit_count(link.link_id, owned_only=True) * self.config.key_size_bits,
                    "capacity_bits": link.pool_capacity_bits,
                    "spent_bits": self.store.spent_units(link.link_id) * self.config.key_size_bits,
                    "distilled_bits": self._distilled_bits(link.link_id),
                }
                for link in self.config.links
            },
            "waiting_keys": self.store.waiting_keys(),
            **self.store.counters(),
        }
