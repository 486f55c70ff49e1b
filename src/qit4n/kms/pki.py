"""Certificates of a KMS state folder: issue, check, rotate and revoke them without the CA key online.

A state folder's ``certs/`` holds the CA certificate (``ca.pem``), the CRL (``crl.pem``) and one
certificate and key per KME, SAE and the operator; never the CA key. Two ways to fill it:

- **offline CA** (deployments): ``qit4n kms certs init --ca DIR`` creates a CA in a folder that can
  live on another machine; ``kms plan``/``kms certs issue|rotate|revoke --ca DIR --state STATE``
  write certificates and CRLs into the state. ``kms up`` and ``kms serve`` only read them.
- **throwaway CA** (zero-config development): ``kms up`` on a state without certificates creates a
  CA in memory, issues every certificate, and forgets the CA key. When a certificate is later
  missing, expiring or lacks a host name, ``kms up`` replaces the whole set with a new throwaway CA
  (it starts every KME itself, so nothing holds the old CA); revocation needs an offline CA.

:func:`publish` copies the CA certificate, the CRL and each KME's and SAE's files into the
per-host bundles (``hosts/<address>/``) that :func:`qit4n.kms.launcher.write_kme_plan` writes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from qit4n.errors import InputError
from qit4n.kms.atrest import private_dir
from qit4n.kms.certs import (
    DEFAULT_CERT_DAYS,
    DEFAULT_CRL_DAYS,
    THROWAWAY_CA_NAME,
    CertificateAuthority,
    CertPaths,
    certificate_info,
    replace_private,
)
from qit4n.kms.config import OPERATOR_ID, KMEConfig

__all__ = [
    "CertRow",
    "Entities",
    "copy_private",
    "describe",
    "ensure_certs",
    "entities_of",
    "is_throwaway",
    "publish",
    "revoke",
    "revoked_serials",
    "rotate",
    "server_names",
]

#: A throwaway set is replaced when a certificate has less than this share of its lifetime left.
_RENEW_SHARE = 1.0 / 3.0


@dataclass(frozen=True)
class Entities:
    """Who needs a certificate: each KME with the host names it is reached by, and the client-only entities."""

    servers: dict[str, tuple[str, ...]]
    clients: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        """Every entity, KMEs first."""
        return [*self.servers, *self.clients]


def server_names(config: KMEConfig) -> tuple[str, ...]:
    """The names a KME's certificate must carry: its public host, its listening address unless it is a
    wildcard, and ``localhost`` beside a loopback address."""
    names = [config.public_host or config.host, config.host]
    if any(_is_loopback(name) for name in names):
        names.append("localhost")
    return tuple(dict.fromkeys(name for name in names if name not in ("0.0.0.0", "::")))


def _is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def entities_of(configs: Iterable[KMEConfig]) -> Entities:
    """The entities of a network: its KMEs (with :func:`server_names`), its SAEs and the operator."""
    configs = list(configs)
    directory = configs[0].directory if configs else {}
    return Entities({config.kme_id: server_names(config) for config in configs}, (*sorted(directory), OPERATOR_ID))


def _paths(certs: Path, entity: str) -> CertPaths:
    return CertPaths(certs / f"{entity}.pem", certs / f"{entity}.key", certs / "ca.pem")


def is_throwaway(certs: Path) -> bool:
    """True if ``certs/ca.pem`` is missing or belongs to a throwaway CA (no CA key exists anywhere)."""
    return not (certs / "ca.pem").exists() or certificate_info(certs / "ca.pem").entity == THROWAWAY_CA_NAME


def _stale(certs: Path, entities: Entities, *, renew_days: float) -> dict[str, str]:
    """Entity -> why its certificate must be (re)issued: missing, expiring, or lacking a host name."""
    if not (certs / "ca.pem").exists():
        return dict.fromkeys(entities.names, "no CA certificate")
    authority = certificate_info(certs / "ca.pem").subject
    reasons = {}
    for entity in entities.names:
        paths = _paths(certs, entity)
        if not paths.cert.exists() or not paths.key.exists():
            reasons[entity] = "missing"
            continue
        info = certificate_info(paths.cert)
        if info.issuer != authority:
            reasons[entity] = "issued by another CA"
        if info.expires_within(renew_days):
            reasons[entity] = f"expires {info.not_after:%Y-%m-%d %H:%M} UTC"
        missing = [host for host in entities.servers.get(entity, ()) if not info.covers(host)]
        if missing:
            reasons[entity] = f"does not name {', '.join(missing)}"
    return reasons


def _issue(ca: CertificateAuthority, certs: Path, entities: Entities, chosen: list[str], days: float) -> None:
    for entity in chosen:
        hosts = entities.servers.get(entity, ())
        ca.issue(certs, entity, server=entity in entities.servers, hosts=hosts, days=days)


def _same_ca(certs: Path, ca: CertificateAuthority) -> bool:
    """True if the state's ``ca.pem`` is ``ca``'s certificate."""
    return (certs / "ca.pem").is_file() and (certs / "ca.pem").read_bytes() == ca.cert_pem


def ensure_certs(
    certs: Path,
    entities: Entities,
    *,
    ca_dir: Path | None = None,
    days: float = DEFAULT_CERT_DAYS,
    crl_days: float = DEFAULT_CRL_DAYS,
) -> list[str]:
    """Make sure every entity has a valid certificate in ``certs``; returns the entities (re)issued now.

    With ``ca_dir`` the offline CA there issues what is missing, expired or lacks a host name (and
    the CRL is refreshed). Without it, a throwaway state is renewed as a whole (module docstring);
    a state of an offline CA that needs a certificate raises InputError naming the command to run.
    """
    private_dir(certs)
    if (certs / "ca.key").exists():  # a state from before the offline CA: its CA key is dropped, the set renewed
        (certs / "ca.key").unlink()
        (certs / "ca.pem").unlink(missing_ok=True)
    if ca_dir is not None:
        ca = CertificateAuthority.load(ca_dir)
        if (certs / "ca.pem").exists() and not _same_ca(certs, ca):
            stale = dict.fromkeys(entities.names, "issued by another CA")
        else:
            stale = _stale(certs, entities, renew_days=0.0)
        _issue(ca, certs, entities, list(stale), days)
        replace_private(certs / "crl.pem", ca.write_crl(days=crl_days))
    elif is_throwaway(certs):
        stale = _stale(certs, entities, renew_days=days * _RENEW_SHARE)
        if stale:
            ca = CertificateAuthority.create(None, common_name=THROWAWAY_CA_NAME, days=days)
            _issue(ca, certs, entities, entities.names, days)
            return entities.names
    else:
        stale = _stale(certs, entities, renew_days=0.0)
        if stale:
            listed = "; ".join(f"{entity}: {why}" for entity, why in stale.items())
            raise InputError(
                f"{certs}: certificates need the offline CA ({listed}); run "
                f"`qit4n kms certs issue --ca CA_DIR --state {certs.parent}`"
            )
    return list(stale) if ca_dir is not None else []


def rotate(
    state_dir: Path,
    entities: Entities,
    ca_dir: Path,
    *,
    chosen: list[str] | None = None,
    within_days: float | None = None,
    days: float = DEFAULT_CERT_DAYS,
    crl_days: float = DEFAULT_CRL_DAYS,
) -> list[str]:
    """Re-issue certificates (``chosen``, or all; with ``within_days`` only those ending sooner) and the
    CRL, replacing each file atomically; returns the entities re-issued."""
    certs = state_dir / "certs"
    ca = CertificateAuthority.load(ca_dir)
    unknown = sorted(set(chosen or ()) - set(entities.names))
    if unknown:
        raise InputError(f"{', '.join(unknown)}: not an entity of {state_dir} (entities: {', '.join(entities.names)})")
    selected = list(chosen or entities.names)
    if not _same_ca(certs, ca):  # a new CA: every certificate must move to it at once
        selected = entities.names
    elif within_days is not None:
        stale = _stale(certs, entities, renew_days=within_days)
        selected = [entity for entity in selected if entity in stale]
    _issue(ca, certs, entities, selected, days)
    replace_private(certs / "crl.pem", ca.write_crl(days=crl_days))
    publish(state_dir)
    return selected


def revoke(
    state_dir: Path, ca_dir: Path, *, entities: list[str], serials: list[int], crl_days: float = DEFAULT_CRL_DAYS
) -> list[int]:
    """Revoke certificates with the offline CA and publish the new CRL into the state; returns the serials."""
    ca = CertificateAuthority.load(ca_dir)
    if not _same_ca(state_dir / "certs", ca):
        raise InputError(
            f"--state {state_dir}: its certificates come from another CA than --ca {ca_dir}; "
            f"its CRL would make every KME refuse every peer (move the state to this CA with `kms certs issue`)"
        )
    revoked = ca.revoke(entities=entities, serials=serials)
    private_dir(state_dir / "certs")
    replace_private(state_dir / "certs" / "crl.pem", ca.write_crl(days=crl_days))
    publish(state_dir)
    return revoked


def publish(state_dir: Path) -> None:
    """Copy ``ca.pem``, ``crl.pem`` and the files of each bundle's entities from ``certs/`` into
    every ``hosts/<address>/certs/`` bundle (atomically, mode 0600)."""
    certs = state_dir / "certs"
    hosts = state_dir / "hosts"
    if not hosts.is_dir():
        return
    for bundle in sorted(path / "certs" for path in hosts.iterdir() if (path / "certs").is_dir()):
        for held in sorted(bundle.iterdir()):
            source = certs / held.name
            if source.is_file() and not held.name.startswith("."):
                replace_private(held, source.read_bytes())
        if (certs / "crl.pem").exists() and not (bundle / "crl.pem").exists():
            replace_private(bundle / "crl.pem", (certs / "crl.pem").read_bytes())


class CertRow(TypedDict):
    """One certificate of a state, as ``qit4n kms certs show`` lists it."""

    entity: str
    serial: str
    not_after: str
    names: list[str]
    revoked: bool


def describe(certs: Path) -> list[CertRow]:
    """One row per entity certificate in ``certs``: entity, serial (hex), expiry, names, revoked by ``crl.pem``."""
    revoked = revoked_serials(certs / "crl.pem")
    rows: list[CertRow] = []
    for path in sorted(certs.glob("*.pem")):
        if path.name in ("ca.pem", "crl.pem"):
            continue
        info = certificate_info(path)
        rows.append(
            {
                "entity": info.entity,
                "serial": format(info.serial, "x"),
                "not_after": f"{info.not_after:%Y-%m-%d %H:%M}",
                "names": list(info.names),
                "revoked": info.serial in revoked,
            }
        )
    return rows


def revoked_serials(crl: Path) -> set[int]:
    """The serial numbers a PEM CRL lists (empty if there is no CRL)."""
    from cryptography import x509

    if not crl.exists():
        return set()
    return {entry.serial_number for entry in x509.load_pem_x509_crl(crl.read_bytes())}


def copy_private(source: Path, target: Path) -> None:
    """Copy one file atomically with mode 0600."""
    private_dir(target.parent)
    replace_private(target, source.read_bytes())
