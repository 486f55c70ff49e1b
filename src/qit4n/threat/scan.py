"""Probe a TLS server: versions, key exchanges (ML-KEM hybrids, ECDHE, DHE, RSA transport), certificates.

The probe uses pyOpenSSL over the OpenSSL that the ``cryptography`` wheel bundles (3.5 or later
negotiates X25519MLKEM768 and SecP256r1MLKEM768, and at security level 0 still speaks TLS 1.0 and
1.1), not the system OpenSSL of Python's ``ssl``. Each offer is a fresh connection:

* one handshake with OpenSSL's default offer: what a current client gets; if the server refuses
  it, a legacy offer (TLS 1.0 to 1.3, every cipher suite, security level 0) listing every probed
  group (OpenSSL's default list has no pure ML-KEM group), then the same without a group list;
* each protocol version alone (TLS 1.0 to 1.3);
* each key-exchange group alone; ML-KEM and hybrid groups (and RFC 7919 ffdhe groups) only exist in
  TLS 1.3, so they are offered with TLS 1.3 only, and a group counts as accepted only when the
  server actually negotiated it;
* for each version up to TLS 1.2, each key-exchange method alone (ECDHE, finite-field DHE, RSA key
  transport), which is what legacy clients fall back to;
* for each accepted version, its cipher suites: TLS 1.3 suites one at a time; up to TLS 1.2 every
  suite not yet seen, so the server's picks list them in its order, and whether the server
  imposes its order;
* each signature algorithm alone.

The handshake runs over memory BIOs, so the probe sees the server's cleartext TLS 1.2 handshake and
reads the size of a DHE prime from its ServerKeyExchange (OpenSSL names no group for DHE).
pyOpenSSL has no public call to set groups, so the probe calls ``SSL_CTX_set1_curves_list`` from
the bindings of ``cryptography``. Only the first handshake verifies the chain, and only when a trust
store is given (:mod:`.trust`): errors are recorded, never fatal, so every server is scanned.
``starttls`` runs a protocol's upgrade (:mod:`.starttls`) before every handshake, and two offers
this OpenSSL cannot make, SSL 3.0 and X25519Kyber768Draft00, go out as hand-built ClientHellos
(:mod:`.rawhello`).
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from qit4n.errors import ParameterError, ServiceError
from qit4n.threat.certificates import CertificateInfo, certificate_info
from qit4n.threat.inventory import AlgorithmUse, Asset
from qit4n.threat.keys import dh_catalog_id
from qit4n.threat.rawhello import RawProbe, probe_group, probe_legacy_version
from qit4n.threat.trust import TrustPath, TrustStore, expect_name, trust_path

__all__ = [
    "DEFAULT_GROUPS",
    "DEFAULT_SIGNATURE_ALGORITHMS",
    "PQ_GROUPS",
    "RAW_PQ_GROUPS",
    "TLS13_CIPHER_SUITES",
    "TLS_VERSIONS",
    "CertificateInfo",
    "KeyExchange",
    "TlsScan",
    "cipher_algorithm",
    "dh_prime_bits",
    "parse_target",
    "scan_tls",
]

#: Key-exchange groups that resist a quantum computer (pure ML-KEM and ML-KEM hybrids), OpenSSL names.
PQ_GROUPS = ("X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024", "MLKEM512", "MLKEM768", "MLKEM1024")
#: Post-quantum groups the bundled OpenSSL cannot offer, probed with a hand-built ClientHello (:mod:`.rawhello`).
RAW_PQ_GROUPS = ("X25519Kyber768Draft00",)
#: Key-exchange groups offered one at a time (OpenSSL names).
DEFAULT_GROUPS = (*PQ_GROUPS, "x25519", "secp256r1", "secp384r1", "x448", "ffdhe2048", "ffdhe3072", "ffdhe4096")
#: Groups that only exist in TLS 1.3 (ML-KEM, hybrids, RFC 7919 named finite-field groups).
_TLS13_GROUPS = frozenset(name.lower() for name in (*PQ_GROUPS, "ffdhe2048", "ffdhe3072", "ffdhe4096"))
#: Signature algorithms offered one at a time (TLS 1.3 SignatureScheme names).
DEFAULT_SIGNATURE_ALGORITHMS = (
    "ecdsa_secp256r1_sha256",
    "ecdsa_secp384r1_sha384",
    "rsa_pss_rsae_sha256",
    "rsa_pkcs1_sha256",
    "ed25519",
    "mldsa65",
)
#: Protocol versions probed, oldest first (the bundled OpenSSL has no SSL 3.0).
TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
#: Key-exchange methods of TLS 1.2 and older, as OpenSSL cipher-string selectors.
_LEGACY_METHODS = {"ecdhe": "kECDHE", "dhe": "kDHE", "rsa": "kRSA"}
_LEGACY_CIPHERS = "ALL:COMPLEMENTOFDEFAULT:@SECLEVEL=0"
#: TLS 1.3 cipher suites (RFC 8446, Appendix B.4), offered one at a time.
TLS13_CIPHER_SUITES = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
)
_MAX_SUITES_PER_VERSION = 64
_HANDSHAKE_RECORD, _SERVER_KEY_EXCHANGE = 22, 12


@dataclass(frozen=True)
class KeyExchange:
    """A key exchange the server completed: version, cipher suite, method and group (or DH prime size)."""

    version: str
    cipher_suite: str
    method: str
    group: str | None
    dh_bits: int | None

    @property
    def post_quantum(self) -> bool:
        """True for an ML-KEM, ML-KEM hybrid or Kyber draft hybrid group."""
        return self.group is not None and self.group.lower() in {name.lower() for name in (*PQ_GROUPS, *RAW_PQ_GROUPS)}

    def catalog_algorithm(self, certificate_algorithm: str | None) -> str | None:
        """The catalog id of what protects the session key; RSA transport uses the certificate's key."""
        if self.group is not None:
            return self.group
        if self.method == "dhe":
            return dh_catalog_id(self.dh_bits) if self.dh_bits else "ffdhe-2048"
        if self.method == "rsa" and certificate_algorithm is not None and certificate_algorithm.startswith("rsa-"):
            return certificate_algorithm
        return None

    def describe(self) -> str:
        """E.g. ``TLSv1.2 DHE-RSA-AES128-GCM-SHA256 (DHE 2048 bits)``."""
        what = self.group or (f"DHE {self.dh_bits} bits" if self.method == "dhe" else f"{self.method} key exchange")
        if self.method == "rsa":
            what = "RSA key transport"
        return f"{self.version} {self.cipher_suite} ({what})"


@dataclass(frozen=True)
class TlsScan:
    """What a TLS server negotiated by default and what else it accepted."""

    host: str
    port: int
    protocol_version: str
    cipher_suite: str
    negotiated_group: str | None
    accepted_groups: tuple[str, ...]
    rejected_groups: tuple[str, ...]
    unsupported_groups: tuple[str, ...]
    accepted_versions: tuple[str, ...]
    accepted_signature_algorithms: tuple[str, ...]
    certificates: tuple[CertificateInfo, ...]
    key_exchanges: tuple[KeyExchange, ...]
    cipher_suites: dict[str, tuple[str, ...]]
    server_preference: dict[str, bool | None]
    trust: TrustPath | None = None
    raw_probes: tuple[RawProbe, ...] = ()

    @property
    def verdict(self) -> str:
        """The key-exchange verdict, e.g. ``hybrid preferred, classical fallback accepted``."""
        if not self.key_exchanges:
            return "no key exchange"
        preferred = self.key_exchanges[0].post_quantum
        pq = any(exchange.post_quantum for exchange in self.key_exchanges)
        classical = any(not exchange.post_quantum for exchange in self.key_exchanges)
        if preferred:
            return "hybrid preferred, classical fallback accepted" if classical else "post-quantum key exchange only"
        return "classical preferred, hybrid accepted" if pq else "classical key exchange only"

    @property
    def chain_bytes(self) -> int:
        """Bytes of the presented chain (DER), what every full handshake carries: the cost PQC signatures grow."""
        return sum(certificate.der_bytes for certificate in self.certificates)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form, with the verdict and the chain size."""
        fields = asdict(self)
        fields["trust"] = None if self.trust is None else self.trust.to_dict()
        return {**fields, "verdict": self.verdict, "chain_bytes": self.chain_bytes}

    def to_asset(self, **fields: Any) -> Asset:
        """An inventory asset: every key exchange the server accepts (the default one first), its
        certificate keys and signature hashes, the trust anchor's key when the path ends in the trust
        store, and the default cipher."""
        leaf = self.certificates[0].catalog_algorithm if self.certificates else None
        uses: list[AlgorithmUse] = []
        seen: set[str] = set()
        for index, exchange in enumerate(self.key_exchanges):
            name = exchange.catalog_algorithm(leaf)
            if name is None or name.lower() in seen:
                continue
            seen.add(name.lower())
            role = "negotiated by default" if index == 0 else "accepted fallback (legacy clients)"
            uses.append(AlgorithmUse(name=name, use="key-exchange", detail=f"{role}: {exchange.describe()}"))
        for certificate in self.certificates:
            if certificate.catalog_algorithm is not None:
                uses.append(
                    AlgorithmUse(
                        name=certificate.catalog_algorithm, use="signature", detail=f"certificate {certificate.subject}"
                    )
                )
            if certificate.signature_hash == "sha1":
                uses.append(
                    AlgorithmUse(
                        name="sha-1", use="hash", detail=f"signature hash of certificate {certificate.subject}"
                    )
                )
        trust = self.trust
        for entry in trust.path if trust is not None else ():
            anchor = entry.certificate
            if trust is not None and entry.from_trust_store and anchor.catalog_algorithm is not None:
                uses.append(
                    AlgorithmUse(
                        name=anchor.catalog_algorithm,
                        use="signature",
                        detail=f"trust anchor {anchor.subject} (from {trust.trust_store})",
                    )
                )
        symmetric = cipher_algorithm(self.cipher_suite)
        if symmetric is not None:
            uses.append(AlgorithmUse(name=symmetric, use="symmetric", detail=self.cipher_suite))
        return Asset.model_validate(
            {"name": f"{self.host}:{self.port}", "category": "tls-service", "algorithms": uses, **fields}
        )


def cipher_algorithm(cipher_suite: str) -> str | None:
    """The catalog id of a cipher suite's bulk cipher (``aes-128``, ``aes-256``, ``chacha20-poly1305``), if known."""
    name = cipher_suite.upper().replace("-", "_")
    for marker, algorithm in (
        ("AES_256", "aes-256"),
        ("AES256", "aes-256"),
        ("AES_128", "aes-128"),
        ("AES128", "aes-128"),
        ("CHACHA20", "chacha20-poly1305"),
    ):
        if marker in name:
            return algorithm
    return None


def _method(version: str, cipher_suite: str) -> str:
    """``tls13``, ``ecdhe``, ``dhe``, ``rsa`` (key transport) or ``other`` (PSK, SRP) from an OpenSSL suite name."""
    name = cipher_suite.upper()
    if version == "TLSv1.3":
        return "tls13"
    if "PSK" in name or "SRP" in name:
        return "other"
    if name.startswith(("ECDHE-", "AECDH-")):
        return "ecdhe"
    if name.startswith(("DHE-", "EDH-", "ADH-")):
        return "dhe"
    return "rsa"


def parse_target(target: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (``[v6]:PORT`` for IPv6) into host and port.

    >>> parse_target("127.0.0.1:8443")
    ('127.0.0.1', 8443)
    """
    host, separator, port_text = target.rpartition(":")
    if not separator or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ParameterError(f"target = {target!r}: must be HOST:PORT with 0 < PORT < 65536")
    return host.strip("[]"), int(port_text)


def dh_prime_bits(server_bytes: bytes) -> int | None:
    """Bit length of the DH prime in the first cleartext ServerKeyExchange of ``server_bytes`` (RFC 5246, 7.4.3).

    >>> record = bytes([22, 3, 3, 0, 8, 12, 0, 0, 4, 0, 2, 0x80, 0x01])
    >>> dh_prime_bits(record)
    16
    """
    handshake = bytearray()
    offset = 0
    while offset + 5 <= len(server_bytes):
        content_type, length = server_bytes[offset], int.from_bytes(server_bytes[offset + 3 : offset + 5], "big")
        if content_type != _HANDSHAKE_RECORD:
            break
        handshake += server_bytes[offset + 5 : offset + 5 + length]
        offset += 5 + length
    offset = 0
    while offset + 4 <= len(handshake):
        message_type, length = handshake[offset], int.from_bytes(handshake[offset + 1 : offset + 4], "big")
        body = handshake[offset + 4 : offset + 4 + length]
        if message_type == _SERVER_KEY_EXCHANGE and len(body) >= 2:
            prime_length = int.from_bytes(body[:2], "big")
            return int.from_bytes(body[2 : 2 + prime_length], "big").bit_length() or None
        offset += 4 + length
    return None


@dataclass(frozen=True)
class _Handshake:
    version: str
    cipher: str
    group: str | None
    dh_bits: int | None
    chain: list
    verified_chain: list | None = None
    verify_errors: tuple[tuple[int, int], ...] = ()

    def key_exchange(self) -> KeyExchange:
        method = _method(self.version, self.cipher)
        return KeyExchange(self.version, self.cipher, method, self.group, self.dh_bits if method == "dhe" else None)


def _context(
    versions: tuple[str, str] | None, ciphers: str | None, group: str | None, sigalg: str | None, suite13: str | None
):
    """A client context for one offer; ``None`` when this OpenSSL cannot make it."""
    from cryptography.hazmat.bindings.openssl.binding import Binding
    from OpenSSL import SSL

    codes = {
        "TLSv1": SSL.TLS1_VERSION,
        "TLSv1.1": SSL.TLS1_1_VERSION,
        "TLSv1.2": SSL.TLS1_2_VERSION,
        "TLSv1.3": SSL.TLS1_3_VERSION,
    }
    context = SSL.Context(SSL.TLS_METHOD)
    context.set_verify(SSL.VERIFY_NONE, lambda *args: True)
    if versions is not None:
        # Legacy offers: every version in the range, every cipher, at OpenSSL's security level 0.
        context.set_min_proto_version(codes[versions[0]])
        context.set_max_proto_version(codes[versions[1]])
        try:
            context.set_cipher_list((ciphers or _LEGACY_CIPHERS).encode())
        except SSL.Error:
            return None
    if suite13 is not None:
        try:
            context.set_tls13_ciphersuites(suite13.encode())
        except SSL.Error:
            return None
    if group is not None and Binding.lib.SSL_CTX_set1_curves_list(context._context, group.encode()) != 1:
        return None
    if sigalg is not None and Binding.lib.SSL_CTX_set1_sigalgs_list(context._context, sigalg.encode()) != 1:
        return None
    return context


def _flush(connection, raw: socket.socket) -> None:
    from OpenSSL import SSL

    while True:
        try:
            data = connection.bio_read(65536)
        except SSL.WantReadError:
            return
        raw.sendall(data)


@dataclass(frozen=True)
class _Endpoint:
    """Where and how to connect: address, timeout, the name asked for (SNI) and the STARTTLS preamble."""

    host: str
    port: int
    timeout_s: float
    server_name: str | None = None
    starttls: str | None = None

    @property
    def name(self) -> str:
        return self.server_name or self.host

    def connect(self) -> socket.socket:
        """A TCP connection, past the STARTTLS exchange when one is set, ready for a ClientHello."""
        try:
            raw = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as error:
            raise ServiceError(f"{self.host}:{self.port}: cannot connect ({error})") from None
        if self.starttls is not None:
            from qit4n.threat.starttls import STARTTLS

            try:
                STARTTLS.get(self.starttls)(raw, self.name)
            except (ServiceError, OSError) as error:
                raw.close()
                raise ServiceError(f"{self.host}:{self.port}: STARTTLS ({self.starttls}) failed: {error}") from None
        return raw


def _handshake(
    endpoint: _Endpoint,
    *,
    versions: tuple[str, str] | None = None,
    ciphers: str | None = None,
    group: str | None = None,
    sigalg: str | None = None,
    suite13: str | None = None,
    trust: TrustStore | None = None,
):
    """One handshake; ``None`` if the server refused the offer, ``False`` if this OpenSSL cannot offer it.

    ``versions`` (lowest, highest) switches to a legacy offer: that version range, all cipher suites
    (or ``ciphers``) at security level 0. Without it the offer is OpenSSL's default.
    The endpoint's name goes in the SNI and, with ``trust``, is the name the chain is verified for.
    """
    from OpenSSL import SSL

    context = _context(versions, ciphers, group, sigalg, suite13)
    if context is None:
        return False
    verify_errors = trust.configure(context) if trust is not None else []
    name = endpoint.name
    with endpoint.connect() as raw:
        connection = SSL.Connection(context, None)
        connection.set_connect_state()
        with contextlib.suppress(UnicodeError, ValueError):
            connection.set_tlsext_host_name(name.encode("idna"))
        if trust is not None:
            expect_name(connection, name)
        received = bytearray()
        try:
            while True:
                try:
                    connection.do_handshake()
                    break
                except SSL.WantReadError:
                    _flush(connection, raw)
                data = raw.recv(65536)
                if not data:
                    return None
                received += data
                connection.bio_write(data)
            _flush(connection, raw)
        except (SSL.Error, OSError):
            return None
        result = _Handshake(
            connection.get_protocol_version_name(),
            connection.get_cipher_name() or "",
            connection.get_group_name(),
            dh_prime_bits(bytes(received)),
            connection.get_peer_cert_chain(as_cryptography=True) or [],
            connection.get_verified_chain(as_cryptography=True) if trust is not None else None,
            tuple(verify_errors),
        )
        with contextlib.suppress(SSL.Error, OSError):
            connection.shutdown()
            _flush(connection, raw)
        return result


def _legacy_suites(endpoint: _Endpoint, version: str) -> tuple[tuple[str, ...], bool | None]:
    """Suites a TLS 1.2-or-older ``version`` accepts, in the order the server picks them, and whether
    the server imposes its own order (``None`` with fewer than two suites).

    Each handshake offers every suite not yet seen; the server's pick is the next one (the
    enumeration of sslyze and testssl.sh). Server preference: two accepted suites offered in both
    orders give the same pick.
    """
    found: list[str] = []
    while len(found) < _MAX_SUITES_PER_VERSION:
        excluded = "".join(f":!{suite}" for suite in found)
        outcome = _handshake(
            endpoint, versions=(version, version), ciphers=f"ALL:COMPLEMENTOFALL{excluded}:@SECLEVEL=0"
        )
        if not outcome or outcome.cipher in found:
            break
        found.append(outcome.cipher)
    if len(found) < 2:
        return tuple(found), None
    picks = {
        getattr(
            _handshake(endpoint, versions=(version, version), ciphers=f"{a}:{b}:@SECLEVEL=0"),
            "cipher",
            None,
        )
        for a, b in ((found[0], found[-1]), (found[-1], found[0]))
    }
    return tuple(found), len(picks) == 1


def _tls13_suites(endpoint: _Endpoint) -> tuple[str, ...]:
    return tuple(
        suite for suite in TLS13_CIPHER_SUITES if _handshake(endpoint, versions=("TLSv1.3", "TLSv1.3"), suite13=suite)
    )


def _group_offer(group: str) -> tuple[str, str]:
    """The version range a group is offered in: TLS 1.3 only for ML-KEM, hybrid and ffdhe groups."""
    return ("TLSv1.3", "TLSv1.3") if group.lower() in _TLS13_GROUPS else ("TLSv1", "TLSv1.3")


def scan_tls(
    host: str,
    port: int,
    *,
    timeout_s: float = 5.0,
    groups: tuple[str, ...] = DEFAULT_GROUPS,
    signature_algorithms: tuple[str, ...] = DEFAULT_SIGNATURE_ALGORITHMS,
    now: datetime | None = None,
    server_name: str | None = None,
    trust_store: TrustStore | None = None,
    starttls: str | None = None,
) -> TlsScan:
    """Probe the TLS server at ``host:port``.

    ``server_name`` (default ``host``) is sent as SNI and is the name the chain is verified for
    against ``trust_store`` (no trust check without one). ``starttls`` names a protocol of
    :data:`qit4n.threat.starttls.STARTTLS` whose upgrade runs before every handshake.

    Raises
    ------
    ServiceError
        When no TCP connection can be made, or the server completes no handshake at all (neither
        with the default offer nor with a legacy one).
    """
    endpoint = _Endpoint(host, port, timeout_s, server_name, starttls)
    first = (
        _handshake(endpoint, trust=trust_store)
        or _handshake(endpoint, versions=("TLSv1", "TLSv1.3"), group=":".join(groups), trust=trust_store)
        or _handshake(endpoint, versions=("TLSv1", "TLSv1.3"), trust=trust_store)
    )
    if not first:
        raise ServiceError(f"{host}:{port}: no TLS handshake (default and legacy TLS 1.0-1.3 offers)")
    exchanges = [first.key_exchange()]
    accepted: list[str] = []
    rejected: list[str] = []
    unsupported: list[str] = []
    for group in groups:
        outcome = _handshake(endpoint, versions=_group_offer(group), group=group)
        if outcome is False:
            unsupported.append(group)
        elif outcome is None or (outcome.group or "").lower() != group.lower():
            rejected.append(group)
        else:
            accepted.append(group)
            exchanges.append(outcome.key_exchange())
    versions = tuple(v for v in TLS_VERSIONS if _handshake(endpoint, versions=(v, v)))
    for version in versions:
        if version == "TLSv1.3":
            continue
        for method, selector in _LEGACY_METHODS.items():
            outcome = _handshake(endpoint, versions=(version, version), ciphers=f"{selector}:@SECLEVEL=0")
            if outcome and _method(outcome.version, outcome.cipher) == method:
                exchanges.append(outcome.key_exchange())
    suites: dict[str, tuple[str, ...]] = {}
    preference: dict[str, bool | None] = {}
    for version in versions:
        if version == "TLSv1.3":
            suites[version], preference[version] = _tls13_suites(endpoint), None
        else:
            suites[version], preference[version] = _legacy_suites(endpoint, version)
    sigalgs = tuple(s for s in signature_algorithms if _handshake(endpoint, sigalg=s))
    raw = (
        probe_legacy_version(endpoint.connect),
        *(probe_group(endpoint.connect, group, endpoint.name) for group in RAW_PQ_GROUPS),
    )
    for probe in raw[1:]:
        if probe.accepted:
            accepted.append(probe.offer)
            exchanges.append(KeyExchange("TLSv1.3", probe.cipher_suite or "", "tls13", probe.offer, None))
    moment = now or datetime.now(UTC)
    return TlsScan(
        host=host,
        port=port,
        protocol_version=first.version,
        cipher_suite=first.cipher,
        negotiated_group=first.group,
        accepted_groups=tuple(accepted),
        rejected_groups=tuple(rejected),
        unsupported_groups=tuple(unsupported),
        accepted_versions=("SSLv3", *versions) if raw[0].accepted else versions,
        accepted_signature_algorithms=sigalgs,
        certificates=tuple(certificate_info(certificate, moment) for certificate in first.chain),
        key_exchanges=_distinct(exchanges),
        cipher_suites=suites,
        server_preference=preference,
        raw_probes=raw,
        trust=None
        if trust_store is None
        else trust_path(
            trust_store, endpoint.name, list(first.verify_errors), first.verified_chain, first.chain, moment
        ),
    )


def _distinct(exchanges: list[KeyExchange]) -> tuple[KeyExchange, ...]:
    """Key exchanges with repeats (same version, method, group and prime size) removed, order kept."""
    seen: set[tuple[str, str, str | None, int | None]] = set()
    kept = []
    for exchange in exchanges:
        key = (exchange.version, exchange.method, exchange.group, exchange.dh_bits)
        if key not in seen:
            seen.add(key)
            kept.append(exchange)
    return tuple(kept)
