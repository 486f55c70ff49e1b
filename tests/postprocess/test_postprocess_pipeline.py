"""The pipeline end to end: keys identical, leaks accounted, failing frames discarded, tampering caught."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from qit4n.errors import ParameterError
from qit4n.postprocess import (
    RECONCILERS,
    PipelineSettings,
    ReconciledFrame,
    Session,
    distill_sifted,
    distill_simulated,
    noisy_copy,
    random_bits,
)
from qit4n.postprocess.channel import MessageKind
from qit4n.schema import validate_parameters


@pytest.mark.parametrize("reconciler", ["cascade", "cascade-original"])
@pytest.mark.parametrize("qber", [0.01, 0.05])
def test_final_keys_identical_and_costs_accounted(reconciler, qber):
    result = distill_simulated(150_000, qber, PipelineSettings(reconciler=reconciler), seed=4)
    summary = result.as_dict()
    assert result.keys_match and result.authenticated
    assert summary["final_key_bits"] > 0
    assert summary["final_key_bits"] == summary["amplified_bits"] - summary["auth_key_bits"]
    assert summary["leak_ec_bits"] == result.traffic["reconciliation"].disclosed_bits
    assert summary["estimation_bits"] == result.traffic["estimation"].disclosed_bits
    assert summary["amplified_bits"] < summary["reconciled_bits"] - summary["leak_ec_bits"]
    assert set(summary["seconds"]) == {
        "estimation",
        "reconciliation",
        "verification",
        "amplification",
        "authentication",
    }


def test_failing_frames_are_discarded_never_passed_on():
    """The original Cascade leaves errors in many 256-bit frames at 5 %; verification drops them."""
    result = distill_simulated(
        200_000, 0.05, PipelineSettings(reconciler="cascade-original", frame_bits=256, sample_fraction=0.05), seed=3
    )
    rec = result.reconciliation
    assert rec.frame_errors > 5
    assert rec.alice_key.size == rec.reconciled_bits - 256 * rec.frame_errors
    assert np.array_equal(rec.alice_key, rec.bob_key)
    assert result.keys_match


def test_tampered_channel_yields_no_key():
    rng = np.random.default_rng(8)
    alice_key = random_bits(50_000, rng)
    bob_key = noisy_copy(alice_key, 0.02, rng)
    settings = PipelineSettings()
    session = Session.start(rng, settings)
    sample_code = list(MessageKind).index(MessageKind.SAMPLE_BITS)

    def flip_sample_message(data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 0x80]) if data[0] == sample_code else data

    session.channel.tamper = flip_sample_message
    result = distill_sifted(alice_key, bob_key, settings, rng, session)
    assert not result.authenticated
    assert result.net_key_bits == 0


def test_authentication_key_paid_back_from_distilled_key():
    rng = np.random.default_rng(9)
    settings = PipelineSettings()
    session = Session.start(rng, settings)
    pool_before = session.alice_auth.pool.available_bits
    alice_key = random_bits(80_000, rng)
    result = distill_sifted(alice_key, noisy_copy(alice_key, 0.02, rng), settings, rng, session)
    assert result.auth_key_bits == 2 * 2 * 64
    assert session.alice_auth.pool.available_bits == pool_before
    assert session.bob_auth.pool.available_bits == pool_before


def test_bad_inputs_name_the_field():
    with pytest.raises(ParameterError, match=r"qber = 0\.6"):
        distill_simulated(10_000, 0.6, PipelineSettings(), seed=0)
    with pytest.raises(ParameterError, match="reconciler = 'turbo': must be one of"):
        validate_parameters(PipelineSettings, {"reconciler": "turbo"})


@hypothesis_settings(max_examples=12, deadline=None)
@given(
    bits=st.integers(5_000, 40_000),
    qber=st.floats(0.0, 0.08),
    reconciler=st.sampled_from(["cascade", "cascade-original"]),
    seed=st.integers(0, 2**31),
)
def test_pipeline_invariants(bits, qber, reconciler, seed):
    """Keys always agree, no leak is negative, and the key never exceeds what the leaks leave."""
    result = distill_simulated(bits, qber, PipelineSettings(reconciler=reconciler, frame_bits=4096), seed=seed)
    summary = result.as_dict()
    assert result.keys_match
    assert all(traffic.disclosed_bits >= 0 and traffic.round_trips >= 0 for traffic in result.traffic.values())
    assert summary["leak_ec_bits"] >= 0
    assert summary["final_key_bits"] <= max(
        0, summary["reconciled_bits"] - summary["leak_ec_bits"] - summary["verification_bits"]
    )


class _ClaimingReconciler:
    """Copies Alice's frames without a message and claims ``credit`` padding bits per frame, or
    returns one frame too few."""

    def __init__(self, credit: int = 0, drop_one: bool = False) -> None:
        self.credit = credit
        self.drop_one = drop_one

    def reconcile(self, alice_frames, bob_frames, qber_estimate, settings, channel, rng):
        frames = [ReconciledFrame(frame.copy(), self.credit) for frame in alice_frames]
        return frames[:-1] if self.drop_one else frames


@pytest.mark.parametrize(
    ("reconciler", "message"),
    [
        (_ClaimingReconciler(credit=10), r"reconciler 'claiming' padding_credit = 10: must be in \[0, 0\]"),
        (_ClaimingReconciler(drop_one=True), r"reconciler 'claiming' frames = 0: must be 1 \(one per frame\)"),
    ],
)
def test_pipeline_rejects_a_reconciler_that_misreports(reconciler, message):
    """The leak is what the channel counted: a reconciler cannot credit bits it never disclosed."""
    RECONCILERS.register("claiming", reconciler)
    try:
        with pytest.raises(ParameterError, match=message):
            distill_simulated(10_000, 0.02, PipelineSettings(reconciler="claiming"), seed=0)
    finally:
        RECONCILERS.unregister("claiming")
