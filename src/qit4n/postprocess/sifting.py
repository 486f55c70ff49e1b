"""Sifting (basis reconciliation) of prepare-and-measure records, per basis and intensity.

Bob announces which pulses he detected and in which basis he measured; Alice answers with her
basis and intensity for those pulses; both keep the pulses where the bases agree. Bases and
intensities are public; no key bit crosses the channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role

__all__ = ["SiftedKey", "sift"]


@dataclass(frozen=True)
class SiftedKey:
    """One party's sifted bits with, for each, the common basis and Alice's intensity index."""

    bits: np.ndarray
    bases: np.ndarray
    intensities: np.ndarray

    def select(self, basis: int) -> np.ndarray:
        """Bits measured in ``basis`` (all intensities)."""
        return self.bits[self.bases == basis]


def _pack(values: np.ndarray) -> np.ndarray:
    return np.packbits(values.astype(np.uint8), bitorder="little")


def _rows(pulses: np.ndarray, alice_pulses: np.ndarray | None) -> np.ndarray:
    """Rows of Alice's records for the announced ``pulses``."""
    if alice_pulses is None:
        return pulses
    rows = np.searchsorted(alice_pulses, pulses)
    if rows.size and (rows.max() >= alice_pulses.size or not np.array_equal(alice_pulses[rows], pulses)):
        raise ValueError("bob_pulses: Bob announced a pulse outside alice_pulses")
    return rows


def sift(
    alice_bases: np.ndarray,
    alice_intensities: np.ndarray,
    alice_bits: np.ndarray,
    bob_pulses: np.ndarray,
    bob_bases: np.ndarray,
    bob_bits: np.ndarray,
    channel: PublicChannel,
    *,
    alice_pulses: np.ndarray | None = None,
) -> tuple[SiftedKey, SiftedKey]:
    """Sift Alice's per-pulse records against Bob's detections; returns ``(alice, bob)`` keys.

    ``alice_*`` are per pulse sent, or, with ``alice_pulses`` (sorted pulse indices), per pulse of
    ``alice_pulses`` only (a streamed emulation keeps Alice's choices only where Bob can have
    clicked; :class:`ValueError` if Bob announces a pulse outside them); ``bob_pulses`` are the
    indices of Bob's detections (sorted) with his basis and bit for each.

    >>> a_bases = np.array([0, 1, 1, 0], np.uint8); a_bits = np.array([1, 0, 1, 1], np.uint8)
    >>> a, b = sift(a_bases, np.zeros(4, np.uint8), a_bits, np.array([0, 2, 3]), np.array([0, 0, 0], np.uint8),
    ...             np.array([1, 1, 1], np.uint8), PublicChannel())
    >>> a.bits.tolist(), b.bits.tolist()
    ([1, 1], [1, 1])
    """
    count = bob_pulses.size
    request = channel.send(
        Message(
            MessageKind.SIFT_BASES,
            Role.BOB,
            public={
                "pulses": np.asarray(bob_pulses, dtype=np.uint64),
                "bases": _pack(bob_bases),
                "count": np.array([count], np.uint64),
            },
        )
    )
    pulses = _rows(request.public["pulses"].astype(np.int64), alice_pulses)
    bob_bases_seen = np.unpackbits(request.public["bases"], bitorder="little", count=count)
    alice_match = alice_bases[pulses] == bob_bases_seen
    answer = channel.send(
        Message(
            MessageKind.SIFT_MATCHES,
            Role.ALICE,
            public={"match": _pack(alice_match), "intensities": np.asarray(alice_intensities[pulses], dtype=np.uint8)},
        )
    )
    bob_match = np.unpackbits(answer.public["match"], bitorder="little", count=count).astype(bool)
    intensities = answer.public["intensities"]
    alice = SiftedKey(
        alice_bits[pulses][alice_match], alice_bases[pulses][alice_match], alice_intensities[pulses][alice_match]
    )
    bob = SiftedKey(np.asarray(bob_bits)[bob_match], np.asarray(bob_bases)[bob_match], intensities[bob_match])
    return alice, bob
