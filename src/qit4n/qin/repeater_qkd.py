"""Entanglement-based QKD (BBM92) over a repeater chain, as a key-rate model for the QKD layer.

Both ends measure each delivered pair in Z or X. For a Bell-diagonal pair ``[p_I, p_X, p_Y, p_Z]``
the bit error rates are ``e_z = p_X + p_Y`` and ``e_x = p_Z + p_Y``; the asymptotic secret
fraction with one-way post-processing is ``1 - h(e_x) - h(e_z)`` (Shor-Preskill), so Werner pairs
give key up to ``e = 11.0%``, i.e. ``F = 1 - 1.5 e ~ 0.835``. With basis choice biased towards Z
the sifting factor tends to 1 (efficient BB84, Lo, Chau, Ardehali 2005); ``sifting`` sets it.

:data:`PROTOCOL` follows :class:`qit4n.qkd.base.ProtocolSpec`, so the QKD network layer can use a
repeater chain as a link type: qin registers it as ``"bbm92-repeater"`` through the
entry-point group ``qit4n.protocols`` (``pyproject.toml``), so qkd never names qin.

References
----------
C. H. Bennett, G. Brassard, N. D. Mermin, Phys. Rev. Lett. 68, 557 (1992), doi:10.1103/PhysRevLett.68.557.
P. W. Shor, J. Preskill, Phys. Rev. Lett. 85, 441 (2000), doi:10.1103/PhysRevLett.85.441.
X. Ma, C.-H. F. Fung, H.-K. Lo, Phys. Rev. A 76, 012307 (2007) (entanglement-based QKD).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from qit4n.maths import binary_entropy
from qit4n.physics.fibre import loss_db_from_transmittance
from qit4n.qin.bell import validate_bell_diagonal
from qit4n.qin.chain import ChainParameters, delivered_correlations, simulate_chain_mc
from qit4n.qin.montecarlo import SwapPolicy
from qit4n.qkd.base import ChannelParameters, ProtocolSpec, RateResult

__all__ = ["PROTOCOL", "BBM92RepeaterParameters", "bit_error_rates", "key_rate", "secret_fraction"]


def bit_error_rates(pair: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(e_z, e_x)`` of a Bell-diagonal pair."""
    p = validate_bell_diagonal(pair, "pair")
    return p[..., 1] + p[..., 2], p[..., 3] + p[..., 2]


def secret_fraction(pair: ArrayLike, sifting: float = 0.5) -> np.ndarray:
    """Secret bits per delivered pair, ``sifting * max(0, 1 - h(e_x) - h(e_z))``.

    >>> from qit4n.qin.bell import werner
    >>> round(float(secret_fraction(werner(0.95), sifting=1.0)), 4)
    0.5783
    """
    e_z, e_x = bit_error_rates(pair)
    return sifting * np.maximum(0.0, 1.0 - binary_entropy(e_x) - binary_entropy(e_z))


class BBM92RepeaterParameters(ChannelParameters):
    """A repeater chain's hardware (see :class:`~qit4n.qin.chain.ChainParameters`) for BBM92."""

    segments: int = Field(4, ge=1, le=1024)
    memory_t2_s: float = Field(1.0, gt=0.0)
    memories_per_node: int = Field(1, ge=1, le=100_000)
    sifting: float = Field(0.5, gt=0.0, le=1.0, description="fraction of pairs measured in matching bases")
    samples: int = Field(20_000, ge=100, le=10_000_000, description="Monte Carlo deliveries per transmittance")
    seed: int = 1


def key_rate(eta_channel: ArrayLike, params: BBM92RepeaterParameters) -> RateResult:
    """Secret key of BBM92 over a chain whose end-to-end fibre has transmittance ``eta_channel``.

    ``key_rate_per_pulse`` is per attempt of the end nodes' memories (one channel use per memory);
    the error rates are those of the delivered pairs averaged over the Monte Carlo deliveries, and
    ``qber`` reports ``e_z``.
    """
    eta = np.asarray(eta_channel, dtype=float)
    flat = eta.reshape(-1)
    per_use, per_s, qber = np.zeros(flat.size), np.zeros(flat.size), np.zeros(flat.size)
    for index, value in enumerate(flat):
        length_km = float(loss_db_from_transmittance(max(value, 1e-300))) / max(params.loss_db_per_km, 1e-12)
        chain = ChainParameters(
            segments=params.segments,
            length_km=max(length_km, 1e-6),
            loss_db_per_km=params.loss_db_per_km,
            memory={"t2_s": params.memory_t2_s, "t1_s": max(10.0, params.memory_t2_s)},
            memories_per_node=params.memories_per_node,
            policy=SwapPolicy.SWAP_ASAP,
        )
        result = simulate_chain_mc(chain, params.samples, np.random.default_rng(params.seed))
        t = delivered_correlations(chain, result.link, result.storage_s).mean(axis=0)
        e_z, e_x = (1.0 - t[2]) / 2.0, (1.0 - t[0]) / 2.0
        fraction = params.sifting * max(0.0, 1.0 - float(binary_entropy(e_x)) - float(binary_entropy(e_z)))
        per_s[index] = fraction / float(result.waiting_time_s.mean())
        per_use[index] = per_s[index] * result.link.attempt_time_s / params.memories_per_node
        qber[index] = e_z
    shape = eta.shape
    return RateResult(
        key_rate_per_pulse=per_use.reshape(shape), key_rate_bps=per_s.reshape(shape), qber=qber.reshape(shape)
    )


PROTOCOL = ProtocolSpec(
    name="bbm92-repeater",
    title="BBM92 over a quantum repeater chain (qit4n.qin)",
    parameters=BBM92RepeaterParameters,
    key_rate=key_rate,
    reference="Bennett, Brassard, Mermin, PRL 68, 557 (1992), doi:10.1103/PhysRevLett.68.557; "
    "Shor, Preskill, PRL 85, 441 (2000), doi:10.1103/PhysRevLett.85.441",
    repeaterless=False,
)
