"""Discrete-event kernel shared by the key-pool simulator (:mod:`qit4n.net`) and the quantum-network
simulator (:mod:`qit4n.qin`)."""

from qit4n.des.kernel import Event, Kernel
from qit4n.des.units import PS_PER_HOUR, PS_PER_MS, PS_PER_NS, PS_PER_S, PS_PER_US, ps_to_seconds, seconds_to_ps

__all__ = [
    "PS_PER_HOUR",
    "PS_PER_MS",
    "PS_PER_NS",
    "PS_PER_S",
    "PS_PER_US",
    "Event",
    "Kernel",
    "ps_to_seconds",
    "seconds_to_ps",
]
