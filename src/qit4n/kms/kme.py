"""The key management entity: one KME's store, link supplies and relay engine, composed.

:class:`KME` owns the parts every interface shares: the durable store
(:class:`~qit4n.kms.storage.KeyStorage`), one key supply and pool filler per QKD link (from
:data:`~qit4n.kms.supply.KEY_SUPPLIES`) and the relay engine towards other KMEs
(:class:`~qit4n.kms.relay.RelayEngine`, counting relayed keys into the KME's Prometheus metrics,
:class:`~qit4n.kms.metrics.KMEMetrics`) and the key streams of ETSI GS QKD 004
(:class:`~qit4n.kms.etsi004.Etsi004`, whose state is the KME's), and the key supply notifications
to the peer KMEs (:class:`~qit4n.kms.kxsupply.SupplyNotifier`: a link unit is used only once both
ends hold it, whichever supply fills the pools). The interfaces the application mounts
(:data:`~qit4n.kms.interfaces.KME_INTERFACES`: ETSI GS QKD 014, the KME-to-KME API, and any
added later) reach these parts through the KME; none of them lives here.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from qit4n.kms.atrest import KeySealer, private_dir
from qit4n.kms.audit import AuditLog
from qit4n.kms.config import KMEConfig
from qit4n.kms.etsi004 import Etsi004
from qit4n.kms.gateway import InterdomainAgent
from qit4n.kms.kek import open_sealer
from qit4n.kms.kxsupply import SupplyNotifier
from qit4n.kms.metrics import CountingRelayEngine, KMEMetrics
from qit4n.kms.quotas import QuotaBook
from qit4n.kms.relayauth import reserved_units
from qit4n.kms.storage import KeyStorage
from qit4n.kms.store import KeyStore
from qit4n.kms.supply import KEY_SUPPLIES, KeySupply, PoolFiller

__all__ = ["KME"]

_EXPIRY_INTERVAL_S = 1.0


class KME:
    """One KME (see the module docstring): construct, then ``await start()``; ``await close()`` at the end.

    ``sealer`` seals the stored keys; default: :func:`~qit4n.kms.kek.open_sealer` of ``config``.
    """

    def __init__(self, config: KMEConfig, *, sealer: KeySealer | None = None) -> None:
        self.config = config
        self.quotas = QuotaBook(config.quotas, config.default_quota)
        sealer = sealer or open_sealer(config)  # from the kek_file or the PKCS#11 token (qit4n.kms.kek)
        self.store: KeyStorage = KeyStore(config.database, synchronous=config.synchronous, sealer=sealer)
        self.supplies: dict[str, KeySupply] = {}
        self.fillers: list[PoolFiller] = []
        unit_bytes = config.key_size_bits // 8
        for link in config.links:
            supply, filler = KEY_SUPPLIES.get(link.supply).open_link(link, unit_bytes=unit_bytes)
            self.supplies[link.link_id] = supply
            self.fillers.append(filler)
        reserved = reserved_units(config.key_size_bits)
        for link in config.links:
            self.store.register_link(link_id=link.link_id, parity=link.parity, reserved_units=reserved, agreement=True)
        self.randomness = None
        if config.randomness is not None:
            from qit4n.qrng.source import open_source

            self.randomness = open_source(config.randomness, option="randomness")
        self.metrics = KMEMetrics(config.kme_id)
        self.relay = CountingRelayEngine(config, self.store, self.supplies, self.randomness).count_into(self.metrics)
        audit_file = config.audit_file or config.database.with_name(config.database.name + ".audit.jsonl")
        if not audit_file.parent.exists():
            private_dir(audit_file.parent)
        self.audit = AuditLog(audit_file, config.kme_id)
        self.supply_notifier = SupplyNotifier(config, self.store, self.audit, self._post_peer)
        self.metrics.watch(self)
        self.etsi004 = Etsi004(config, self.store, self.relay, self.quotas, self.audit)
        #: Link ID -> its physical condition, as the control interface last set it (none: never touched).
        self.link_conditions: dict[str, Any] = {}
        self.interdomain = None if config.interdomain is None else InterdomainAgent(self, config.interdomain)

    async def _post_peer(self, kme_id: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to a peer KME: the peer domain's gateway over the inter-domain interface, any other directly."""
        gateway = None if self.interdomain is None else self.interdomain.gateway
        if gateway is not None and kme_id == gateway.settings.peer_kme_id:
            return await gateway.post_peer(path, body)
        return await self.relay.post(kme_id, path, body)

    async def start(self) -> None:
        """Open the connections to other KMEs; load the authentication kernel (numba) before the first relay."""
        from qit4n.postprocess.authentication import MessageAuthenticator

        MessageAuthenticator(bytes(16)).digest(b"")
        await self.relay.start()
        if self.interdomain is not None:
            await self.interdomain.start()

    async def close_peers(self) -> None:
        """Close the connections to other KMEs (no relay is possible afterwards)."""
        await self.relay.close()
        if self.interdomain is not None:
            await self.interdomain.close()

    async def close(self) -> None:
        """Close the connections and the store."""
        await self.close_peers()
        await self.etsi004.close()
        self.store.close()

    async def run_supply(self) -> None:
        """Fill the link pools at their key rates and notify the peers of the new units until cancelled
        (side effect: writes the store)."""
        await asyncio.gather(self._fill_pools(), self.supply_notifier.run())

    async def _fill_pools(self) -> None:
        loop = asyncio.get_running_loop()
        last = last_expiry = loop.time()
        while True:
            await asyncio.sleep(self.config.supply_interval_s)
            now = loop.time()
            for filler in self.fillers:
                filler.tick(self.store, now - last)
            self.store.flush_counters()
            if now - last_expiry >= _EXPIRY_INTERVAL_S:
                expired = self.store.expire(older_than_s=time.time() - self.config.key_lifetime_s)
                if expired:
                    self.audit.record("expired", batches=expired)
                self.store.scrub()
                last_expiry = now
            last = now

    def health(self) -> dict[str, Any]:
        """Pool levels and key counters of this KME (KME-to-KME and operator API)."""
        unit_bits = self.config.key_size_bits
        reserved = reserved_units(unit_bits)
        links = {}
        for link in self.config.links:
            distilled_units = self.supplies[link.link_id].distilled_units()
            _held, announced, peer_held = self.store.supply_agreement(link_id=link.link_id)
            links[link.link_id] = {
                "peer": link.peer_kme_id,
                "pool_bits": self.store.unit_count(link_id=link.link_id) * unit_bits,
                "owned_bits": self.store.unit_count(link_id=link.link_id, owned_only=True) * unit_bits,
                "capacity_bits": link.pool_capacity_bits,
                "spent_bits": self.store.spent_units(link_id=link.link_id) * unit_bits,
                "distilled_bits": None if distilled_units is None else distilled_units * unit_bits,
                "auth_bits": (reserved + self.relay.auth_units[link.link_id]) * unit_bits,
                "announced_bits": announced * unit_bits,
                "peer_supplied_bits": None if peer_held is None else peer_held * unit_bits,
            }
        return {
            "kme_id": self.config.kme_id,
            "sae_ids": self.config.sae_ids,
            "links": links,
            "waiting_keys": self.store.waiting_keys(),
            "audit_entries": self.audit.seq,
            "audit_head": self.audit.head,
            "refused": {kind: self.relay.refused[kind] for kind in ("relay", "confirm", "void")}
            | {"supply": self.supply_notifier.counts["refused_here"]},
            "supply_notifications": dict(self.supply_notifier.counts),
            **self.store.counters(),
        } | ({} if self.randomness is None else {"randomness": self.randomness.health().as_dict()})
