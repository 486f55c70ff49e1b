"""The controller's part of a state folder: its certificate, address, scenario and fault file.

:func:`write_controller_plan` runs after :func:`qit4n.kms.launcher.write_kme_plan` and adds
``qkdn/``: ``controller.json`` (URL and port, kept so a restart answers at the same address),
``scenario.json`` (the scenario the KMEs were planned from) and the controller's server certificate
``certs/qkdn-controller.pem`` (issued with the rest by :func:`qit4n.kms.pki.ensure_certs`, or, for
a state of an offline CA, by ``qit4n kms certs issue --controller``). The
controller calls the KMEs, and clients call the controller, with the operator's certificate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qit4n.errors import InputError, ServiceError
from qit4n.kms.atrest import private_dir, write_private
from qit4n.kms.config import OPERATOR_ID, https_url
from qit4n.kms.hosts import free_port
from qit4n.kms.launcher import Network, NetworkPlan, load_plan
from qit4n.kms.pki import Entities, ensure_certs, entities_of
from qit4n.kms.tls import ContextSource, TlsFiles

if TYPE_CHECKING:
    from qit4n.scenario import Scenario

__all__ = [
    "CONTROLLER_ID",
    "CONTROLLER_MODULE",
    "ControllerPlan",
    "controller_entities",
    "load_controller_plan",
    "start_controller",
    "write_controller_plan",
]

#: Common name of the controller's server certificate.
CONTROLLER_ID = "qkdn-controller"
#: The controller process's module (``python -m``).
CONTROLLER_MODULE = "qit4n.qkdn.server"
_HOST = "127.0.0.1"


@dataclass(frozen=True)
class ControllerPlan:
    """Where the controller of a state listens, and the KME plan it controls."""

    kmes: NetworkPlan
    port: int
    host: str = _HOST

    @property
    def state_dir(self) -> Path:
        """The state folder."""
        return self.kmes.state_dir

    @property
    def url(self) -> str:
        """Base URL of the controller."""
        return https_url(self.host, self.port)

    @property
    def groups(self) -> list[str]:
        """TLS groups the KMEs use (the controller offers the same)."""
        return list(dict.fromkeys(group for config in self.kmes.configs.values() for group in config.tls_groups))

    def scenario(self) -> Scenario:
        """The scenario the KMEs were planned from."""
        from qit4n.scenario import scenario_from_dict

        return scenario_from_dict(json.loads((self.state_dir / "qkdn" / "scenario.json").read_text()))

    def _crl(self) -> Path | None:
        crl = self.state_dir / "certs" / "crl.pem"
        return crl if crl.exists() else None

    def operator_tls(self) -> ContextSource:
        """Client TLS with the operator's certificate (towards KMEs and the controller)."""
        certs = self.state_dir / "certs"
        files = TlsFiles(certs / f"{OPERATOR_ID}.pem", certs / f"{OPERATOR_ID}.key", certs / "ca.pem", self._crl())
        return ContextSource(files, self.groups, server=False)

    def server_tls(self) -> ContextSource:
        """Server TLS of the controller: its certificate, client certificates required."""
        certs = self.state_dir / "certs"
        files = TlsFiles(certs / f"{CONTROLLER_ID}.pem", certs / f"{CONTROLLER_ID}.key", certs / "ca.pem", self._crl())
        return ContextSource(files, self.groups, server=True)


def controller_entities(entities: Entities) -> Entities:
    """``entities`` (of :func:`~qit4n.kms.pki.entities_of`) with the controller's server certificate added."""
    return Entities({**entities.servers, CONTROLLER_ID: (_HOST, "localhost")}, entities.clients)


def write_controller_plan(
    scenario: Scenario, kmes: NetworkPlan, *, ca_dir: Path | None = None, port: int | None = None
) -> ControllerPlan:
    """Add the controller to a state planned by :func:`~qit4n.kms.launcher.write_kme_plan` (module docstring)."""
    state_dir = kmes.state_dir
    folder = state_dir / "qkdn"
    private_dir(folder)
    try:
        ensure_certs(state_dir / "certs", controller_entities(entities_of(kmes.configs.values())), ca_dir=ca_dir)
    except InputError as error:  # a state of an offline CA: say how to issue the controller's certificate
        raise InputError(
            f"{error}; for the QKDN controller's certificate add --controller: "
            f"`qit4n kms certs issue --ca CA_DIR --state {state_dir} --controller`"
        ) from None
    write_private(folder / "scenario.json", scenario.model_dump_json(exclude_none=True))
    saved = folder / "controller.json"
    before = json.loads(saved.read_text()) if saved.exists() else {}
    if port is None and before:
        port = int(before["port"])
    chosen = ControllerPlan(kmes, port if port is not None else free_port(_HOST))
    kept = {"settings": before["settings"]} if "settings" in before else {}
    write_private(saved, json.dumps({"url": chosen.url, "port": chosen.port, **kept}, indent=1))
    return chosen


def load_controller_plan(state_dir: Path) -> ControllerPlan:
    """The controller plan of a state written by :func:`write_controller_plan`."""
    saved = state_dir / "qkdn" / "controller.json"
    if not saved.is_file():
        raise ServiceError(
            f"--state {state_dir}: not a network state (no qkdn/controller.json: no QKDN controller planned); "
            f"start one with `qit4n network up SCENARIO --state {state_dir}`"
        )
    return ControllerPlan(load_plan(state_dir), int(json.loads(saved.read_text())["port"]))


def start_controller(network: Network, state_dir: Path) -> None:
    """Run the controller of ``state_dir`` as a supervised child of ``network`` (log ``qkdn-controller.log``)."""
    network.start_service(CONTROLLER_ID, CONTROLLER_MODULE, state_dir)
