"""qin's stage of scenario validation: the ``quantum_hardware`` block against the chain model.

Registered with :data:`qit4n.scenario.SCENARIO_CHECKS` through the entry-point group
``qit4n.scenario_checks`` (``pyproject.toml``), so a bad block fails at load time with its field
paths while the scenario package never names qin.
"""

from __future__ import annotations

from qit4n.errors import Qit4nError
from qit4n.qin.chain import ChainParameters
from qit4n.scenario.model import Scenario
from qit4n.schema import validate_parameters

__all__ = ["quantum_hardware_problems"]


def quantum_hardware_problems(scenario: Scenario) -> list[str]:
    """Problems of ``scenario.quantum_hardware``: fields of :class:`ChainParameters` except the per-path ones."""
    hardware = scenario.quantum_hardware
    problems = [
        f"quantum_hardware.{name}: set by each request's path, not by the scenario"
        for name in ("segments", "length_km")
        if name in hardware
    ]
    try:
        validate_parameters(ChainParameters, hardware, "quantum_hardware")
    except Qit4nError as error:
        problems.append(str(error))
    return problems
