"""Classical post-processing of QKD keys on real bit arrays, between two separate parties.

Stages, each a module with its own leak accounting on a counting public channel: sifting,
parameter estimation (sampling, Tomamichel 2012 and Lim 2014 finite-key bounds), error
reconciliation by Cascade (original and optimised) or rate-adaptive LDPC codes, verification with
a polynomial hash over GF(2^64), privacy amplification (Toeplitz hashing by an additive FFT over
GF(2^64), or Mersenne modular hashing on GMP integers), and Wegman-Carter authentication paid from
the distilled key; :mod:`qit4n.postprocess.pipeline` composes them.

Reconcilers and hash families are extension points (:data:`RECONCILERS`, :data:`HASH_FAMILIES`,
see :mod:`qit4n.postprocess.families`). Importing this package loads only them and the public
channel; every other name is imported on first use, so that ``qit4n --help`` need not compile
the numerical kernels.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role, StageTraffic
from qit4n.postprocess.families import HASH_FAMILIES, RECONCILERS, HashFamily, ReconciledFrame, Reconciler

if TYPE_CHECKING:
    from qit4n.postprocess.amplification import amplify, mersenne_hash, toeplitz_hash
    from qit4n.postprocess.authentication import (
        KeyPool,
        MessageAuthenticator,
        TranscriptAuthenticator,
        authenticate_frame,
    )
    from qit4n.postprocess.bits import count_errors, noisy_copy, random_bits
    from qit4n.postprocess.cascade import (
        CascadeAlice,
        CascadeBob,
        CascadeSettings,
        CascadeVariant,
        reconcile_cascade,
    )
    from qit4n.postprocess.estimation import (
        DecoyCounts,
        estimate_qber_by_sampling,
        lim_decoy_bounds,
        lim_key_length,
        tomamichel_key_length,
    )
    from qit4n.postprocess.ldpc import LdpcSettings, reconcile_ldpc
    from qit4n.postprocess.pipeline import (
        DistillResult,
        PipelineSettings,
        Session,
        distill_sifted,
        distill_simulated,
        reconcile_frames,
    )
    from qit4n.postprocess.sifting import SiftedKey, sift
    from qit4n.postprocess.verification import verify_keys

#: Submodule that defines each name imported on first use.
_LAZY_MODULES = {
    "amplification": ("amplify", "mersenne_hash", "toeplitz_hash"),
    "authentication": ("KeyPool", "MessageAuthenticator", "TranscriptAuthenticator", "authenticate_frame"),
    "bits": ("count_errors", "noisy_copy", "random_bits"),
    "cascade": ("CascadeAlice", "CascadeBob", "CascadeSettings", "CascadeVariant", "reconcile_cascade"),
    "estimation": (
        "DecoyCounts",
        "estimate_qber_by_sampling",
        "lim_decoy_bounds",
        "lim_key_length",
        "tomamichel_key_length",
    ),
    "ldpc": ("LdpcSettings", "reconcile_ldpc"),
    "pipeline": (
        "DistillResult",
        "PipelineSettings",
        "Session",
        "distill_sifted",
        "distill_simulated",
        "reconcile_frames",
    ),
    "sifting": ("SiftedKey", "sift"),
    "verification": ("verify_keys",),
}
_LAZY = {name: module for module, names in _LAZY_MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "HASH_FAMILIES",
    "RECONCILERS",
    "CascadeAlice",
    "CascadeBob",
    "CascadeSettings",
    "CascadeVariant",
    "DecoyCounts",
    "DistillResult",
    "HashFamily",
    "KeyPool",
    "LdpcSettings",
    "Message",
    "MessageAuthenticator",
    "MessageKind",
    "PipelineSettings",
    "PublicChannel",
    "ReconciledFrame",
    "Reconciler",
    "Role",
    "Session",
    "SiftedKey",
    "StageTraffic",
    "TranscriptAuthenticator",
    "amplify",
    "authenticate_frame",
    "count_errors",
    "distill_sifted",
    "distill_simulated",
    "estimate_qber_by_sampling",
    "lim_decoy_bounds",
    "lim_key_length",
    "mersenne_hash",
    "noisy_copy",
    "random_bits",
    "reconcile_cascade",
    "reconcile_frames",
    "reconcile_ldpc",
    "sift",
    "toeplitz_hash",
    "tomamichel_key_length",
    "verify_keys",
]
