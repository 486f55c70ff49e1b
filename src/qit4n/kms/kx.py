"""The Kx interface between KMEs: the messages of ITU-T Q.4163 as JSON models.

Q.4163 (12/2023) clause 8 defines four messages: the key relay message (8.1), the key relay
completion notification (8.2), the key supply notification (8.3) and the response to it (8.4).
Only the Recommendation's table of contents could be read; the message names and the two
procedures (key relay, clause 7.1; key supply notification, clause 7.2) follow it, and every
parameter name here is qit4n's own, in the vocabulary of the Y.3800 series (docs/kms.md,
"Kx interface (ITU-T Q.4163)", maps each one). Two more messages are qit4n extensions: the master's
KME's end-to-end confirmation of a relayed batch and its void.

Every message names its ``source_KME_ID`` and ``destination_KME_ID``; a receiver refuses (401) one
whose source is not the KME of the mutual-TLS certificate or whose destination is not itself. The
transport is HTTPS with mutual TLS (:mod:`qit4n.kms.routers.peers`), messages to one peer travelling
in batches ``{"messages": [...]}`` answered by ``{"results": [...]}`` (one status per message), not
the TCP framing of Q.4163 Appendix I. Key relay messages carry Wegman-Carter tags under link key, the
completion notification, confirmation and void tags under the batch's end-to-end key
(:mod:`qit4n.kms.relayauth`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from qit4n.kms.errors import EtsiError
from qit4n.kms.shape import KeyShape
from qit4n.schema import StrictModel

__all__ = [
    "KEY_RELAY_ID_PATTERN",
    "KeyRelayCompletionNotification",
    "KeyRelayConfirmation",
    "KeyRelayMessage",
    "KeyRelayVoid",
    "KeySupplyNotification",
    "KeySupplyNotificationResponse",
    "check_parties",
]

#: A key relay ID: the UUID of the relayed batch, low 16 bits zero (the keys' key_IDs count up from it).
KEY_RELAY_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{8}0000$"

_TAG = Field(max_length=64, description="base64 of a 128-bit Wegman-Carter tag")


class _KxMessage(StrictModel):
    """Who sends a Kx message to whom."""

    source_KME_ID: str = Field(min_length=1, max_length=256)
    destination_KME_ID: str = Field(min_length=1, max_length=256)


def check_parties(message: _KxMessage, *, sender: str, receiver: str) -> None:
    """Refuse (401) a message whose source is not the TLS peer ``sender`` or whose destination is not ``receiver``."""
    if message.source_KME_ID != sender or message.destination_KME_ID != receiver:
        raise EtsiError(
            401,
            f"Kx message from {message.source_KME_ID!r} to {message.destination_KME_ID!r} "
            f"arrived from {sender!r} at {receiver!r}",
        )


class KeyRelayMessage(_KxMessage):
    """Q.4163 8.1, key relay message: one hop of a relay route (sender to the next KME).

    ``key_count`` keys of ``key_size`` bits, padded by the sender's link key IDs
    ``link_key_ID_start, link_key_ID_start + 2, ...`` of ``link_ID``. On the first hop the keys are
    that link key (``encrypted_keys`` is None); later hops carry them one-time padded.
    """

    message_type: Literal["key_relay"] = "key_relay"
    key_relay_ID: str = Field(pattern=KEY_RELAY_ID_PATTERN)
    key_count: int = Field(ge=1, le=65535)
    key_size: int = Field(ge=8, le=1 << 20, multiple_of=8, description="key size in bits")
    master_SAE_ID: str
    slave_SAE_IDs: list[str] = Field(min_length=1, description="slaves attached to the last KME of the route")
    route: list[str] = Field(min_length=1, description="KMEs still to visit; the first is the destination")
    link_ID: str
    link_key_ID_start: int = Field(ge=0, le=1 << 62, description="first of the sender's link key IDs that pad the keys")
    encrypted_keys: str | None = Field(
        None, description="base64 of the keys and end-to-end key XOR pads; None on the first hop (they are the pads)"
    )
    authentication_tag: str = _TAG

    @property
    def shape(self) -> KeyShape:
        """``key_count`` keys of ``key_size`` bits."""
        return KeyShape(number=self.key_count, size_bits=self.key_size)


class KeyRelayCompletionNotification(_KxMessage):
    """Q.4163 8.2, key relay completion notification: the slave's KME to the master's KME, the keys
    arrived and are deliverable; ``authentication_tag`` is the end-to-end receipt tag of exactly those keys."""

    message_type: Literal["key_relay_completion_notification"] = "key_relay_completion_notification"
    key_relay_ID: str = Field(pattern=KEY_RELAY_ID_PATTERN)
    result: Literal["completed"] = "completed"
    authentication_tag: str = _TAG


class KeyRelayConfirmation(_KxMessage):
    """qit4n extension: the master's KME to the slave's KME, these are the keys it issued (end-to-end
    confirm tag); answered with the :class:`KeyRelayCompletionNotification`."""

    message_type: Literal["key_relay_confirmation"] = "key_relay_confirmation"
    key_relay_ID: str = Field(pattern=KEY_RELAY_ID_PATTERN)
    authentication_tag: str = _TAG


class KeyRelayVoid(_KxMessage):
    """qit4n extension: the master's KME to a slave's KME, delete a batch whose relay failed (void tag)."""

    message_type: Literal["key_relay_void"] = "key_relay_void"
    key_relay_ID: str = Field(pattern=KEY_RELAY_ID_PATTERN)
    authentication_tag: str = _TAG


class KeySupplyNotification(_KxMessage):
    """Q.4163 8.3, key supply notification: the link's key IDs ``key_ID_start .. key_ID_start +
    key_count - 1`` are now held by the source (supplied by its QKD module)."""

    message_type: Literal["key_supply_notification"] = "key_supply_notification"
    link_ID: str
    key_ID_start: int = Field(ge=0, le=1 << 62)
    key_count: int = Field(ge=1, le=1 << 32)


class KeySupplyNotificationResponse(_KxMessage):
    """Q.4163 8.4, response to a key supply notification.

    ``next_key_ID``: the responder's record of the source's supply after this notification (the
    ``key_ID_start`` it expects next); ``held_key_count``: how many key IDs of the link the responder
    itself holds. A refused notification changed nothing; ``reason`` says why.
    """

    message_type: Literal["key_supply_notification_response"] = "key_supply_notification_response"
    link_ID: str
    result: Literal["accepted", "refused"]
    next_key_ID: int = Field(ge=0)
    held_key_count: int = Field(ge=0)
    reason: str | None = None
