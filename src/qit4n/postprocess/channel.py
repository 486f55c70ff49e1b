"""The public classical channel between Alice and Bob: serialised messages and exact accounting.

Every message crosses the channel as bytes (:meth:`Message.to_bytes`) and is decoded again on the
other side, so the parties share nothing but what they send; the same messages can later travel
between two key management entities over a network. The channel counts, per stage, the messages,
the bits on the wire, the bits that disclose information about the key (parities, hash values,
sampled key bits) and the round trips. A listener per party (its authenticator) sees every
message's bytes in order, as that party sent or received them.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Message", "MessageKind", "PublicChannel", "Role", "StageTraffic", "kind_of"]


class Role(enum.Enum):
    """The two ends of the channel."""

    ALICE = "alice"
    BOB = "bob"


class MessageKind(enum.Enum):
    """What a message carries; receivers dispatch on this, never on free text."""

    SIFT_BASES = "sift-bases"
    SIFT_MATCHES = "sift-matches"
    SAMPLE_REQUEST = "sample-request"
    SAMPLE_BITS = "sample-bits"
    DECOY_COUNTS = "decoy-counts"
    CASCADE_SETUP = "cascade-setup"
    CASCADE_REQUEST = "cascade-request"
    CASCADE_ANSWER = "cascade-answer"
    LDPC_SYNDROME = "ldpc-syndrome"
    LDPC_REQUEST = "ldpc-request"
    VERIFY_TAG = "verify-tag"
    VERIFY_RESULT = "verify-result"
    AMPLIFY_SEED = "amplify-seed"
    AUTH_TAG = "auth-tag"


@dataclass(frozen=True)
class Message:
    """A message: ``public`` arrays (positions, seeds, flags) and ``disclosed`` 0/1 arrays derived
    from the key (each element discloses one bit)."""

    kind: MessageKind
    sender: Role
    public: Mapping[str, np.ndarray] = field(default_factory=dict)
    disclosed: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def disclosed_bits(self) -> int:
        """Number of key-dependent bits the message reveals."""
        return int(sum(np.asarray(value).size for value in self.disclosed.values()))

    def to_bytes(self) -> bytes:
        """Serialise: kind, sender and field layout in a compact header, then the raw arrays.

        Disclosed arrays travel packed, one bit per element.
        """
        head = [_KIND_CODES[self.kind], _ROLE_CODES[self.sender], len(self.public) + len(self.disclosed)]
        parts = [bytes(head)]
        for name, value in self.public.items():
            array = np.ascontiguousarray(value)
            parts.append(_field_header(name, array.dtype.str, array.shape))
            parts.append(array.tobytes())
        for name, value in self.disclosed.items():
            array = np.asarray(value, dtype=np.uint8).ravel()
            parts.append(_field_header(name, "bits", (array.size,)))
            parts.append(np.packbits(array, bitorder="little").tobytes())
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> Message:
        """Inverse of :meth:`to_bytes`."""
        kind, sender, count = _KINDS[data[0]], _ROLES[data[1]], data[2]
        offset = 3
        groups: tuple[dict[str, np.ndarray], dict[str, np.ndarray]] = ({}, {})
        for _ in range(count):
            name_size, dtype_size, ndim = data[offset], data[offset + 1], data[offset + 2]
            offset += 3
            name = data[offset : offset + name_size].decode("ascii")
            offset += name_size
            dtype = data[offset : offset + dtype_size].decode("ascii")
            offset += dtype_size
            shape = struct.unpack_from(f"<{ndim}Q", data, offset)
            offset += 8 * ndim
            if dtype == "bits":
                size = (shape[0] + 7) // 8
                raw = np.frombuffer(data, dtype=np.uint8, count=size, offset=offset)
                groups[1][name] = np.unpackbits(raw, bitorder="little", count=shape[0])
            else:
                element = np.dtype(dtype)
                count_items = int(np.prod(shape)) if ndim else 1
                size = element.itemsize * count_items
                groups[0][name] = (
                    np.frombuffer(data, dtype=element, count=count_items, offset=offset).reshape(shape).copy()
                )
            offset += size
        return cls(kind, sender, groups[0], groups[1])


def _field_header(name: str, dtype: str, shape: tuple[int, ...]) -> bytes:
    encoded_name = name.encode("ascii")
    encoded_dtype = dtype.encode("ascii")
    return (
        bytes((len(encoded_name), len(encoded_dtype), len(shape)))
        + encoded_name
        + encoded_dtype
        + struct.pack(f"<{len(shape)}Q", *shape)
    )


def kind_of(data: bytes) -> MessageKind:
    """The kind of a serialised message, read from its first byte."""
    return _KINDS[data[0]]


_KINDS = list(MessageKind)
_KIND_CODES = {kind: index for index, kind in enumerate(_KINDS)}
_ROLES = list(Role)
_ROLE_CODES = {role: index for index, role in enumerate(_ROLES)}


@dataclass
class StageTraffic:
    """Traffic of one stage: messages, bits on the wire, disclosed key bits, round trips."""

    messages: int = 0
    wire_bits: int = 0
    disclosed_bits: int = 0
    round_trips: int = 0

    def as_dict(self) -> dict[str, int]:
        """Plain dictionary for reports and JSON."""
        return {
            "messages": self.messages,
            "wire_bits": self.wire_bits,
            "disclosed_bits": self.disclosed_bits,
            "round_trips": self.round_trips,
        }


class PublicChannel:
    """An authenticated-later public channel that serialises, delivers and counts every message.

    ``stage`` names the stage the next messages belong to (set by the pipeline). A round trip
    starts with a stage's first message and each time the side that spoke first in the stage
    speaks again after hearing from the other side.

    >>> channel = PublicChannel()
    >>> channel.stage = "demo"
    >>> reply = channel.send(Message(MessageKind.SAMPLE_BITS, Role.ALICE, disclosed={"bits": np.ones(3, np.uint8)}))
    >>> channel.traffic["demo"].disclosed_bits, reply.disclosed["bits"].tolist()
    (3, [1, 1, 1])
    """

    def __init__(
        self,
        listeners: Mapping[Role, Callable[[bytes], None]] | None = None,
        tamper: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.listeners = dict(listeners or {})
        self.tamper = tamper
        self.stage = "unassigned"
        self.traffic: dict[str, StageTraffic] = {}
        self._first_sender: dict[str, Role] = {}
        self._last_sender: dict[str, Role] = {}

    def send(self, message: Message) -> Message:
        """Serialise ``message``, count it, show its bytes to the listeners, deliver a decoded copy.

        The sender's listener sees the bytes sent, the receiver's the bytes delivered (which differ
        only when a ``tamper`` function plays a man in the middle).
        """
        data = message.to_bytes()
        traffic = self.traffic.setdefault(self.stage, StageTraffic())
        traffic.messages += 1
        traffic.wire_bits += 8 * len(data)
        traffic.disclosed_bits += message.disclosed_bits
        first = self._first_sender.setdefault(self.stage, message.sender)
        last = self._last_sender.get(self.stage)
        if last is None or (message.sender == first and last != first):
            traffic.round_trips += 1
        self._last_sender[self.stage] = message.sender
        delivered = data if self.tamper is None else self.tamper(data)
        for role, listener in self.listeners.items():
            listener(data if role is message.sender else delivered)
        return Message.from_bytes(delivered)

    def total(self) -> StageTraffic:
        """Traffic summed over all stages."""
        total = StageTraffic()
        for traffic in self.traffic.values():
            total.messages += traffic.messages
            total.wire_bits += traffic.wire_bits
            total.disclosed_bits += traffic.disclosed_bits
            total.round_trips += traffic.round_trips
        return total
