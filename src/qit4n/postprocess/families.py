"""The extension points of the post-processing stack: reconcilers and privacy-amplification hashes.

Each family is one interface and one :class:`~qit4n.registry.Registry`; the pipeline finds a
member by the name in :class:`~qit4n.postprocess.pipeline.PipelineSettings` and calls it through
the interface, so a new member is one class and one ``register`` call (``docs/extending.md``).
The built-in members are registered lazily, so importing this module (for ``--help``) loads no
numerical kernel.

Verification has a single family (the polynomial hash over GF(2^64) of
:mod:`qit4n.postprocess.verification`), so it has no registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qit4n.postprocess.channel import PublicChannel
from qit4n.registry import Registry

if TYPE_CHECKING:
    from qit4n.postprocess.pipeline import PipelineSettings

__all__ = ["HASH_FAMILIES", "RECONCILERS", "HashFamily", "ReconciledFrame", "Reconciler"]


@dataclass(frozen=True)
class ReconciledFrame:
    """Bob's corrected frame and ``padding_credit``: bits the reconciler disclosed on the channel that
    carry no information about the key (random padding), subtracted from the reconciliation leak."""

    key: np.ndarray
    padding_credit: int = 0


class Reconciler(Protocol):
    """Error reconciliation of a batch of frames between Alice and Bob.

    The leak is what the reconciler discloses on ``channel``: every message that carries
    information about the key must cross it with that information in ``Message.disclosed``
    (the pipeline counts the disclosed bits of the ``"reconciliation"`` stage, less each frame's
    ``padding_credit``). Alice's and Bob's sides may only learn each other's keys through it.
    """

    def reconcile(
        self,
        alice_frames: Sequence[np.ndarray],
        bob_frames: Sequence[np.ndarray],
        qber_estimate: float,
        settings: PipelineSettings,
        channel: PublicChannel,
        rng: np.random.Generator,
    ) -> list[ReconciledFrame]:
        """Bob's corrected frames, one per input frame, in order.

        Parameters
        ----------
        alice_frames, bob_frames : sequences of uint8 arrays
            Both parties' frames (equal lengths, at least 64 bits each); a batch shares round trips.
        qber_estimate : float
            Estimated bit-error rate, clamped by the pipeline to [1e-4, 0.25].
        settings : PipelineSettings
            The stack's settings (for example Cascade's ``clean_passes``).
        channel : PublicChannel
            The counting public channel of the session.
        rng : numpy.random.Generator
            Source of public randomness (seeds both parties agree on).
        """
        ...


class HashFamily(Protocol):
    """A two-universal hash family for privacy amplification: public seed bits choose the function."""

    def seed_bits(self, key_bits: int, output_bits: int) -> int:
        """Public random bits that choose a function hashing ``key_bits`` to ``output_bits`` bits."""
        ...

    def apply(self, key: np.ndarray, packed_seed: np.ndarray, seed_bits: int, output_bits: int) -> np.ndarray:
        """Hash ``key`` to ``output_bits`` bits with the function chosen by ``seed_bits`` seed bits,
        packed little-endian in ``packed_seed`` (as they cross the channel)."""
        ...


#: Error-reconciliation methods by name (entry-point group ``qit4n.reconcilers``).
RECONCILERS: Registry[Reconciler] = Registry("reconciler", entry_point_group="qit4n.reconcilers")
RECONCILERS.register_lazy("cascade", "qit4n.postprocess.cascade:OPTIMISED_CASCADE")
RECONCILERS.register_lazy("cascade-original", "qit4n.postprocess.cascade:ORIGINAL_CASCADE")
RECONCILERS.register_lazy("ldpc", "qit4n.postprocess.ldpc:LDPC_RECONCILER")

#: Privacy-amplification hash families by name (entry-point group ``qit4n.hash_families``).
HASH_FAMILIES: Registry[HashFamily] = Registry("hash family", entry_point_group="qit4n.hash_families")
HASH_FAMILIES.register_lazy("toeplitz", "qit4n.postprocess.amplification:TOEPLITZ")
HASH_FAMILIES.register_lazy("modular", "qit4n.postprocess.amplification:MODULAR")
