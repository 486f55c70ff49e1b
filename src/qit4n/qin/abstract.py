"""Waiting time of the abstract chain model: exact where a solution exists, sampled otherwise.

The front door of the ``qit4n qin chain --link-success-probability`` command. Methods, in order of
preference: ``closed-form`` (two segments, or deterministic swaps), ``markov-chain`` (doubling up
to :data:`~qit4n.qin.waiting.MAX_EXACT_SEGMENTS` segments) and ``monte-carlo``.
"""

from __future__ import annotations

import numpy as np

from qit4n.errors import ParameterError
from qit4n.qin import waiting
from qit4n.qin.montecarlo import SwapPolicy, sample_chain

__all__ = ["MIN_SAMPLED_SUCCESS", "abstract_waiting_time"]

#: Smallest ``p a^levels`` sampled: the mean (~1/(p a^levels) attempts) stays far below 2^63.
MIN_SAMPLED_SUCCESS = 1e-15


def abstract_waiting_time(
    *,
    segments: int,
    link_success_probability: float,
    swap_success_probability: float,
    policy: SwapPolicy | str = SwapPolicy.DOUBLING,
    samples: int = 100_000,
    rng: np.random.Generator,
) -> dict[str, float | int | str]:
    """Mean waiting time in attempts (and p99, standard error when sampled) with the method used.

    >>> result = abstract_waiting_time(segments=2, link_success_probability=0.5, swap_success_probability=0.5,
    ...                                rng=np.random.default_rng(0))
    >>> result["method"], round(result["waiting_time_mean_attempts"], 4)
    ('closed-form', 5.3333)
    """
    waiting.check_probabilities(link_success_probability, swap_success_probability)
    if segments < 1:
        raise ParameterError(f"segments = {segments}: must be >= 1")
    policy = SwapPolicy(policy)
    p, a = link_success_probability, swap_success_probability
    result: dict[str, float | int | str] = {
        "segments": segments,
        "link_success_probability": p,
        "swap_success_probability": a,
        "policy": policy.value,
    }
    power_of_two = segments & (segments - 1) == 0
    if a == 1.0:
        result["method"] = "closed-form"
        result["waiting_time_mean_attempts"] = waiting.mean_waiting_time_deterministic_swaps(segments, p)
    elif policy is SwapPolicy.DOUBLING and segments == 2:
        result["method"] = "closed-form"
        result["waiting_time_mean_attempts"] = waiting.mean_waiting_time_two_segments(p, a)
    elif policy is SwapPolicy.DOUBLING and power_of_two and segments <= waiting.MAX_EXACT_SEGMENTS:
        result["method"] = "markov-chain"
        result["waiting_time_mean_attempts"] = waiting.doubling_mean_waiting_time(segments, p, a)
    else:
        levels = max(segments - 1, 1).bit_length()
        if p * a**levels < MIN_SAMPLED_SUCCESS:
            raise ParameterError(
                f"link_success_probability = {p:g}: sampling {segments} segments needs p * a^{levels} >= "
                f"{MIN_SAMPLED_SUCCESS:g} (longer waits overflow 64-bit attempt counters)"
            )
        drawn = sample_chain(
            rng, samples, segments=segments, link_success_probability=p, swap_success_probability=a, policy=policy
        )
        result["method"] = "monte-carlo"
        result["waiting_time_mean_attempts"] = float(drawn.waiting_steps.mean())
        result["standard_error_attempts"] = float(drawn.waiting_steps.std() / np.sqrt(samples))
        result["waiting_time_p99_attempts"] = float(np.quantile(drawn.waiting_steps, 0.99))
        result["samples"] = samples
        return result
    if a == 1.0:
        result["waiting_time_p99_attempts"] = waiting.deterministic_swaps_waiting_time_quantile(segments, p, 0.99)
    elif policy is SwapPolicy.DOUBLING and power_of_two and segments <= waiting.MAX_EXACT_SEGMENTS:
        result["waiting_time_p99_attempts"] = waiting.doubling_waiting_time_quantile(segments, p, a, 0.99)
    return result
