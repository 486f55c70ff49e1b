"""LDPC codes of the project: degree distributions, PEG construction, decoders, rate adaptation."""

import numpy as np
import pytest

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy
from qit4n.postprocess import PublicChannel, noisy_copy, random_bits
from qit4n.postprocess.ldpc import LdpcSettings, plan_frame, reconcile_ldpc
from qit4n.postprocess.ldpc_codes import (
    build_code,
    decode_min_sum,
    decode_sum_product,
    syndrome,
)
from qit4n.postprocess.ldpc_distributions import (
    DISTRIBUTIONS,
    MOTHER_RATES,
    node_degree_counts,
)
from qit4n.postprocess.ldpc_peg import peg_base_graph


@pytest.mark.parametrize("rate", MOTHER_RATES)
def test_published_distributions_give_their_rate_with_concentrated_checks(rate):
    """The node counts follow lambda (node fraction (lambda_i / i) / sum); PEG spreads the edges
    so check degrees take at most a few consecutive values, and the design rate is the table's."""
    code = build_code(8192, rate, lift=4)
    assert code.rate == pytest.approx(rate, abs=2e-3)
    check_degrees = np.bincount(code.check_of_edge, minlength=code.num_checks)
    assert check_degrees.max() - check_degrees.min() <= 3
    variable_degrees = np.bincount(code.variable_of_edge, minlength=code.num_variables)
    expected = node_degree_counts(rate, 2048, 2048)
    assert np.array_equal(np.sort(variable_degrees[::4]), np.sort(expected))
    assert set(np.unique(variable_degrees)) <= {degree for degree, _ in DISTRIBUTIONS[rate]}


def test_peg_has_no_parallel_edges_and_no_four_cycles_when_sparse():
    """On a sparse regular graph (degree 3, 600 x 300) PEG keeps local girth above 4."""
    checks, variables = peg_base_graph(np.full(600, 3), 300, seed=4)
    pairs = set(zip(checks.tolist(), variables.tolist()))
    assert len(pairs) == checks.size == 1800
    neighbours = [set() for _ in range(600)]
    for c, v in pairs:
        neighbours[v].add(c)
    shared = [len(neighbours[a] & neighbours[b]) for a in range(600) for b in range(a + 1, 600)]
    assert max(shared) <= 1


def test_lifted_code_has_no_four_cycles_and_matches_its_edge_lists():
    """The shifts close no 4-cycle in the lifted graph (no two checks share two variables), and the
    block-row syndrome kernel agrees with H x computed from the lifted edge lists."""
    code = build_code(4096, 0.7, lift=64)
    matrix = np.zeros((code.num_checks, code.num_variables), np.int64)
    matrix[code.check_of_edge, code.variable_of_edge] = 1
    assert matrix.sum() == code.num_edges
    overlaps = matrix @ matrix.T
    np.fill_diagonal(overlaps, 0)
    assert overlaps.max() <= 1
    bits = random_bits(4096, np.random.default_rng(3))
    assert np.array_equal(syndrome(code, bits), (matrix @ bits) % 2)


def test_sum_product_messages_follow_the_tanh_rule():
    """One layered iteration from zero messages on a single-row code: every message equals
    ``2 atanh(prod_{others} tanh(llr / 2))`` (Kschischang et al. 2001) to float32 accuracy, with
    input magnitudes clamped to [1e-3, 30] as documented (an erased bit, LLR 0, counts as +1e-3)."""
    from qit4n.postprocess.ldpc_codes import LdpcCode

    lift, degree = 16, 7
    code = LdpcCode(degree * lift, lift, lift, np.array([0, degree]), np.arange(degree), np.arange(degree) * 3 % lift)
    rng = np.random.default_rng(2)
    llr = rng.normal(0.0, 3.0, code.num_variables)
    llr[5] = 0.0
    target = rng.integers(0, 2, lift).astype(np.uint8)
    messages = np.zeros(code.num_edges, np.float32)
    decode_sum_product(code, llr, target, 1, messages)
    incoming = llr[code.variable_of_edge]
    t = np.tanh(np.where(incoming < 0, -1.0, 1.0) * np.clip(np.abs(incoming), 1e-3, 30) / 2).reshape(degree, lift)
    sign = 1.0 - 2.0 * target
    expected = np.array(
        [2.0 * np.arctanh(sign * np.prod(np.delete(t, j, axis=0), axis=0)) for j in range(degree)]
    ).ravel()
    assert np.allclose(messages, expected, rtol=2e-4, atol=2e-5)


def test_codes_are_deterministic_and_cached():
    first = build_code(4096, 0.7, lift=2)
    assert build_code(4096, 0.7, lift=2) is first
    build_code.cache_clear()
    again = build_code(4096, 0.7, lift=2)
    assert again is not first and np.array_equal(again.variable_of_edge, first.variable_of_edge)


def test_build_code_rejects_unpublished_rate_and_bad_length():
    with pytest.raises(ParameterError, match=r"rate = 0\.62"):
        build_code(4096, 0.62, lift=2)
    with pytest.raises(ParameterError, match="num_variables = 4097"):
        build_code(4097, 0.5, lift=2)


@pytest.mark.parametrize("decode", [decode_sum_product, decode_min_sum])
def test_decoders_correct_errors_below_threshold(decode):
    """Rate-0.7 code (threshold 0.0504 in Elkouss et al. 2009), 8192 bits, 3 % errors."""
    code = build_code(8192, 0.7, lift=4)
    rng = np.random.default_rng(5)
    x = random_bits(8192, rng)
    y = noisy_copy(x, 0.03, rng)
    decoded, iterations, converged = decode(code, (1.0 - 2.0 * y) * np.log(0.97 / 0.03), syndrome(code, x))
    assert converged and np.array_equal(decoded, x) and iterations < 80


def test_sum_product_fails_above_capacity_and_resumes_from_messages():
    """At a rate beyond capacity (h(0.07) = 0.366 > 0.3) decoding fails; the messages are kept,
    and revealing the true values of a random third of the bits (leaving 0.244 bits of entropy
    per bit of the code) then lets the decoder converge."""
    code = build_code(8192, 0.7, lift=4)
    rng = np.random.default_rng(6)
    x = random_bits(8192, rng)
    y = noisy_copy(x, 0.07, rng)
    llr = (1.0 - 2.0 * y) * np.log(0.93 / 0.07)
    messages = np.zeros(code.num_edges, np.float32)
    _, _, converged = decode_sum_product(code, llr, syndrome(code, x), 30, messages)
    assert not converged and np.any(messages != 0)
    shown = rng.permutation(8192)[: 8192 // 3]
    llr[shown] = (1.0 - 2.0 * x[shown]) * 64.0
    decoded, _, converged = decode_sum_product(code, llr, syndrome(code, x), 60, messages)
    assert converged and np.array_equal(decoded, x)


@pytest.mark.parametrize("qber", [0.01, 0.02, 0.05, 0.08, 0.11])
def test_plan_covers_one_to_eleven_percent_at_the_design_leak(qber):
    """One family: the syndrome minus the punctured bits is f_design k h(q) (rounded up; at 11 %
    the code is lengthened and rounded to its lift), and punctured plus shortened bits fill it."""
    settings = LdpcSettings()
    plan = plan_frame(100_000, qber, settings)
    checks = round((1.0 - plan.rate) * plan.length / plan.lift) * plan.lift
    assert plan.punctured + plan.shortened + 100_000 == plan.length and plan.length % plan.lift == 0
    target = np.ceil(settings.f_design * 100_000 * binary_entropy(qber))
    assert target <= checks - plan.punctured <= target + plan.lift
    assert plan.rate == (
        0.5 if qber > 0.1 else max(rate for rate in MOTHER_RATES if (1.0 - rate) * plan.length >= target)
    )


@pytest.mark.parametrize("qber", [0.01, 0.05, 0.11])
def test_reconcile_small_frames_across_the_range(qber):
    rng = np.random.default_rng(int(qber * 1000))
    alice = random_bits(6000, rng)
    bob = noisy_copy(alice, qber, rng)
    channel = PublicChannel()
    result = reconcile_ldpc(alice, bob, qber, channel, rng)
    assert result.converged and np.array_equal(result.key, alice)
    assert result.leak_bits == channel.total().disclosed_bits - result.padding_credit
    errors = int(np.count_nonzero(alice != bob))
    assert result.leak_bits >= 6000 * binary_entropy(errors / 6000) * 0.95


def test_tiny_frame_is_padded_by_shortening():
    """A 64-bit tail frame sits in a 2048-bit code, mostly shortened; revealing the bits Bob is
    least sure of (the punctured ones first) makes it converge, at a leak that counts each."""
    rng = np.random.default_rng(9)
    alice = random_bits(64, rng)
    channel = PublicChannel()
    result = reconcile_ldpc(alice, noisy_copy(alice, 0.03, rng), 0.03, channel, rng)
    assert result.converged and np.array_equal(result.key, alice)
    assert result.leak_bits == channel.total().disclosed_bits - result.padding_credit


def test_reconcile_rejects_bad_qber():
    rng = np.random.default_rng(0)
    with pytest.raises(ParameterError, match=r"qber = 0\.3"):
        reconcile_ldpc(random_bits(100, rng), random_bits(100, rng), 0.3, PublicChannel(), rng)


def test_pipeline_and_cli_with_ldpc_keep_keys_and_leak():
    """The whole stack with ``--reconciler ldpc``: frames of 20 000 bits plus a short tail, keys
    match, and the reported leak is the syndrome minus the punctured bits plus revealed bits."""
    from typer.testing import CliRunner

    from qit4n.cli import app
    from qit4n.postprocess import PipelineSettings, distill_simulated

    result = distill_simulated(50_000, 0.04, PipelineSettings(reconciler="ldpc", frame_bits=20_000), seed=3)
    summary = result.as_dict()
    assert summary["keys_match"] and summary["frame_errors"] == 0 and summary["frames"] == 3
    assert 1.0 < summary["efficiency"] < 1.3
    output = CliRunner().invoke(
        app, ["postprocess", "--qber", "0.03", "--bits", "40000", "--reconciler", "ldpc", "--json"]
    )
    assert output.exit_code == 0, output.output
    assert '"keys_match": true' in output.output and '"reconciler": "ldpc"' in output.output
