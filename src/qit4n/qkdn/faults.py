"""Run-time faults of a running network (``qit4n network fault``): the emulated physical layer.

A fault changes what the KMEs observe, never the controller directly: ``cut LINK`` stops the key
supply of the link at both ends, ``noise LINK --classical WL:PdBm`` adds a classical DWDM channel to
the link's fibre and sets the rate and QBER that the link layer's Raman noise model
(:func:`qit4n.links.link_budget`, :mod:`qit4n.physics.raman`) gives with it (the link stops when
the QBER exceeds the abort threshold or no key is left; with ``--supply emulated`` the link's
producer distils that share of its key), ``restore LINK`` undoes both, ``kill NODE``
stops the node's KME (the ``network up`` supervisor does it) and ``restore NODE`` starts it again.
The desired fault state is kept in ``STATE/qkdn/faults.json`` (so a restarted KME or network is
told again); link conditions are sent at once to both ends' control interface
(:mod:`qit4n.kms.routers.control`) with the operator's certificate.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from qit4n.errors import InputError, ServiceError
from qit4n.kms.atrest import write_private
from qit4n.kms.config import kme_id_of

if TYPE_CHECKING:
    from qit4n.qkdn.plan import ControllerPlan
    from qit4n.scenario import Scenario

__all__ = ["Faults", "apply_fault", "noise_condition", "parse_classical", "read_faults"]

_CLASSICAL = re.compile(r"^(?P<wl>[0-9.]+):(?P<power>[-+]?[0-9.]+)dBm(?::(?P<dir>forward|backward))?$")
#: The link stops when the noisy QBER exceeds this (BB84, Shor and Preskill, PRL 85, 441 (2000)).
QBER_ABORT = 0.11


@dataclass
class Faults:
    """The fault state of a network: link ID -> condition sent to its ends, and the KMEs killed."""

    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    killed: list[str] = field(default_factory=list)


def _path(state_dir: Path) -> Path:
    return state_dir / "qkdn" / "faults.json"


def read_faults(state_dir: Path) -> Faults:
    """The fault state recorded in ``state_dir`` (none when no fault was ever given)."""
    path = _path(state_dir)
    if not path.exists():
        return Faults()
    data = json.loads(path.read_text())
    return Faults(links=data.get("links", {}), killed=data.get("killed", []))


@contextmanager
def updating_faults(state_dir: Path) -> Iterator[Faults]:
    """The recorded faults, locked against other ``network fault`` calls; written back (private) when
    the block ends without an error."""
    path = _path(state_dir)
    with os.fdopen(os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600), "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        faults = read_faults(state_dir)
        yield faults
        write_private(path, json.dumps({"links": faults.links, "killed": faults.killed}, indent=1))


def parse_classical(text: str) -> tuple[float, float, str]:
    """``1550.12:0dBm[:backward]`` -> (wavelength nm, launch power dBm, direction).

    >>> parse_classical("1550.12:0dBm")
    (1550.12, 0.0, 'forward')
    """
    match = _CLASSICAL.match(text.strip())
    if match is None:
        raise InputError(
            f"--classical = {text!r}: must be WAVELENGTH_NM:POWERdBm[:forward|backward], e.g. 1550.12:0dBm"
        )
    wavelength, power = float(match["wl"]), float(match["power"])
    if not 1260.0 <= wavelength <= 1675.0 or not -40.0 <= power <= 27.0:
        raise InputError(f"--classical = {text!r}: wavelength must lie in [1260, 1675] nm and power in [-40, 27] dBm")
    return wavelength, power, match["dir"] or "forward"


def noise_condition(scenario: Scenario, link_id: str, classical: str) -> dict[str, Any]:
    """The link condition with one more classical channel: rate share and QBER from the link budget."""
    from qit4n.links import link_budget
    from qit4n.scenario import scenario_from_dict

    index = _link_index(scenario, link_id)
    wavelength, power, direction = parse_classical(classical)
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["links"][index].setdefault("classical_channels", []).append(
        {"wavelength_nm": wavelength, "launch_power_dbm": power, "direction": direction}
    )
    try:
        noisy = link_budget(scenario_from_dict(data), index)
    except Exception as error:  # noqa: BLE001 - the model's own message names the field
        raise InputError(f"noise {link_id}: {error}") from None
    clean = link_budget(scenario, index)
    share = 0.0 if clean.key_rate_bps <= 0 else min(1.0, noisy.key_rate_bps / clean.key_rate_bps)
    qber = None if noisy.qber is None else min(0.5, float(noisy.qber))
    if qber is not None and qber > QBER_ABORT:
        share = 0.0
    return {"cut": False, "rate_factor": share, "qber": qber, "classical": classical}


def _link_index(scenario: Scenario, link_id: str) -> int:
    ids = [scenario.link_id(index) for index in range(len(scenario.links))]
    if link_id not in ids:
        raise InputError(f"LINK = {link_id!r}: no such link (links: {', '.join(ids)})")
    return ids.index(link_id)


def link_control_url(plan: ControllerPlan, kme_id: str, link_id: str) -> str:
    """The URL of a link's condition at one KME (the ID percent-encoded: ``A-B#0`` has a ``#``)."""
    return f"{plan.kmes.url(kme_id)}/kme/v1/control/links/{quote(link_id, safe='')}"


def _send(plan: ControllerPlan, link_id: str, condition: dict[str, Any]) -> None:
    """Tell both ends of a link its condition (ends that do not answer learn it when they rejoin), and
    its producer if the link's key is emulated (:func:`~qit4n.kms.emulated_supply.write_link_condition`)."""
    import httpx

    from qit4n.kms.emulated_supply import write_link_condition
    from qit4n.kms.tls_client import tls_transport

    scenario = plan.scenario()
    body = {key: condition[key] for key in ("cut", "rate_factor", "qber")}
    producers = {
        link.committed_file
        for config in plan.kmes.configs.values()
        for link in config.links
        if link.link_id == link_id and link.supply == "emulated" and link.committed_file is not None
    }
    for committed_file in producers:
        write_link_condition(committed_file, cut=condition["cut"], rate_factor=condition["rate_factor"])
    with httpx.Client(transport=tls_transport(plan.operator_tls()), timeout=5.0) as http:
        for node in scenario.links[_link_index(scenario, link_id)].endpoints:
            kme_id = kme_id_of(node)
            try:
                response = http.put(link_control_url(plan, kme_id, link_id), json=body)
            except httpx.HTTPError:
                continue
            if response.status_code != 200:
                raise ServiceError(f"{kme_id} refused the condition of {link_id}: {response.text[:200]}")


def apply_fault(plan: ControllerPlan, action: str, target: str, *, classical: str | None = None) -> dict[str, Any]:
    """Record and apply one fault (module docstring); returns what was recorded for ``target``."""
    from qit4n.qkdn.interdomain import interdomain_fault

    interdomain = interdomain_fault(plan, action, target)  # the inter-domain link (issue 13 item 7), if joined
    if interdomain is not None:
        return interdomain
    scenario = plan.scenario()
    node_ids = [node.id for node in scenario.nodes]
    with updating_faults(plan.state_dir) as faults:
        if action in ("cut", "noise") or (action == "restore" and target not in node_ids):
            _link_index(scenario, target)
            if action == "cut":
                condition: dict[str, Any] = {"cut": True, "rate_factor": 1.0, "qber": None}
            elif action == "noise":
                if classical is None:
                    raise InputError("noise: --classical WAVELENGTH_NM:POWERdBm is required")
                condition = noise_condition(scenario, target, classical)
            else:
                condition = {"cut": False, "rate_factor": 1.0, "qber": None}
            if action == "restore":
                faults.links.pop(target, None)
            else:
                faults.links[target] = condition
            _send(plan, target, condition)
            recorded = condition
        elif action in ("kill", "restore"):
            if target not in node_ids:
                raise InputError(f"NODE = {target!r}: no such node (nodes: {', '.join(node_ids)})")
            if action == "kill" and target not in faults.killed:
                faults.killed.append(target)
            if action == "restore" and target in faults.killed:
                faults.killed.remove(target)
            recorded = {"killed": target in faults.killed}
        else:
            raise InputError(f"ACTION = {action!r}: must be cut, restore, noise or kill")
    return recorded
