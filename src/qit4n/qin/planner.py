"""Choose the repeater-chain policy with the best rate that meets a target fidelity.

The candidates are the swap policies (swap as soon as possible, nested doubling when the number of
segments is a power of two) combined with the multiplexing levels allowed by the memories; each
is evaluated with the vectorised Monte Carlo and the fastest one whose mean delivered fidelity
reaches the target wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qit4n.errors import InfeasibleError
from qit4n.qin.chain import ChainParameters, ChainResult, simulate_chain_mc
from qit4n.qin.montecarlo import Policy

__all__ = ["PlanCandidate", "plan_chain"]


@dataclass(frozen=True)
class PlanCandidate:
    """One evaluated configuration."""

    params: ChainParameters
    result: ChainResult

    @property
    def rate_pairs_per_s(self) -> float:
        return self.result.summary()["rate_pairs_per_s"]

    @property
    def fidelity_mean(self) -> float:
        return self.result.summary()["fidelity_mean"]


def plan_chain(
    base: ChainParameters, *, target_fidelity: float, samples: int, rng: np.random.Generator
) -> tuple[PlanCandidate, list[PlanCandidate]]:
    """Best candidate meeting ``target_fidelity`` and all candidates evaluated.

    Raises :class:`InfeasibleError` naming the best fidelity reached when no candidate meets it.
    """
    policies = [Policy.SWAP_ASAP]
    if base.segments & (base.segments - 1) == 0 and base.segments > 2:
        policies.append(Policy.DOUBLING)
    candidates = []
    for policy in policies:
        params = base.model_copy(update={"policy": policy})
        candidates.append(PlanCandidate(params, simulate_chain_mc(params, samples, rng)))
    feasible = [candidate for candidate in candidates if candidate.fidelity_mean >= target_fidelity]
    if not feasible:
        best = max(candidates, key=lambda candidate: candidate.fidelity_mean)
        raise InfeasibleError(
            f"--target-fidelity = {target_fidelity:g}: not reached; best mean fidelity {best.fidelity_mean:.4f} "
            f"with policy {best.params.policy.value} (try more segments, longer memory T2 or a shorter chain)"
        )
    return max(feasible, key=lambda candidate: candidate.rate_pairs_per_s), candidates
