"""Distillation of an emulated (or measured) decoy-state BB84 link: records in, secret key out.

Sifting per basis and intensity; the whole Z basis is disclosed to count its errors per
intensity; the decoy bounds of Lim et al. (2014) on the observed counts give the vacuum and
single-photon contributions of the X-basis key and the phase-error rate; the X-basis key is
reconciled (with the Z-basis error rate as the QBER guess), verified, amplified to the Lim et al.
length with the measured leak, and the transcript authenticated. If any frame fails verification
the block is aborted (no key), so the finite-key bound always applies to the block it was
computed for.

References
----------
Lim, C. C. W., Curty, M., Walenta, N., Xu, F. and Zbinden, H., Phys. Rev. A 89, 022307 (2014),
doi:10.1103/PhysRevA.89.022307, arXiv:1311.7129.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from qit4n.postprocess.channel import Message, MessageKind, Role
from qit4n.postprocess.estimation import DecoyBounds, DecoyCounts, lim_decoy_bounds, lim_key_length
from qit4n.postprocess.pipeline import DistillResult, PipelineSettings, Session, finish, reconcile_frames
from qit4n.postprocess.sifting import SiftedKey, sift

__all__ = ["DecoyRecordChunk", "LinkDistillResult", "distill_decoy_link"]

_KEY_BASIS, _TEST_BASIS = 0, 1


@dataclass(frozen=True)
class LinkDistillResult:
    """The distillation of one block of pulses: counts, decoy bounds and the key pipeline's result."""

    sifted_x_bits: int
    sifted_z_bits: int
    qber_z: float
    counts: DecoyCounts
    bounds: DecoyBounds
    result: DistillResult

    def as_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON-ready)."""
        return {
            "sifted_x_bits": self.sifted_x_bits,
            "sifted_z_bits": self.sifted_z_bits,
            "qber_z": self.qber_z,
            "vacuum_x_lower": self.bounds.vacuum_x,
            "single_photon_x_lower": self.bounds.single_x,
            "phase_error_upper": self.bounds.phase_error,
            **self.result.as_dict(),
        }


def _z_errors(alice: SiftedKey, bob: SiftedKey, session: Session) -> np.ndarray:
    """Bob discloses his Z-basis bits; Alice counts errors per intensity and announces them."""
    in_z = bob.bases == _TEST_BASIS
    message = session.channel.send(Message(MessageKind.SAMPLE_BITS, Role.BOB, disclosed={"z_bits": bob.bits[in_z]}))
    alice_z = alice.bases == _TEST_BASIS
    wrong = alice.bits[alice_z] != message.disclosed["z_bits"]
    errors = np.bincount(alice.intensities[alice_z][wrong], minlength=3).astype(np.uint64)
    answer = session.channel.send(Message(MessageKind.DECOY_COUNTS, Role.ALICE, public={"errors_z": errors}))
    return answer.public["errors_z"].astype(float)


class DecoyRecordChunk(Protocol):
    """One chunk of a decoy link's records: Bob's detections (pulse index, sorted; basis; bit) and
    Alice's basis, intensity index and bit at exactly those pulses
    (:class:`qit4n.emulate.decoy_stream.DecoyChunk`)."""

    @property
    def pulses(self) -> np.ndarray: ...

    @property
    def bob_bases(self) -> np.ndarray: ...

    @property
    def bob_bits(self) -> np.ndarray: ...

    @property
    def alice_bases(self) -> np.ndarray: ...

    @property
    def alice_intensities(self) -> np.ndarray: ...

    @property
    def alice_bits(self) -> np.ndarray: ...


def distill_decoy_link(
    chunks: Iterable[DecoyRecordChunk],
    intensities: Sequence[float],
    probabilities: Sequence[float],
    settings: PipelineSettings,
    rng: np.random.Generator,
    session: Session | None = None,
) -> LinkDistillResult:
    """Sift, estimate (Lim et al. 2014 on observed counts), reconcile, verify, amplify, authenticate.

    ``chunks`` are consumed as they come: each is sifted and its Z-basis errors counted, and only
    the sifted X-basis bits and the counts are kept, so memory follows the key, not the pulses.
    """
    session = session or Session.start(rng, settings)
    sifted_x: list[tuple[np.ndarray, np.ndarray]] = []
    count_x, count_z, errors_z = np.zeros(3), np.zeros(3), np.zeros(3)
    for chunk in chunks:
        with session.stage("sifting"):
            alice, bob = sift(
                chunk.alice_bases,
                chunk.alice_intensities,
                chunk.alice_bits,
                chunk.pulses,
                chunk.bob_bases,
                chunk.bob_bits,
                session.channel,
                alice_pulses=chunk.pulses,
            )
        with session.stage("estimation"):
            errors_z += _z_errors(alice, bob, session)
        in_x = bob.bases == _KEY_BASIS
        count_x += np.bincount(bob.intensities[in_x], minlength=3)
        count_z += np.bincount(bob.intensities[~in_x], minlength=3)
        sifted_x.append((alice.select(_KEY_BASIS), bob.select(_KEY_BASIS)))
    alice_x = np.concatenate([pair[0] for pair in sifted_x]) if sifted_x else np.zeros(0, np.uint8)
    bob_x = np.concatenate([pair[1] for pair in sifted_x]) if sifted_x else np.zeros(0, np.uint8)
    sifted_x.clear()
    counts = DecoyCounts(tuple(intensities), tuple(probabilities), count_x, count_z, errors_z)
    bounds = lim_decoy_bounds(counts, settings.epsilon_sec)
    sifted_z = int(count_z.sum())
    qber_z = float(errors_z.sum() / sifted_z) if sifted_z else 0.5
    rec = reconcile_frames(alice_x, bob_x, min(max(qber_z, 1e-3), 0.25), settings, session, rng)
    leak = rec.leak_ec_bits + rec.verification_bits
    length = 0 if rec.frame_errors else min(lim_key_length(bounds, leak, settings.epsilon_sec), rec.alice_key.size)
    alice_final, bob_final, amplified, spent, passed = finish(session, rec, length, settings, rng)
    result = DistillResult(
        alice_final,
        bob_final,
        int(alice_x.size),
        sifted_z,
        qber_z,
        rec,
        amplified,
        spent,
        passed,
        dict(session.channel.traffic),
        dict(session.seconds),
        session.randomness_state(),
    )
    return LinkDistillResult(int(alice_x.size), sifted_z, qber_z, counts, bounds, result)
