"""``qit4n postprocess`` as one typed call: simulated sifted keys through the stack, and what came out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from qit4n.postprocess.pipeline import DistillResult, PipelineSettings, distill_simulated
from qit4n.randomness import RandomnessSource
from qit4n.schema import validate_parameters
from qit4n.workload import ProgressCallback

__all__ = ["PostprocessSummary", "postprocess_simulated"]


@dataclass(frozen=True)
class PostprocessSummary:
    """A distilled block of simulated sifted bits with the settings it was run with."""

    qber: float
    reconciler: str
    amplification: str
    frame_bits: int
    result: DistillResult

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object of ``qit4n postprocess`` (a non-finite efficiency is ``null``)."""
        summary = self.result.as_dict()
        efficiency = summary["efficiency"]
        return {
            **summary,
            "qber": self.qber,
            "reconciler": self.reconciler,
            "amplification": self.amplification,
            "frame_bits": self.frame_bits,
            "efficiency": None if isinstance(efficiency, float) and not math.isfinite(efficiency) else efficiency,
        }


def postprocess_simulated(
    num_bits: int,
    qber: float,
    *,
    reconciler: str = "cascade",
    amplification: str = "modular",
    frame_bits: int | None = None,
    seed: int = 0,
    randomness: RandomnessSource | None = None,
    on_progress: ProgressCallback | None = None,
) -> PostprocessSummary:
    """Distil ``num_bits`` simulated sifted bits with errors at rate ``qber`` (see :func:`distill_simulated`);
    ``randomness`` supplies the pre-shared key and amplification seeds; ``on_progress(bits_reconciled, bits)``
    follows the reconciliation."""
    values: dict[str, Any] = {"reconciler": reconciler, "amplification": amplification}
    if frame_bits is not None:
        values["frame_bits"] = frame_bits
    settings = validate_parameters(PipelineSettings, values)
    result = distill_simulated(num_bits, qber, settings, seed, seeds=randomness, on_progress=on_progress)
    return PostprocessSummary(qber, reconciler, amplification, settings.frame_bits, result)
