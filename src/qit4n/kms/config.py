"""Configuration of one KME, and the naming rule that maps a scenario onto KMEs and SAEs.

Naming rule: every node ``X`` of a scenario runs a KME with ID ``KME-X``; every node whose role is
``user`` also hosts one SAE, ``SAE-X``, attached to ``KME-X``. Trusted relays host a KME only.
Each QKD link joins the KMEs of its two endpoints with a key pool.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from qit4n.kms.interconnect import InterdomainConfig
from qit4n.kms.tls import CLASSICAL_TLS_GROUPS, DEFAULT_TLS_GROUPS, PQ_TLS_GROUPS
from qit4n.schema import StrictModel

__all__ = [
    "OPERATOR_ID",
    "HostName",
    "KMEConfig",
    "KMEHost",
    "KMSSettings",
    "LinkConfig",
    "Pkcs11Kek",
    "SAEQuota",
    "https_url",
    "kme_id_of",
    "read_kme_config",
    "sae_id_of",
]

#: Common name of the operator's client certificate: the only non-KME caller of a KME's health endpoint.
OPERATOR_ID = "qit4n-operator"


_DNS_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"^(?=.{{1,253}}$){_DNS_LABEL}(\.{_DNS_LABEL})*$")


def _host_name(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        if not _DNS_NAME.match(value):
            raise ValueError(f"{value!r}: must be an IP address or a DNS host name (RFC 1123)") from None
        return value.lower()


#: An IP address (v4 or v6) or a DNS host name, normalised (lower case, canonical address form).
HostName = Annotated[str, AfterValidator(_host_name)]


def https_url(host: str, port: int) -> str:
    """``https://HOST:PORT``, with an IPv6 address in brackets."""
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def kme_id_of(node_id: str) -> str:
    """The KME ID of a scenario node, e.g. ``KME-SIE``."""
    return f"KME-{node_id}"


def sae_id_of(node_id: str) -> str:
    """The SAE ID hosted at a user node, e.g. ``SAE-SIE``."""
    return f"SAE-{node_id}"


class LinkConfig(StrictModel):
    """One QKD link seen from one of its ends."""

    link_id: str = Field(min_length=1)
    peer_kme_id: str = Field(min_length=1)
    key_rate_bps: float = Field(ge=0.0)
    pool_capacity_bits: float = Field(gt=0.0)
    secret_hex: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="seed of the modelled key supply, shared by both ends"
    )
    parity: Literal[0, 1] = Field(description="this end owns the pool units whose index % 2 equals parity")
    supply: str = Field("modelled", min_length=1, description="the link's key supply (a name in KEY_SUPPLIES)")
    key_file: Path | None = Field(None, description="emulated supply: this end's distilled key file")
    committed_file: Path | None = Field(None, description="emulated supply: the link's committed key length")

    @model_validator(mode="after")
    def _files_together(self) -> LinkConfig:
        if (self.key_file is None) != (self.committed_file is None):
            raise ValueError(
                f"links[{self.link_id}]: key_file and committed_file must be given together (emulated supply) "
                "or both omitted"
            )
        return self


_TLS_GROUPS_DESCRIPTION = (
    "key-exchange groups this KME accepts and offers to other KMEs, in order of preference (TLS 1.3); "
    f"ML-KEM hybrids {', '.join(PQ_TLS_GROUPS)}; classical {', '.join(CLASSICAL_TLS_GROUPS)} only where needed"
)


def _check_tls_groups(groups: list[str]) -> list[str]:
    allowed = (*PQ_TLS_GROUPS, *CLASSICAL_TLS_GROUPS)
    for index, group in enumerate(groups):
        if group not in allowed:
            raise ValueError(f"tls_groups[{index}] = {group!r}: must be one of {', '.join(allowed)}")
    if len(set(groups)) != len(groups):
        raise ValueError(f"tls_groups = {groups}: a group is named twice")
    return groups


class SAEQuota(StrictModel):
    """Limits of one SAE (None: unlimited)."""

    requests_per_s: float | None = Field(None, gt=0.0, le=1e6, description="average ETSI calls per second")
    burst_requests: int = Field(10, ge=1, le=1_000_000, description="calls allowed at once above the average")
    max_keys_per_request: int | None = Field(None, ge=1, le=100_000, description="keys or key_IDs in one call")
    pool_share: float = Field(1.0, gt=0.0, le=1.0, description="share of each link pool (capacity and rate)")


class Pkcs11Kek(StrictModel):
    """A key-encryption key on a PKCS#11 token (``kek: pkcs11``); the PIN comes from ``pin_env`` or ``pin_file``."""

    module: Path = Field(description="the token's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so")
    token_label: str = Field(min_length=1, max_length=32)
    key_label: str | None = Field(
        None, min_length=1, max_length=64, description="the AES-256 key on the token (default: qit4n-kek-KME_ID)"
    )
    pin_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="environment variable holding the user PIN"
    )
    pin_file: Path | None = Field(None, description="file holding the user PIN (mode 0600)")

    @model_validator(mode="after")
    def _one_pin_source(self) -> Pkcs11Kek:
        if (self.pin_env is None) == (self.pin_file is None):
            raise ValueError("pkcs11: give exactly one of pin_env and pin_file")
        return self


def _kek_source_consistent(kek: str, pkcs11: Pkcs11Kek | None) -> None:
    if kek == "pkcs11" and pkcs11 is None:
        raise ValueError("kek = 'pkcs11': the pkcs11 settings (module, token_label, pin_env or pin_file) are missing")
    if kek == "file" and pkcs11 is not None:
        raise ValueError("pkcs11 is set but kek = 'file': set kek = 'pkcs11' to use the token")


class KMEConfig(StrictModel):
    """Everything one KME process needs; written as JSON by the launcher."""

    kme_id: str = Field(min_length=1)
    host: HostName = Field(
        "127.0.0.1", description="address the KME listens on (an IP address or host name; 0.0.0.0 or :: for all)"
    )
    port: int = Field(ge=1, le=65535)
    database: Path
    cert: Path
    key: Path
    ca: Path
    sae_ids: list[str] = Field(default_factory=list, description="SAEs attached to this KME")
    directory: dict[str, str] = Field(description="SAE ID -> KME ID, for the whole network")
    peers: dict[str, str] = Field(default_factory=dict, description="KME ID -> base URL of the KME-to-KME API")
    links: list[LinkConfig] = Field(default_factory=list)
    routes: dict[str, list[str]] = Field(
        default_factory=dict, description="target KME ID -> next KMEs, ending at the target"
    )
    key_size_bits: int = Field(256, ge=8, le=65536, multiple_of=8)
    min_key_size_bits: int = Field(64, ge=8, multiple_of=8)
    max_key_size_bits: int = Field(8192, le=1 << 20, multiple_of=8)
    max_key_per_request: int = Field(1000, ge=1, le=100_000)
    max_sae_id_count: int = Field(8, ge=0, le=64)
    supply_interval_s: float = Field(0.05, gt=0.0, le=10.0)
    peer_timeout_s: float = Field(5.0, gt=0.0, le=120.0)
    key_lifetime_s: float = Field(
        3600.0, gt=0.0, description="keys not fetched by their slave within this time are erased"
    )
    synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    max_request_bytes: int = Field(
        1 << 16, ge=1024, le=1 << 30, description="larger request bodies are refused (400) before being read"
    )
    quotas: dict[str, SAEQuota] = Field(default_factory=dict, description="SAE ID -> its quota")
    default_quota: SAEQuota = Field(default_factory=SAEQuota, description="quota of SAEs not named in quotas")
    audit_file: Path | None = Field(
        None, description="hash-chained audit log (JSON lines, mode 0600; default: the database path + '.audit.jsonl')"
    )
    kek_file: Path | None = Field(
        None,
        description="kek = 'file': the key-encryption key sealing the stored keys (32 bytes); kek = 'pkcs11': the "
        "store's data key wrapped by the token's key (mode 0600, created if missing; default: the database path + "
        "'.kek')",
    )
    randomness: str | None = Field(
        None,
        description="QRNG mixed into the keys this KME generates itself: qrng:MODEL[,FAULT...] or file:PATH "
        "(default: the OS alone)",
    )
    public_host: HostName | None = Field(
        None, description="name or address SAEs and other KMEs use to reach this KME (default: host)"
    )
    crl: Path | None = Field(None, description="certificate revocation list (PEM) checked for every TLS peer")
    kek: Literal["file", "pkcs11"] = Field(
        "file",
        description="where the key-encryption key lives: 'file' (kek_file; development) or 'pkcs11' (a token; "
        "kek_file then holds the store's data key wrapped by the token's key)",
    )
    pkcs11: Pkcs11Kek | None = Field(None, description="the token, with kek = 'pkcs11'")
    tls_groups: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TLS_GROUPS),
        min_length=1,
        max_length=8,
        description=_TLS_GROUPS_DESCRIPTION,
    )

    interdomain: InterdomainConfig | None = Field(
        None, description="the interconnection of this KME's domain with a peer domain (network up --interconnect)"
    )

    _tls_groups_known = field_validator("tls_groups")(_check_tls_groups)

    @model_validator(mode="after")
    def _kek_source(self) -> KMEConfig:
        _kek_source_consistent(self.kek, self.pkcs11)
        return self

    @model_validator(mode="after")
    def _sizes_consistent(self) -> KMEConfig:
        if not self.min_key_size_bits <= self.key_size_bits <= self.max_key_size_bits:
            raise ValueError(
                f"key_size_bits = {self.key_size_bits}: must lie in [min_key_size_bits, max_key_size_bits] = "
                f"[{self.min_key_size_bits}, {self.max_key_size_bits}]"
            )
        for sae_id in self.sae_ids:
            if self.directory.get(sae_id) != self.kme_id:
                raise ValueError(f"sae_ids: {sae_id!r} is not attached to {self.kme_id!r} in directory")
        return self

    @property
    def url(self) -> str:
        """Base URL of this KME, as SAEs and other KMEs reach it."""
        return https_url(self.public_host or self.host, self.port)

    def link_to(self, peer_kme_id: str) -> LinkConfig | None:
        """The (first) link to ``peer_kme_id``, or None."""
        return next((link for link in self.links if link.peer_kme_id == peer_kme_id), None)


class KMEHost(StrictModel):
    """Where one KME runs: the name others reach it by, the address it listens on, its port."""

    address: HostName = Field(description="host name or IP address SAEs and other KMEs connect to")
    bind: HostName | None = Field(None, description="address to listen on (default: address; 0.0.0.0 for all)")
    port: int | None = Field(None, ge=1, le=65535, description="TCP port (default: --base-port + index, or free)")


def read_kme_config(path: Path) -> KMEConfig:
    """A KME config file; relative paths in it are taken relative to the file's folder."""
    config = KMEConfig.model_validate_json(path.read_text())
    base = path.parent
    updates = {
        name: base / value
        for name, value in config
        if name in _PATH_FIELDS and isinstance(value, Path) and not value.is_absolute()
    }
    links = [
        link.model_copy(
            update={
                name: base / value
                for name in ("key_file", "committed_file")
                if (value := getattr(link, name)) is not None and not value.is_absolute()
            }
        )
        for link in config.links
    ]
    return config.model_copy(update={**updates, "links": links})


_PATH_FIELDS = ("database", "cert", "key", "ca", "audit_file", "kek_file", "crl")


class KMSSettings(StrictModel):
    """The operator's KMS config file (``qit4n kms up --config FILE``): settings for every KME.

    Example (YAML)::

        default_quota: {requests_per_s: 200, burst_requests: 50, pool_share: 0.5}
        quotas:
          SAE-A: {max_keys_per_request: 100, pool_share: 0.25}
        max_request_bytes: 65536
        key_lifetime_s: 600
        tls_groups: [X25519MLKEM768, x25519]   # also accept classical clients
        hosts:                      # KMEs on several machines (the others stay on 127.0.0.1)
          KME-A: {address: kme-a.example.net, bind: 0.0.0.0, port: 8443}
          KME-B: {address: 10.0.0.2, port: 8443}
        kek: pkcs11          # the key-encryption key on a PKCS#11 token (default: file)
        pkcs11: {module: /usr/lib/softhsm/libsofthsm2.so, token_label: qit4n, pin_env: QIT4N_TOKEN_PIN}
    """

    quotas: dict[str, SAEQuota] = Field(default_factory=dict, description="SAE ID -> its quota")
    default_quota: SAEQuota = Field(default_factory=SAEQuota, description="quota of SAEs not named in quotas")
    max_request_bytes: int = Field(1 << 16, ge=1024, le=1 << 30)
    key_lifetime_s: float = Field(3600.0, gt=0.0, le=86400.0 * 365)
    max_key_per_request: int = Field(1000, ge=1, le=100_000)
    tls_groups: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TLS_GROUPS),
        min_length=1,
        max_length=8,
        description=_TLS_GROUPS_DESCRIPTION,
    )
    hosts: dict[str, KMEHost] = Field(default_factory=dict, description="KME ID -> where it runs")
    kek: Literal["file", "pkcs11"] = "file"
    pkcs11: Pkcs11Kek | None = None

    @model_validator(mode="after")
    def _kek_source(self) -> KMSSettings:
        _kek_source_consistent(self.kek, self.pkcs11)
        return self

    _tls_groups_known = field_validator("tls_groups")(_check_tls_groups)

    def overrides(self) -> dict[str, object]:
        """The :class:`KMEConfig` fields this file sets (all but ``hosts``)."""
        return self.model_dump(exclude_unset=True, exclude={"hosts"})
