"""Key supply notification between the two KMEs of a QKD link (ITU-T Q.4163 clauses 7.2, 8.3 and 8.4).

Each end's QKD module (modelled or emulated, :mod:`qit4n.kms.supply`) releases the link's key units
into that end's store on its own clock. Every :data:`NOTIFY_INTERVAL_S` a KME sends each peer KME, in
one request, a key supply notification per shared link whose store holds units the peer has not
accepted yet (:meth:`SupplyNotifier.pending`: at once while the link has announced little, else
once an eighth of the pool capacity is new, or :data:`MAX_DELAY_S` has passed while the link holds
less than that eighth allocatable, or :data:`COMFORTABLE_DELAY_S` has passed, so fast links with
large pools do not spend a request every round nor every second): ``key_ID_start`` (the first unit
not yet accepted by the peer) and ``key_count``. The peer
records them only if they start exactly where the last accepted notification ended, and answers with
the response: ``accepted`` or ``refused`` with the reason, ``next_key_ID`` (its record of this end's
supply, from which this end resumes: a lost or duplicated notification heals on the next round) and
``held_key_count`` (its own supply).

A store registered with supply agreement allocates a unit only once both ends hold it (below
``min(own supply, peer's notified supply)``) and refuses a relay message naming units it does not
hold, so a unit is never used before both ends agree it exists. Notifications carry no key and are
authenticated by the KMEs' mutual TLS; the receiver refuses (401) one not from the TLS peer, not
addressed to itself, or for a link it does not share with the sender.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from qit4n.kms.audit import AuditLog
from qit4n.kms.config import KMEConfig
from qit4n.kms.errors import EtsiError
from qit4n.kms.kx import KeySupplyNotification, KeySupplyNotificationResponse, check_parties
from qit4n.kms.storage import KeyStorage, UnitMismatchError

__all__ = ["COMFORTABLE_DELAY_S", "MAX_DELAY_S", "NOTIFY_INTERVAL_S", "SupplyNotifier"]

#: Seconds between two rounds of key supply notifications.
NOTIFY_INTERVAL_S = 0.1
#: Longest time new units of a link wait before they are notified while its allocatable pool is low.
MAX_DELAY_S = 1.0
#: Longest time new units wait while the link holds plenty to allocate (a 200-node network's
#: notifications took the two cores of the machine that ran it at one a second per link and end).
COMFORTABLE_DELAY_S = 8.0

#: Posts a JSON body to a path of a peer KME and returns its JSON answer.
PostPeer = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


class SupplyNotifier:
    """Both sides of key supply notification for one KME (module docstring).

    ``counts``: notifications ``sent``, ``accepted`` and ``refused`` by peers, requests ``failed``,
    and notifications ``answered`` and ``refused_here`` from peers, since start.
    """

    def __init__(self, config: KMEConfig, store: KeyStorage, audit: AuditLog, post: PostPeer) -> None:
        self.config = config
        self.store = store
        self.audit = audit
        self._post = post
        self.counts: collections.Counter[str] = collections.Counter()
        self._last_s: dict[str, float] = {}  # link -> when it was last notified
        self._recheck_s: dict[str, float] = {}  # link -> when to look again at new units below ``enough``

    # -- sending ---------------------------------------------------------------------------------
    def pending(self) -> dict[str, list[dict[str, Any]]]:
        """Peer KME ID -> the notifications due to it now.

        A link's new units are due once they are at least ``enough = min(capacity / 8, announced / 8)``
        units (so at once while little has been announced), or :data:`MAX_DELAY_S` after the link's
        last notification while this end can allocate fewer than ``enough`` units, or
        :data:`COMFORTABLE_DELAY_S` after it. This end's allocatable units stand for the peer's: both
        are bounded by the same two supplies, and the peer's grows with this end's notifications.
        Between notifications a link's allocatable units are counted at most once a
        :data:`MAX_DELAY_S`, not every round.
        """
        due: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        now_s = time.monotonic()
        for link in self.config.links:
            supplied, announced, _peer = self.store.supply_agreement(link_id=link.link_id)
            new = supplied - announced
            capacity_units = int(link.pool_capacity_bits // self.config.key_size_bits)
            enough = max(1, min(capacity_units, announced) // 8)
            if new <= 0:
                continue
            if new < enough:
                if now_s < self._recheck_s.get(link.link_id, 0.0):
                    continue
                plenty = self.store.unit_count(link_id=link.link_id, owned_only=True) >= enough
                if plenty and now_s - self._last_s.get(link.link_id, 0.0) < COMFORTABLE_DELAY_S:
                    self._recheck_s[link.link_id] = now_s + MAX_DELAY_S  # the pool is looked at once a second
                    continue
            self._last_s[link.link_id] = now_s
            self._recheck_s[link.link_id] = now_s + MAX_DELAY_S
            due[link.peer_kme_id].append(
                {
                    "message_type": "key_supply_notification",
                    "source_KME_ID": self.config.kme_id,
                    "destination_KME_ID": link.peer_kme_id,
                    "link_ID": link.link_id,
                    "key_ID_start": announced,
                    "key_count": supplied - announced,
                }
            )
        return due

    async def notify_once(self) -> None:
        """One round: notify every peer with something new, concurrently, and apply their responses."""
        due = self.pending()
        await asyncio.gather(*(self._notify(peer, messages) for peer, messages in due.items()))

    async def run(self) -> None:
        """Notify every :data:`NOTIFY_INTERVAL_S` until cancelled.

        A cancellation lets the round in flight finish (its requests are bounded by the peer
        timeout), so that no connection to a peer is left half open when the KME closes its client.
        """
        while True:
            await asyncio.sleep(NOTIFY_INTERVAL_S)
            current = asyncio.ensure_future(self._round())
            try:
                await asyncio.shield(current)
            except asyncio.CancelledError:
                await current
                raise

    async def _round(self) -> None:
        try:
            await self.notify_once()
        except Exception as error:  # noqa: BLE001 - the pool filling beside this task must go on
            self.counts["failed"] += 1
            reason = f"{type(error).__name__}: {error}"[:300]
            self.audit.record("supply_mismatch", peer="", link_ID="", reason=reason)

    async def _notify(self, peer: str, messages: list[dict[str, Any]]) -> None:
        self.counts["sent"] += len(messages)
        try:
            answer = await self._post(peer, "/kme/v1/supply", {"messages": messages})
            results = list(answer["results"])
        except Exception:  # noqa: BLE001 - an unreachable peer is retried next round
            self.counts["failed"] += 1
            return
        for message, result in zip(messages, results):
            self._apply(peer, message, result)

    def _apply(self, peer: str, message: dict[str, Any], result: dict[str, Any]) -> None:
        """Record the peer's response to one notification: resume from its ``next_key_ID``."""
        link_id = message["link_ID"]
        try:
            response = KeySupplyNotificationResponse.model_validate(result.get("response"))
            check_parties(response, sender=peer, receiver=self.config.kme_id)
            if response.link_ID != link_id:
                raise EtsiError(401, f"response names link {response.link_ID}, the notification {link_id}")
            self.store.record_announced(link_id=link_id, units=response.next_key_ID)
        except (ValidationError, EtsiError, UnitMismatchError) as error:
            self.counts["failed"] += 1
            reason = error.message if isinstance(error, EtsiError) else str(error)
            self.audit.record("supply_mismatch", peer=peer, link_ID=link_id, reason=reason[:300])
            return
        self.counts[response.result] += 1
        if response.result == "refused":
            self.audit.record(
                "supply_resync", peer=peer, link_ID=link_id, next_key_ID=response.next_key_ID, reason=response.reason
            )

    # -- answering ---------------------------------------------------------------------------------
    def answer(self, sender: str, message: KeySupplyNotification) -> dict[str, Any]:
        """The response to a peer's notification (recorded in the store if it continues the last one).

        Raises :class:`~qit4n.kms.errors.EtsiError` 401 when the message is not from ``sender`` to
        this KME, or names a link this KME does not share with ``sender``.
        """
        kme_id = self.config.kme_id
        check_parties(message, sender=sender, receiver=kme_id)
        link = next((link for link in self.config.links if link.link_id == message.link_ID), None)
        if link is None or link.peer_kme_id != sender:
            raise EtsiError(401, f"key supply notification for {message.link_ID!r}: not a QKD link with {sender}")
        self.counts["answered"] += 1
        reason = None
        try:
            next_key_id = self.store.record_peer_supply(
                link_id=link.link_id, start=message.key_ID_start, count=message.key_count
            )
        except UnitMismatchError as error:
            self.counts["refused_here"] += 1
            reason = str(error)
            next_key_id = self.store.supply_agreement(link_id=link.link_id)[2] or 0
        held, _announced, _peer = self.store.supply_agreement(link_id=link.link_id)
        return {
            "message_type": "key_supply_notification_response",
            "source_KME_ID": kme_id,
            "destination_KME_ID": sender,
            "link_ID": link.link_id,
            "result": "accepted" if reason is None else "refused",
            "next_key_ID": next_key_id,
            "held_key_count": held,
            "reason": reason,
        }
