"""The link layer: one :class:`LinkBudget` per scenario link (channel, noise, key rate, duty cycle, passes).

A run computes :func:`link_budgets` once and hands the result to ``net``, ``kms``, ``threat`` and
the CLI, so that no package above recomputes a link. Satellite pass windows and ground stations
have one path (:mod:`qit4n.links.passes`); the link layer's stage of scenario validation is
:func:`link_problems`.
"""

from qit4n.links.budget import LinkBudget, link_budget, link_budgets
from qit4n.links.checks import link_problems
from qit4n.links.passes import PeriodicPasses, ground_station, pass_windows_for_link, satellite_optics

__all__ = [
    "LinkBudget",
    "PeriodicPasses",
    "ground_station",
    "link_budget",
    "link_budgets",
    "link_problems",
    "pass_windows_for_link",
    "satellite_optics",
]
