"""Authentication of key relay: Wegman-Carter tags with link key, and end-to-end key confirmation.

Hop tags. Each relay message a KME sends the next KME of a route carries a 128-bit tag: two
polynomial hashes over GF(2^64) of the message (:func:`hop_transcript`: sender, receiver, link,
units, batch, shape, SAEs, route and ciphertext) XOR 128 bits of one-time pad
(:class:`~qit4n.postprocess.authentication.MessageAuthenticator`). The hash key of a link is
its first :func:`reserved_units` units (both ends set them aside when the link is first
registered, and each end gets half of them from the other's parity); the pad is the message's own
last :attr:`HopLayout.tag_units` units, allocated with the key's pad and spent with it. A replayed
message names units already consumed and is refused; a changed one of ``L`` 64-bit words fails
its tag except with probability ``(L / 2^64)^2`` per try
(:meth:`~qit4n.postprocess.authentication.MessageAuthenticator.forgery_bound`).

End to end. With the keys a relay message carries a fresh 512-bit end-to-end key ``E`` (one-time
padded on every hop like the keys): a 128-bit hash key and three 128-bit pads. When the keys
crossed trusted nodes, the slave's KME stores the batch *pending*; the master's KME then sends it,
directly over mutual TLS, a confirm tag of the keys it issued (:meth:`EndToEnd.confirm_tag`,
checked by :func:`confirm_batch`); the slave's KME checks it against the keys it received, marks
the batch deliverable and answers with a receipt tag of them (:meth:`EndToEnd.receipt_tag`),
which the master's KME checks before it answers its SAE. When the slave's KME is one link away,
the keys came under the master's KME's own link tag: they are deliverable at once and the receipt
comes back with the relay answer. A void from the master's KME carries :meth:`EndToEnd.void_tag`
(checked by :func:`void_batch`). Every tag of ``E`` is used once.

References
----------
M. N. Wegman and J. L. Carter, J. Comput. Syst. Sci. 22, 265 (1981), doi:10.1016/0022-0000(81)90033-7
(universal hashing XOR one-time pad; the hash key may be reused).
C. Portmann, IEEE Trans. Inf. Theory 60, 4383 (2014), doi:10.1109/TIT.2014.2317312 (composable
security of Wegman-Carter authentication with a recycled hash key: the errors of ``n`` tags add up
to ``n`` times the per-tag bound).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qit4n.kms.errors import EtsiError
from qit4n.kms.shape import KeyShape
from qit4n.kms.storage import KeyStorage

if TYPE_CHECKING:
    from qit4n.postprocess.authentication import MessageAuthenticator

__all__ = [
    "E2E_BYTES",
    "TAG_BYTES",
    "EndToEnd",
    "HopLayout",
    "confirm_batch",
    "confirm_transcript",
    "hop_transcript",
    "link_authenticator",
    "reserved_units",
    "void_batch",
]

_BITS_PER_BYTE = 8

#: Bytes of a tag: two 64-bit polynomial hashes.
TAG_BYTES = 16
#: Bytes of a link's (recycled) hash key.
HASH_KEY_BYTES = 16
#: Bytes of the end-to-end key of one batch: hash key, confirm pad, receipt pad, void pad.
E2E_BYTES = 64

_HOP_LABEL = b"qit4n relay hop v1"
_CONFIRM_LABEL = b"qit4n relay confirm v1"
_RECEIPT_LABEL = b"qit4n relay receipt v1"
_VOID_LABEL = b"qit4n relay void v1"


def _units_for(num_bytes: int, unit_bits: int) -> int:
    return -(-num_bytes * _BITS_PER_BYTE // unit_bits)


def reserved_units(unit_bits: int) -> int:
    """Units at the start of every link that hold its hash key (an even number: half from each end).

    >>> reserved_units(256), reserved_units(8)
    (2, 16)
    """
    return 2 * -(-HASH_KEY_BYTES * _BITS_PER_BYTE // (2 * unit_bits))


def link_authenticator(first_units: bytes) -> MessageAuthenticator:
    """The tagger of a link, keyed by the bytes of its :func:`reserved_units` first units."""
    from qit4n.postprocess.authentication import MessageAuthenticator

    return MessageAuthenticator(first_units[:HASH_KEY_BYTES])


def _framed(parts: Iterable[bytes]) -> bytes:
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def hop_transcript(
    *,
    sender: str,
    receiver: str,
    link_id: str,
    unit_start: int,
    batch_id: str,
    shape: KeyShape,
    master: str,
    slaves: list[str],
    route: list[str],
    ciphertext: bytes | None,
) -> bytes:
    """The bytes a hop tag covers: every field of the relay message, and who sends it to whom.

    >>> a = hop_transcript(sender="K1", receiver="K2", link_id="L", unit_start=0, batch_id="b",
    ...     shape=KeyShape(number=1, size_bits=256), master="S1", slaves=["S2"], route=["K2"], ciphertext=None)
    >>> a == hop_transcript(sender="K1", receiver="K2", link_id="L", unit_start=2, batch_id="b",
    ...     shape=KeyShape(number=1, size_bits=256), master="S1", slaves=["S2"], route=["K2"], ciphertext=None)
    False
    """
    return _framed(
        [
            _HOP_LABEL,
            sender.encode(),
            receiver.encode(),
            link_id.encode(),
            str(unit_start).encode(),
            batch_id.encode(),
            f"{shape.number}x{shape.size_bits}".encode(),
            master.encode(),
            _framed(slave.encode() for slave in slaves),
            _framed(kme.encode() for kme in route),
            b"-" if ciphertext is None else b"C" + ciphertext,
        ]
    )


def confirm_transcript(label: bytes, batch_id: str, master: str, slaves: list[str], keys: bytes) -> bytes:
    """The bytes an end-to-end tag covers: its purpose, the batch, its SAEs (slaves in sorted order) and the keys."""
    return _framed(
        [label, batch_id.encode(), master.encode(), _framed(slave.encode() for slave in sorted(slaves)), keys]
    )


@dataclass(frozen=True)
class HopLayout:
    """Which units of one relay message pad what: the keys, then ``E``, then the tag.

    >>> layout = HopLayout(KeyShape(number=2, size_bits=256), unit_bits=256)
    >>> layout.key_units, layout.e2e_units, layout.tag_units, layout.total_units
    (2, 2, 1, 5)
    """

    shape: KeyShape
    unit_bits: int

    @property
    def key_units(self) -> int:
        """Units that pad the keys."""
        return self.shape.pool_units(unit_bits=self.unit_bits)

    @property
    def e2e_units(self) -> int:
        """Units that pad the end-to-end key."""
        return _units_for(E2E_BYTES, self.unit_bits)

    @property
    def tag_units(self) -> int:
        """Units whose first :data:`TAG_BYTES` bytes pad the hop tag."""
        return _units_for(TAG_BYTES, self.unit_bits)

    @property
    def overhead_units(self) -> int:
        """Units a hop spends on authentication: ``E`` and the tag."""
        return self.e2e_units + self.tag_units

    @property
    def total_units(self) -> int:
        """Units one hop spends."""
        return self.key_units + self.overhead_units

    @property
    def payload_bytes(self) -> int:
        """Bytes of the keys and ``E``, concatenated (the ciphertext's length)."""
        return self.shape.total_bytes + E2E_BYTES

    def tag_start(self, unit_start: int) -> int:
        """Index of the first tag unit of a message whose units start at ``unit_start``."""
        return unit_start + 2 * (self.key_units + self.e2e_units)

    def payload_pad(self, pad: bytes) -> bytes:
        """The pad of the keys and ``E`` within the pad of :attr:`total_units` units."""
        unit_bytes = self.unit_bits // _BITS_PER_BYTE
        keys_end = self.key_units * unit_bytes
        keys = self.shape.keys_from_pad(pad[:keys_end], unit_bits=self.unit_bits)
        return keys + pad[keys_end : keys_end + E2E_BYTES]

    def tag_pad(self, pad: bytes) -> bytes:
        """The tag's pad within the pad of :attr:`total_units` (or only :attr:`tag_units`) units."""
        unit_bytes = self.unit_bits // _BITS_PER_BYTE
        return pad[len(pad) - self.tag_units * unit_bytes :][:TAG_BYTES]


class EndToEnd:
    """The end-to-end key ``E`` of one batch at one slave's KME, and its three one-time tags.

    >>> e2e = EndToEnd(bytes(range(64)))
    >>> e2e.confirm_tag("b", "S1", ["S2"], b"key") == e2e.receipt_tag("b", "S1", ["S2"], b"key")
    False
    """

    def __init__(self, key: bytes) -> None:
        from qit4n.postprocess.authentication import MessageAuthenticator

        if len(key) != E2E_BYTES:
            raise ValueError(f"end-to-end key = {len(key)} bytes: must be {E2E_BYTES}")
        self._mac = MessageAuthenticator(key[:HASH_KEY_BYTES])
        self._pads = [key[HASH_KEY_BYTES + i * TAG_BYTES : HASH_KEY_BYTES + (i + 1) * TAG_BYTES] for i in range(3)]

    def confirm_tag(self, batch_id: str, master: str, slaves: list[str], keys: bytes) -> bytes:
        """Master's KME -> slave's KME: these are the keys I issued."""
        return self._mac.tag(confirm_transcript(_CONFIRM_LABEL, batch_id, master, slaves, keys), pad=self._pads[0])

    def receipt_tag(self, batch_id: str, master: str, slaves: list[str], keys: bytes) -> bytes:
        """Slave's KME -> master's KME: these are the keys I hold, deliverable now."""
        return self._mac.tag(confirm_transcript(_RECEIPT_LABEL, batch_id, master, slaves, keys), pad=self._pads[1])

    def void_tag(self, batch_id: str) -> bytes:
        """Master's KME -> slave's KME: void this batch."""
        return self._mac.tag(confirm_transcript(_VOID_LABEL, batch_id, "", [], b""), pad=self._pads[2])


def _decoded(tag: str) -> bytes:
    try:
        return base64.b64decode(tag, validate=True)
    except (binascii.Error, ValueError):
        return b""


def confirm_batch(store: KeyStorage, directory: Mapping[str, str], *, sender: str, batch_id: str, tag: str) -> str:
    """Slave's KME: make a pending batch deliverable on the master's KME's confirm tag (base64).

    Returns the receipt tag (base64). Raises :class:`~qit4n.kms.errors.EtsiError` 401 when
    ``sender`` is not the KME of the batch's master SAE (``directory``: SAE ID -> KME ID; the batch
    stays) or when the tag does not verify (the batch is deleted: its keys differ from the master's,
    or the confirmation was forged).
    """
    receipt = b""

    def check(master: str, slaves: list[str], keys: bytes, e2e_key: bytes) -> bool:
        nonlocal receipt
        if directory.get(master) != sender:
            raise EtsiError(401, f"{sender} is not the KME of batch {batch_id}'s master SAE")
        e2e = EndToEnd(e2e_key)
        if not hmac.compare_digest(_decoded(tag), e2e.confirm_tag(batch_id, master, slaves, keys)):
            return False
        receipt = e2e.receipt_tag(batch_id, master, slaves, keys)
        return True

    if not store.confirm(batch_id=batch_id, check=check):
        raise EtsiError(401, f"batch {batch_id}: not pending here, or its confirm tag does not verify (voided)")
    return base64.b64encode(receipt).decode("ascii")


def void_batch(store: KeyStorage, directory: Mapping[str, str], *, sender: str, batch_id: str, tag: str) -> int:
    """Slave's KME: void a batch on its master's KME's void tag (base64); returns the rows deleted.

    Raises :class:`~qit4n.kms.errors.EtsiError` 401 (nothing deleted) when ``sender`` is not the KME
    of the batch's master SAE or the tag does not verify. An unknown batch voids nothing (0).
    """
    reason = ""

    def authorise(batch: str, master: str, e2e_key: bytes | None) -> bool:
        nonlocal reason
        if directory.get(master) != sender:
            reason = f"{sender} is not the KME of the batch's master SAE"
            return False
        if e2e_key is None or not hmac.compare_digest(_decoded(tag), EndToEnd(e2e_key).void_tag(batch)):
            reason = "its void tag does not verify"
            return False
        return True

    voided = store.void(batch_ids=[batch_id], authorise=authorise)
    if reason:
        raise EtsiError(401, f"void of batch {batch_id} refused: {reason}")
    return voided
