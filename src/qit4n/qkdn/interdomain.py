"""Inter-domain operation (issue 13 item 7): the bilateral agreement, its plan, faults and controller view.

Two operators, each running ``qit4n network up SCENARIO --state DIR --interconnect AGREEMENT.yaml``
with their own scenario, state folder, CA and controller, join their networks through one gateway
node each under one agreement file (:class:`Agreement`): the two domains (gateway node, address of
its inter-domain interface, CA certificate, SAEs offered to the other domain), the inter-domain
QKD link (any scenario link fields; its key rate comes from the link layer like any other link's)
and the policy (which master SAEs may get keys shared with which slave SAEs, and how many bits per
hour). :func:`apply_agreement` adds it to a domain's KME plan (:mod:`qit4n.kms.interconnect`
settings; the runtime is :mod:`qit4n.kms.gateway`). The controller shows the interconnection
(:class:`InterdomainState`, raising an alarm while the link is down); ``qit4n network fault cut
LINK`` cuts this domain's end of the inter-domain link (:func:`interdomain_fault`).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from qit4n.errors import InputError, ServiceError
from qit4n.kms.atrest import private_dir, write_private
from qit4n.kms.config import LinkConfig, https_url, kme_id_of
from qit4n.kms.interconnect import GatewaySettings, InterdomainConfig, PolicyRule
from qit4n.kms.launcher import NetworkPlan
from qit4n.schema import StrictModel

if TYPE_CHECKING:
    from qit4n.qkdn.plan import ControllerPlan
    from qit4n.scenario import Scenario

__all__ = [
    "Agreement",
    "DomainEntry",
    "InterdomainState",
    "InterdomainView",
    "apply_agreement",
    "forget_agreement",
    "interdomain_fault",
    "load_agreement",
]

_PLAN_FILE = "interconnect.json"


class DomainEntry(StrictModel):
    """One domain of the agreement."""

    gateway: str = Field(min_length=1, max_length=64, description="the gateway node (a node of the domain's scenario)")
    address: str = Field(
        pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$",
        description="HOST:PORT of the gateway's inter-domain interface (HOST: a name of the gateway's certificate)",
    )
    ca: Path = Field(description="the domain's CA certificate (PEM), as the other domain's operator received it")
    saes: list[str] = Field(min_length=1, description="the domain's SAEs the other domain may reach")

    @field_validator("address")
    @classmethod
    def _port(cls, value: str) -> str:
        if not 1 <= int(value.rsplit(":", 1)[1]) <= 65535:
            raise ValueError(f"{value!r}: the port must lie in [1, 65535]")
        return value

    @property
    def host(self) -> str:
        """HOST of ``address``."""
        return self.address.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        """PORT of ``address``."""
        return int(self.address.rsplit(":", 1)[1])


class InterdomainLink(StrictModel):
    """The inter-domain QKD link: its ID, the file of its shared seed, and scenario link fields."""

    model_config = ConfigDict(extra="allow", frozen=True, validate_default=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:#-]+$")
    secret_file: Path = Field(
        description="32 bytes as 64 hex digits, the same file content on both sides: the seed of the modelled key "
        "supply, standing in for the key the link's QKD devices share"
    )

    def scenario_fields(self) -> dict[str, Any]:
        """The scenario link fields given (``length_km``, ``protocol``, ``key_rate_bps``, ...)."""
        return {key: value for key, value in (self.model_extra or {}).items() if key != "endpoints"}


class Agreement(StrictModel):
    """A bilateral interconnection agreement (YAML); see docs/network.md, "Inter-domain operation"."""

    agreement: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$", description="its ID")
    domains: dict[str, DomainEntry] = Field(description="exactly two domains, by name")
    link: InterdomainLink
    policy: list[PolicyRule] = Field(default_factory=list, description="rules; a pair no rule matches is refused")

    @model_validator(mode="after")
    def _consistent(self) -> Agreement:
        if len(self.domains) != 2:
            raise ValueError(f"domains: {len(self.domains)} given, an agreement joins exactly two")
        (name_a, a), (name_b, b) = self.domains.items()
        if a.gateway == b.gateway:
            raise ValueError(f"domains.{name_b}.gateway = {b.gateway!r}: must differ from domains.{name_a}.gateway")
        shared = sorted(set(a.saes) & set(b.saes))
        if shared:
            raise ValueError(f"domains.{name_b}.saes: {shared} are also SAEs of {name_a}; SAE IDs must be distinct")
        for index, rule in enumerate(self.policy):
            masters = {name for name, entry in self.domains.items() if _matches(rule.master, entry.saes)}
            slaves = {name for name, entry in self.domains.items() if _matches(rule.slave, entry.saes)}
            if len(masters) != 1:
                raise ValueError(
                    f"policy[{index}].master = {rule.master!r}: must match SAEs of exactly one domain (matches "
                    f"{len(masters)})"
                )
            if slaves != {name_a, name_b} - masters:
                raise ValueError(
                    f"policy[{index}].slave = {rule.slave!r}: must match SAEs of the other domain only "
                    f"({', '.join(sorted({name_a, name_b} - masters))})"
                )
        return self

    def sides(self, domain: str) -> tuple[DomainEntry, str, DomainEntry]:
        """(this domain's entry, the peer domain's name, its entry)."""
        if domain not in self.domains:
            names = ", ".join(self.domains)
            raise InputError(f"--domain = {domain!r}: not a domain of the agreement (domains: {names})")
        peer = next(name for name in self.domains if name != domain)
        return self.domains[domain], peer, self.domains[peer]


def _matches(pattern: str, sae_ids: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(sae_id, pattern) for sae_id in sae_ids)


def load_agreement(path: Path) -> Agreement:
    """The agreement file, validated; relative paths are taken from its folder. InputError names the field."""
    import yaml

    from qit4n.schema import validate_document

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"--interconnect {path}: cannot read it ({type(error).__name__})") from None
    agreement = validate_document(Agreement, data, f"--interconnect {path}", "agreement, domains, link and policy")
    base = path.parent.resolve()
    domains = {name: entry.model_copy(update={"ca": base / entry.ca}) for name, entry in agreement.domains.items()}
    link = agreement.link.model_copy(update={"secret_file": base / agreement.link.secret_file})
    return agreement.model_copy(update={"domains": domains, "link": link})


def _secret(agreement: Agreement) -> str:
    path = agreement.link.secret_file
    try:
        secret = path.read_text().strip().lower()
    except OSError:
        raise InputError(
            f"link.secret_file = {path}: cannot read it; both operators put the same 64 hex digits there "
            "(e.g. `openssl rand -hex 32`)"
        ) from None
    if len(secret) != 64 or any(char not in "0123456789abcdef" for char in secret):
        raise InputError(f"link.secret_file = {path}: must hold 32 bytes as 64 hex digits")
    return secret


def _link_rate(agreement: Agreement, ends: tuple[str, str]) -> tuple[float, float]:
    """(key rate bit/s, pool capacity bits) of the inter-domain link, from the link layer."""
    from qit4n.errors import ScenarioError
    from qit4n.kms.routes import kme_network
    from qit4n.scenario import scenario_from_dict

    data = {
        "name": f"{agreement.agreement}-link",
        "nodes": [{"id": ends[0]}, {"id": ends[1]}],
        "links": [{**agreement.link.scenario_fields(), "id": agreement.link.id, "endpoints": list(ends)}],
    }
    try:
        scenario = scenario_from_dict(data, source="link")
    except ScenarioError as error:
        problems = [line.strip().replace("links[0].", "link.") for line in str(error).splitlines()[1:]]
        raise InputError(f"--interconnect: {'; '.join(problems) or error}") from None
    return kme_network(scenario).rates_bps[0], scenario.links[0].pool_capacity_bits


def apply_agreement(scenario: Scenario, plan: NetworkPlan, agreement: Agreement, domain: str) -> NetworkPlan:
    """Add the interconnection to a domain's KME plan (module docstring) and rewrite its KME configs.

    Every KME learns the peer domain's SAEs at this domain's gateway; the gateway KME gets the
    inter-domain link, the peer gateway's address and CA, and the policy. InputError names the
    field of the agreement that does not fit the scenario.
    """
    local, peer_name, peer = agreement.sides(domain)
    node_ids = [node.id for node in scenario.nodes]
    if local.gateway not in node_ids:
        raise InputError(
            f"--interconnect: domains.{domain}.gateway = {local.gateway!r} is not a node of {scenario.name} "
            f"(nodes: {', '.join(node_ids)})"
        )
    directory = plan.directory
    unknown = [sae for sae in local.saes if sae not in directory]
    if unknown:
        raise InputError(f"--interconnect: domains.{domain}.saes: {unknown} are not SAEs of {scenario.name}")
    clash = sorted(set(peer.saes) & set(directory))
    if clash:
        raise InputError(f"--interconnect: domains.{peer_name}.saes: {clash} are also SAEs of {scenario.name}")
    gateway_kme, peer_kme = kme_id_of(local.gateway), kme_id_of(peer.gateway)
    if peer_kme in plan.configs:
        raise InputError(f"--interconnect: domains.{peer_name}.gateway = {peer.gateway!r} is also a node here")
    ends = tuple(sorted((local.gateway, peer.gateway)))
    rate_bps, capacity_bits = _link_rate(agreement, (ends[0], ends[1]))
    state_dir = plan.state_dir
    private_dir(state_dir / "interdomain")
    gateway = GatewaySettings(
        link_id=agreement.link.id,
        peer_kme_id=peer_kme,
        peer_url=https_url(peer.host, peer.port),
        listen_host=local.host,
        listen_port=local.port,
        peer_ca=peer.ca,
        rules=agreement.policy,
        ledger_file=state_dir / "interdomain" / f"{agreement.agreement}.ledger.jsonl",
    )
    link = LinkConfig(
        link_id=agreement.link.id,
        peer_kme_id=peer_kme,
        key_rate_bps=rate_bps,
        pool_capacity_bits=capacity_bits,
        secret_hex=_secret(agreement),
        parity=ends.index(local.gateway),
    )
    view = InterdomainConfig(
        agreement=agreement.agreement,
        domain=domain,
        peer_domain=peer_name,
        gateway_kme_id=gateway_kme,
        remote_sae_ids=list(peer.saes),
    )
    configs = {}
    for kme_id, config in plan.configs.items():
        update: dict[str, Any] = {
            "directory": {**config.directory, **dict.fromkeys(peer.saes, gateway_kme)},
            "interdomain": view.model_copy(update={"gateway": gateway}) if kme_id == gateway_kme else view,
        }
        if kme_id == gateway_kme:
            update["links"] = [*config.links, link]
        configs[kme_id] = config.model_copy(update=update)
        write_private(state_dir / "kme" / f"{kme_id}.json", configs[kme_id].model_dump_json(indent=1))
    summary = {
        "agreement": agreement.agreement,
        "domain": domain,
        "peer_domain": peer_name,
        "gateway": local.gateway,
        "gateway_kme_id": gateway_kme,
        "peer_gateway_kme_id": peer_kme,
        "link_id": agreement.link.id,
        "key_rate_bps": rate_bps,
        "pool_capacity_bits": capacity_bits,
        "remote_sae_ids": list(peer.saes),
    }
    private_dir(state_dir / "qkdn")
    write_private(state_dir / "qkdn" / _PLAN_FILE, json.dumps(summary, indent=1))
    return NetworkPlan(state_dir, configs, plan.producers)


def forget_agreement(state_dir: Path) -> None:
    """A state started without ``--interconnect``: drop the controller's record of an earlier agreement."""
    (state_dir / "qkdn" / _PLAN_FILE).unlink(missing_ok=True)


def _summary(state_dir: Path) -> dict[str, Any] | None:
    path = state_dir / "qkdn" / _PLAN_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def interdomain_fault(plan: ControllerPlan, action: str, target: str) -> dict[str, Any] | None:
    """``cut`` or ``restore`` this domain's end of the inter-domain link ``target``; None if ``target`` is not it.

    Recorded in ``STATE/qkdn/faults.json`` like any link fault (so the controller tells a gateway KME
    that restarts) and sent to the gateway KME's control interface. The peer domain's end is its
    operator's: its gateway refuses transfers while this end is cut.
    """
    import httpx

    from qit4n.kms.tls_client import tls_transport
    from qit4n.qkdn.faults import link_control_url, updating_faults

    summary = _summary(plan.state_dir)
    if summary is None or target != summary["link_id"]:
        return None
    if action not in ("cut", "restore"):
        raise InputError(f"{action} {target}: the inter-domain link takes cut and restore only")
    condition: dict[str, Any] = {"cut": action == "cut", "rate_factor": 1.0, "qber": None}
    with updating_faults(plan.state_dir) as faults:
        if action == "cut":
            faults.links[target] = condition
        else:
            faults.links.pop(target, None)
        url = link_control_url(plan, summary["gateway_kme_id"], target)
        with httpx.Client(transport=tls_transport(plan.operator_tls()), timeout=5.0) as http:
            try:
                response = http.put(url, json=condition)
            except httpx.HTTPError:
                response = None
        if response is not None and response.status_code != 200:
            raise ServiceError(f"{summary['gateway_kme_id']} refused the condition of {target}: {response.text[:200]}")
    return condition


class InterdomainState(StrictModel):
    """The interconnection as a domain's controller sees it (``interdomain`` of ``GET /qkdn/v1/state``)."""

    agreement: str
    domain: str
    peer_domain: str
    gateway: str = Field(description="this domain's gateway node")
    gateway_kme_id: str
    peer_gateway_kme_id: str
    link_id: str = Field(description="the inter-domain QKD link")
    state: str = Field(description="up, or down (this end cut, or the gateway KME does not answer)")
    reason: str = ""
    key_rate_bps: float = Field(ge=0.0)
    pool_bits: float = Field(ge=0.0)
    pool_capacity_bits: float = Field(ge=0.0)
    remote_sae_ids: list[str]
    peer_ca_installed: bool = False
    listening: bool = False
    peer_error: str | None = Field(None, description="why the peer gateway's last call failed, if it did")
    counters: dict[str, int] = Field(default_factory=dict, description="policy decisions and keys carried")
    rules: list[dict[str, Any]] = Field(default_factory=list, description="the policy, with each rule's use this hour")


class InterdomainView:
    """The controller's view of the interconnection, from its gateway KME's control report."""

    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        self.current: InterdomainState | None = None

    @classmethod
    def load(cls, state_dir: Path) -> InterdomainView | None:
        """The view of a state joined by ``--interconnect``, else None."""
        summary = _summary(state_dir)
        return None if summary is None else cls(summary)

    def update(self, reports: dict[str, dict[str, Any] | None], event: Callable[..., None]) -> None:
        """Read the gateway's report; ``event(kind, source, **detail)`` when the link changes state."""
        summary = self.summary
        report = reports.get(summary["gateway_kme_id"])
        link = (report or {}).get("links", {}).get(summary["link_id"], {})
        gateway = ((report or {}).get("interdomain") or {}).get("gateway") or {}
        if report is None:
            state, reason = "down", "the gateway KME does not answer"
        elif link.get("cut"):
            state, reason = "down", "cut"
        else:
            state, reason = "up", ""
        was = None if self.current is None else self.current.state
        if was != state:
            event(f"interdomain-link-{state}", f"link:{summary['link_id']}", reason=reason)
        self.current = InterdomainState(
            agreement=summary["agreement"],
            domain=summary["domain"],
            peer_domain=summary["peer_domain"],
            gateway=summary["gateway"],
            gateway_kme_id=summary["gateway_kme_id"],
            peer_gateway_kme_id=summary["peer_gateway_kme_id"],
            link_id=summary["link_id"],
            state=state,
            reason=reason,
            key_rate_bps=float(link.get("key_rate_bps", 0.0)) if state == "up" else 0.0,
            pool_bits=float(link.get("pool_bits", 0.0)),
            pool_capacity_bits=float(summary["pool_capacity_bits"]),
            remote_sae_ids=summary["remote_sae_ids"],
            peer_ca_installed=bool(gateway.get("peer_ca_installed", False)),
            listening=bool(gateway.get("listening", False)),
            peer_error=gateway.get("peer_error"),
            counters=gateway.get("counters", {}),
            rules=gateway.get("rules", []),
        )

    def dump(self) -> dict[str, Any] | None:
        """The current view as JSON data (None before the first update)."""
        return None if self.current is None else self.current.model_dump(mode="json")

    def alarm(self) -> tuple[str, str, str] | None:
        """(source, kind, text) of a major alarm while the inter-domain link is down, else None."""
        current = self.current
        if current is None or current.state == "up":
            return None
        return (
            f"link:{current.link_id}",
            "down",
            f"inter-domain link {current.link_id} to {current.peer_domain} down ({current.reason})",
        )
