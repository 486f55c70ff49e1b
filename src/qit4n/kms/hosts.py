"""Where the KMEs of a plan run: addresses, listening addresses and ports, and one bundle per machine.

:func:`placements` turns the ``hosts:`` map of a KMS config file (:class:`~qit4n.kms.config.KMEHost`)
into each KME's listening address, public address and port; :func:`write_bundles` writes, for each
address, the folder to copy to that machine: its KMEs' configs with paths relative to the folder
(read by :func:`~qit4n.kms.config.read_kme_config`), their certificates and their SAEs', the CA
certificate, the CRL and ``network.json``.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from qit4n.errors import InputError
from qit4n.kms.atrest import private_dir, write_private
from qit4n.kms.config import KMEConfig, KMEHost
from qit4n.kms.pki import copy_private

__all__ = ["Placement", "free_port", "placements", "write_bundles"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` (an address of this machine) that is free now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _unclaimed_port(kme_id: str, host: str, chosen: dict[str, Placement]) -> int:
    """A free port on ``host`` that no KME placed so far uses (the OS may hand a just-probed port out again)."""
    claimed = {place.port for place in chosen.values()}
    for _ in range(100):
        try:
            port = free_port(host)
        except OSError:
            raise InputError(
                f"hosts.{kme_id}.port: give a port (no free one can be probed on {host} from this machine)"
            ) from None
        if port not in claimed:
            return port
    raise InputError(f"hosts.{kme_id}.port: no free port on {host} that another KME has not taken; give one")


@dataclass(frozen=True)
class Placement:
    """Where one KME listens (``bind``), the name others use (``address``) and its port."""

    bind: str
    address: str
    port: int


def placements(kme_ids: list[str], hosts: dict[str, KMEHost], base_port: int | None) -> dict[str, Placement]:
    """KME ID -> where it runs: the ``hosts`` entry, or 127.0.0.1 with ``base_port + index`` or a free port."""
    unknown = sorted(set(hosts) - set(kme_ids))
    if unknown:
        raise InputError(f"hosts: {', '.join(unknown)}: not a KME of this scenario (KMEs: {', '.join(kme_ids)})")
    chosen: dict[str, Placement] = {}
    for index, kme_id in enumerate(kme_ids):
        where = hosts.get(kme_id, KMEHost(address="127.0.0.1"))
        bind = where.bind or where.address
        port = where.port if where.port is not None else base_port + index if base_port is not None else None
        if port is None:
            port = _unclaimed_port(kme_id, bind if bind not in ("0.0.0.0", "::") else where.address, chosen)
        chosen[kme_id] = Placement(bind, where.address, port)
    taken: dict[tuple[str, int], str] = {}
    for kme_id, place in chosen.items():
        other = taken.setdefault((place.address, place.port), kme_id)
        if other != kme_id:
            raise InputError(f"hosts.{kme_id}: {place.address}:{place.port} is already {other}'s")
    return chosen


def _relative(config: KMEConfig) -> KMEConfig:
    """``config`` with its state paths relative to a bundle folder (``certs/``, ``db/``, ``kek/``, ``audit/``)."""
    return config.model_copy(
        update={
            "database": Path("db") / config.database.name,
            "kek_file": None if config.kek_file is None else Path("kek") / config.kek_file.name,
            "audit_file": None if config.audit_file is None else Path("audit") / config.audit_file.name,
            "cert": Path("certs") / config.cert.name,
            "key": Path("certs") / config.key.name,
            "ca": Path("certs") / config.ca.name,
            "crl": None if config.crl is None else Path("certs") / config.crl.name,
        }
    )


def write_bundles(state_dir: Path, configs: dict[str, KMEConfig], places: dict[str, Placement]) -> None:
    """One folder per address under ``hosts/``: its KMEs' configs, certificates and their SAEs' certificates."""
    certs = state_dir / "certs"
    for address in dict.fromkeys(place.address for place in places.values()):
        bundle = private_dir(state_dir / "hosts" / address)
        held = [config for kme_id, config in configs.items() if places[kme_id].address == address]
        for name in ("ca.pem", "crl.pem"):
            if (certs / name).exists():
                copy_private(certs / name, bundle / "certs" / name)
        for config in held:
            for entity in (config.kme_id, *config.sae_ids):
                for suffix in (".pem", ".key"):
                    copy_private(certs / f"{entity}{suffix}", bundle / "certs" / f"{entity}{suffix}")
            write_private(bundle / f"{config.kme_id}.json", _relative(config).model_dump_json(indent=1))
        copy_private(state_dir / "network.json", bundle / "network.json")
