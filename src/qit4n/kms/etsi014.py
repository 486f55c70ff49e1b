"""ETSI GS QKD 014 semantics of a KME: Get status, Get key, Get key with key IDs.

:class:`Etsi014` checks requests against the KME's limits, resolves SAEs to KMEs and maps store
and relay outcomes onto the ETSI status codes; the key transport is the relay engine's
(:class:`~qit4n.kms.relay.RelayEngine`) and the key state the store's. A key acknowledged to a
master is always deliverable: the engine commits it at every slave's KME first.

References
----------
ETSI GS QKD 014 V1.1.1 (2019-02), clauses 5.1-5.3 and 6.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from qit4n.kms.audit import AuditLog
from qit4n.kms.config import KMEConfig
from qit4n.kms.errors import EXTENSION_MANDATORY_UNSUPPORTED, KEYS_NOT_FOUND, SIZE_NOT_MULTIPLE_OF_8, EtsiError
from qit4n.kms.gateway import InterdomainAgent
from qit4n.kms.quotas import QuotaBook
from qit4n.kms.relay import RelayEngine
from qit4n.kms.relayauth import HopLayout
from qit4n.kms.schemas import KeyRequest, Status
from qit4n.kms.shape import KeyShape
from qit4n.kms.storage import KeyLookupError, KeyStorage
from qit4n.kms.store import batch_key_ids

__all__ = ["Etsi014", "IssuedKey"]

_log = logging.getLogger("qit4n.kms")

#: (key_ID, key bytes) as the key container lists them.
IssuedKey = tuple[str, bytes]


def _without_topology(error: EtsiError, slaves: list[str]) -> EtsiError:
    """The 503 an SAE sees for a failed key transport: no KME, link or hop named, only an incident
    ID that the KME's log pairs with the full reason (for the operator)."""
    incident = str(uuid.uuid4())
    _log.warning("incident %s: %s", incident, error)
    return EtsiError(
        503,
        f"keys for {', '.join(slaves)} cannot be issued now; retry later (incident {incident})",
        [{"incident": incident}],
    )


class Etsi014:
    """The ETSI GS QKD 014 service of one KME (see the module docstring)."""

    def __init__(
        self,
        config: KMEConfig,
        store: KeyStorage,
        relay: RelayEngine,
        quotas: QuotaBook,
        audit: AuditLog,
        *,
        interdomain: InterdomainAgent | None = None,
    ) -> None:
        self.interdomain = interdomain
        self.config = config
        self.store = store
        self.relay = relay
        self.quotas = quotas
        self.audit = audit

    def _target_kme(self, sae_id: str, role: str) -> str:
        kme_id = self.config.directory.get(sae_id)
        if kme_id is None:
            raise EtsiError(
                400, f"{role} {sae_id!r} is not an SAE of this network", [{"parameter": role, "value": sae_id}]
            )
        if kme_id != self.config.kme_id and kme_id not in self.config.routes:
            raise EtsiError(503, f"no key route to {role} {sae_id!r}", [{role: sae_id}])
        return kme_id

    async def get_status(self, master: str, slave: str) -> Status:
        """Status data for a master SAE and one of its slaves (clause 5.1).

        ``stored_key_count`` is the number of ``key_size`` keys the route can carry now in one
        request: the smallest allocatable pool along it (each trusted node reports its own
        outgoing pool) less the units a request spends on authentication.
        """
        if master == slave:
            raise EtsiError(400, "slave_SAE_ID must differ from the calling master SAE", [{"slave_SAE_ID": slave}])
        target = self._target_kme(slave, "slave_SAE_ID")
        cfg = self.config
        if target == cfg.kme_id:
            stored = max_count = cfg.max_key_per_request
        else:
            link = self.relay.first_link(target)
            stored = await self.relay.route_owned_units(target)
            max_count = int(link.pool_capacity_bits // (2 * cfg.key_size_bits))
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

    def _check_request(self, master: str, slave: str, request: KeyRequest) -> tuple[KeyShape, list[str]]:
        cfg = self.config
        if request.extension_mandatory:
            unsupported = [{"extension_mandatory_unsupported": request.extension_mandatory}]
            raise EtsiError(400, EXTENSION_MANDATORY_UNSUPPORTED, unsupported)
        number = 1 if request.number is None else request.number
        size = cfg.key_size_bits if request.size is None else request.size
        if number > cfg.max_key_per_request:
            raise EtsiError(400, f"number = {number}: must be <= max_key_per_request = {cfg.max_key_per_request}")
        self.quotas.check_size(master, number, "number")
        if size % 8:
            raise EtsiError(400, SIZE_NOT_MULTIPLE_OF_8, [{"size": size}])
        if not cfg.min_key_size_bits <= size <= cfg.max_key_size_bits:
            raise EtsiError(
                400,
                f"size = {size}: must lie in [min_key_size, max_key_size] = "
                f"[{cfg.min_key_size_bits}, {cfg.max_key_size_bits}]",
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
        return KeyShape(number=number, size_bits=size), slaves

    async def get_key(self, master: str, slave: str, request: KeyRequest) -> list[IssuedKey]:
        """Get key (clause 5.2): new keys for ``master``, committed at every slave's KME first."""
        shape, slaves = self._check_request(master, slave, request)
        slaves_by_kme: dict[str, list[str]] = {}
        for sae_id in slaves:
            slaves_by_kme.setdefault(self._target_kme(sae_id, "slave_SAE_ID"), []).append(sae_id)
        remote = self.interdomain is not None and any(self.interdomain.is_remote(sae_id) for sae_id in slaves)
        if remote:
            await self._admit_remote(master, slaves, shape)
        unit_bits = self.config.key_size_bits
        for target in slaves_by_kme:
            if target != self.config.kme_id:
                link = self.relay.first_link(target)
                self.quotas.draw_pool(
                    master,
                    link_id=link.link_id,
                    bits=HopLayout(shape, unit_bits).total_units * unit_bits,
                    capacity_bits=link.pool_capacity_bits,
                    rate_bps=link.key_rate_bps,
                )
        try:
            batch_id, keys = await self.relay.distribute(
                master=master, slaves_by_kme=slaves_by_kme, primary=self.config.directory[slave], shape=shape
            )
        except EtsiError as error:
            if error.status_code != 503:
                raise
            raise _without_topology(error, slaves) from None
        if remote and self.interdomain is not None:
            try:
                await self.interdomain.forward(master, slave, shape, batch_id)
            except EtsiError as error:
                self.audit.record("enc_keys_refused", master=master, slaves=slaves, status=error.status_code)
                raise
        self.store.count_issued(number=shape.number)
        key_ids = batch_key_ids(batch_id, shape.number)
        self.audit.record("enc_keys", master=master, slaves=slaves, first_key_ID=key_ids[0], count=shape.number)
        return list(zip(key_ids, shape.split(keys)))

    async def _admit_remote(self, master: str, slaves: list[str], shape: KeyShape) -> None:
        """Keys for an SAE of the peer domain: one slave only, admitted by both gateways (policy, budget, link)."""
        assert self.interdomain is not None
        if len(slaves) > 1:
            raise EtsiError(
                400,
                f"keys shared with an SAE of the {self.interdomain.config.peer_domain} domain go to that one slave "
                "only: give no additional_slave_SAE_IDs",
                [{"additional_slave_SAE_IDs": slaves[1:]}],
            )
        try:
            await self.interdomain.admit(master, slaves[0], shape)
        except EtsiError as error:
            self.audit.record("enc_keys_refused", master=master, slaves=slaves, status=error.status_code)
            raise

    async def get_key_with_ids(self, slave: str, master: str, key_ids: list[str]) -> list[IssuedKey]:
        """Get key with key IDs (clause 5.3): all or none, each key to each named slave once.

        The store work runs in a worker thread, so a large request does not stall other SAEs.
        """
        limit = self.config.max_key_per_request
        if len(key_ids) > limit:
            raise EtsiError(400, f"key_IDs: {len(key_ids)} given, must be <= max_key_per_request = {limit}")
        self.quotas.check_size(slave, len(key_ids), "key_IDs")
        if len(set(key_ids)) != len(key_ids):
            raise EtsiError(400, "key_IDs must not repeat a key_ID", [{"key_IDs": key_ids}])
        try:
            found = await asyncio.to_thread(self.store.take, slave=slave, master=master, key_ids=key_ids)
        except KeyLookupError as error:
            self.audit.record("dec_keys_refused", slave=slave, master=master, key_IDs=key_ids)
            if error.unauthorised:
                raise EtsiError(401, "keys were not issued for this SAE pair", [{"key_IDs": error.key_ids}]) from None
            raise EtsiError(400, KEYS_NOT_FOUND, [{"key_IDs_not_found": error.key_ids}]) from None
        self.audit.record("dec_keys", slave=slave, master=master, key_IDs=key_ids)
        return [(item.key_id, item.material) for item in found]
