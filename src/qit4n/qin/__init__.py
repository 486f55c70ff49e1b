"""Quantum information networks: pair formalisms, protocols, repeater chains and networks.

Formalisms: Bell-diagonal pairs (:mod:`~qit4n.qin.bell`, the fast default), density matrices
(:mod:`~qit4n.qin.density`, :mod:`~qit4n.qin.circuits`) and stabilizer states through stim
(:mod:`~qit4n.qin.ghz`). Two engines: the vectorised Monte Carlo (:func:`simulate_chain_mc`) and
the event-driven chain on the shared kernel (:func:`simulate_chain_des`); exact waiting times of
the abstract model in :mod:`~qit4n.qin.waiting`.
"""

from qit4n.qin.abstract import abstract_waiting_time
from qit4n.qin.bell import fidelity, swap, werner
from qit4n.qin.chain import ChainParameters, ChainResult, link_model, simulate_chain_mc
from qit4n.qin.des_chain import ChainRun, ChainSimulation, simulate_chain_des
from qit4n.qin.heralded import HERALDING_SCHEMES, HeraldingScheme, barrett_kok, single_click
from qit4n.qin.memory import MemoryParameters
from qit4n.qin.midpoint import midpoint_source
from qit4n.qin.montecarlo import SwapPolicy, sample_chain
from qit4n.qin.network import NetworkRun, simulate_quantum_network
from qit4n.qin.planner import plan_chain
from qit4n.qin.purify import bbpssw, dejmps, pump
from qit4n.qin.run import ChainReport, ChainRequest, NetworkRunReport, run_chain, run_network
from qit4n.qin.teleport import average_teleportation_fidelity
from qit4n.qin.waiting import doubling_mean_waiting_time

__all__ = [
    "HERALDING_SCHEMES",
    "ChainParameters",
    "ChainReport",
    "ChainRequest",
    "ChainResult",
    "ChainRun",
    "ChainSimulation",
    "HeraldingScheme",
    "MemoryParameters",
    "NetworkRun",
    "NetworkRunReport",
    "SwapPolicy",
    "abstract_waiting_time",
    "average_teleportation_fidelity",
    "barrett_kok",
    "bbpssw",
    "dejmps",
    "doubling_mean_waiting_time",
    "fidelity",
    "link_model",
    "midpoint_source",
    "plan_chain",
    "pump",
    "run_chain",
    "run_network",
    "sample_chain",
    "simulate_chain_des",
    "simulate_chain_mc",
    "simulate_quantum_network",
    "single_click",
    "swap",
    "werner",
]
