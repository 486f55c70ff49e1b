"""Quantum information networks: entangled-pair formalisms, protocols, repeater chains and networks."""

from qit4n.qin.bell import werner

__all__ = ["werner"]
