"""Probe an SSH server: the key exchanges and host-key algorithms it offers, and its host keys.

After the version exchange an SSH server sends its ``SSH_MSG_KEXINIT`` in clear (RFC 4253,
Section 7.1): the full lists of key-exchange and host-key algorithms it accepts, in one
connection. To read each host key (type and size), the probe then runs one elliptic-curve key
exchange per host-key family (``curve25519-sha256`` or ``ecdh-sha2-nistp256``, RFC 8731 and RFC
5656) and parses the key blob of ``SSH_MSG_KEX_ECDH_REPLY``; it never authenticates and closes
before ``SSH_MSG_NEWKEYS``.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import asdict, dataclass
from typing import Any

from qit4n.errors import ServiceError
from qit4n.threat.inventory import AlgorithmUse, Asset
from qit4n.threat.keys import rsa_catalog_id

__all__ = ["SSH_KEX_CATALOG", "SshHostKey", "SshScan", "scan_ssh"]

#: SSH key-exchange names -> catalog ids. Diffie-Hellman groups: RFC 4253 Section 8 (group1: 1024
#: bits), RFC 8268 (group14: 2048, group16: 4096, group18: 8192 bits, mapped down to ffdhe-4096);
#: group exchange lets the server pick the prime, at least 2048 bits in OpenSSH (DH_GRP_MIN).
SSH_KEX_CATALOG = {
    "mlkem768x25519-sha256": "x25519mlkem768",
    "sntrup761x25519-sha512": "sntrup761x25519",
    "sntrup761x25519-sha512@openssh.com": "sntrup761x25519",
    "curve25519-sha256": "x25519",
    "curve25519-sha256@libssh.org": "x25519",
    "curve448-sha512": "x448",
    "ecdh-sha2-nistp256": "ecdh-p256",
    "ecdh-sha2-nistp384": "ecdh-p384",
    "ecdh-sha2-nistp521": "ecdh-p521",
    "diffie-hellman-group1-sha1": "dh-1024",
    "diffie-hellman-group14-sha1": "ffdhe-2048",
    "diffie-hellman-group14-sha256": "ffdhe-2048",
    "diffie-hellman-group15-sha512": "ffdhe-3072",
    "diffie-hellman-group16-sha512": "ffdhe-4096",
    "diffie-hellman-group17-sha512": "ffdhe-4096",
    "diffie-hellman-group18-sha512": "ffdhe-4096",
    "diffie-hellman-group-exchange-sha1": "ffdhe-2048",
    "diffie-hellman-group-exchange-sha256": "ffdhe-2048",
}
#: Markers in the key-exchange list that are not key exchanges (RFC 8308, OpenSSH strict KEX).
_PSEUDO_KEX = ("ext-info-", "kex-strict-")
_POST_QUANTUM = frozenset({"x25519mlkem768", "sntrup761x25519"})
_HOST_KEYS = {
    "ssh-ed25519": "ed25519",
    "ssh-ed448": "ed448",
    "ecdsa-sha2-nistp256": "ecdsa-p256",
    "ecdsa-sha2-nistp384": "ecdsa-p384",
    "ecdsa-sha2-nistp521": "ecdsa-p521",
}
_ECDH_KEX = ("curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256")
_KEXINIT, _KEX_ECDH_INIT, _KEX_ECDH_REPLY = 20, 30, 31
_BANNER = b"SSH-2.0-qit4n_probe\r\n"


@dataclass(frozen=True)
class SshHostKey:
    """One host key: the algorithm it was fetched with, its type and size, its catalog id."""

    algorithm: str
    key_type: str
    key_bits: int | None
    catalog_algorithm: str | None


@dataclass(frozen=True)
class SshScan:
    """What an SSH server offers."""

    host: str
    port: int
    banner: str
    kex_algorithms: tuple[str, ...]
    host_key_algorithms: tuple[str, ...]
    host_keys: tuple[SshHostKey, ...]

    @property
    def verdict(self) -> str:
        """``post-quantum key exchange only``, ``hybrid offered, classical accepted`` or ``classical ... only``."""
        ids = [SSH_KEX_CATALOG.get(name) for name in self.kex_algorithms]
        pq = any(name in _POST_QUANTUM for name in ids)
        classical = any(name is None or name not in _POST_QUANTUM for name in ids)
        if pq:
            return "hybrid offered, classical accepted" if classical else "post-quantum key exchange only"
        return "classical key exchange only"

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form, with the verdict."""
        return {**asdict(self), "verdict": self.verdict}

    def to_asset(self, **fields: Any) -> Asset:
        """An inventory asset (category ``ssh``): every key exchange offered, and the host keys."""
        uses: list[AlgorithmUse] = []
        unknown: list[AlgorithmUse] = []
        seen: set[str] = set()
        for name in self.kex_algorithms:
            catalog_id = SSH_KEX_CATALOG.get(name)
            if (catalog_id or name) in seen:
                continue
            seen.add(catalog_id or name)
            target = uses if catalog_id is not None else unknown
            target.append(AlgorithmUse(name=catalog_id or name, use="key-exchange", detail=f"SSH key exchange {name}"))
        for key in self.host_keys:
            target = uses if key.catalog_algorithm is not None else unknown
            label = f"{key.key_type} {key.key_bits} bits" if key.key_bits else key.key_type
            target.append(
                AlgorithmUse(name=key.catalog_algorithm or key.algorithm, use="signature", detail=f"host key {label}")
            )
        return Asset.model_validate(
            {
                "name": f"ssh {self.host}:{self.port}",
                "category": "ssh",
                "algorithms": uses,
                "unassessed_algorithms": unknown,
                **fields,
            }
        )


class _Wire:
    """Reads the SSH version line and unencrypted binary packets (RFC 4253, Sections 4.2 and 6)."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._buffer = b""

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            data = self._connection.recv(65536)
            if not data:
                raise ConnectionError("connection closed")
            self._buffer += data
        head, self._buffer = self._buffer[:count], self._buffer[count:]
        return head

    def banner(self) -> str:
        for _ in range(32):  # RFC 4253 allows other lines before the version line
            line = b""
            while not line.endswith(b"\n"):
                line += self._read(1)
                if len(line) > 255:
                    raise ConnectionError("not an SSH server (no version line)")
            if line.startswith(b"SSH-"):
                return line.decode("ascii", "replace").strip()
        raise ConnectionError("not an SSH server (no version line)")

    def packet(self) -> bytes:
        length, padding = struct.unpack(">IB", self._read(5))
        if not 5 <= length <= 262144:
            raise ConnectionError(f"bad packet length {length}")
        return self._read(length - 1)[: length - 1 - padding]

    def send(self, payload: bytes) -> None:
        padding = 8 - (len(payload) + 5) % 8
        padding += 8 if padding < 4 else 0
        self._connection.sendall(struct.pack(">IB", len(payload) + padding + 1, padding) + payload + bytes(padding))


def _string(data: bytes, offset: int) -> tuple[bytes, int]:
    (length,) = struct.unpack_from(">I", data, offset)
    end = offset + 4 + length
    if end > len(data):
        raise ConnectionError("truncated field")
    return data[offset + 4 : end], end


def _name_lists(kexinit: bytes) -> list[list[str]]:
    """The ten name-lists of a KEXINIT payload (after the message number and the 16-byte cookie)."""
    if not kexinit or kexinit[0] != _KEXINIT:
        raise ConnectionError("no SSH_MSG_KEXINIT")
    lists, offset = [], 17
    for _ in range(10):
        raw, offset = _string(kexinit, offset)
        lists.append([name for name in raw.decode("ascii", "replace").split(",") if name])
    return lists


def _encode_string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _kexinit(kex: str, host_key: str, server_lists: list[list[str]]) -> bytes:
    lists = [[kex], [host_key], *server_lists[2:]]
    body = b"".join(_encode_string(",".join(names).encode()) for names in lists)
    return bytes([_KEXINIT]) + bytes(16) + body + b"\x00" + bytes(4)


def _describe_host_key(algorithm: str, blob: bytes) -> SshHostKey:
    key_type, offset = _string(blob, 0)
    name = key_type.decode("ascii", "replace")
    if name == "ssh-rsa":
        _, offset = _string(blob, offset)  # public exponent
        modulus, _ = _string(blob, offset)
        modulus_bits = int.from_bytes(modulus, "big").bit_length()
        return SshHostKey(algorithm, "RSA", modulus_bits, rsa_catalog_id(modulus_bits))
    base = name.removeprefix("sk-").removesuffix("@openssh.com").replace("-cert-v01", "")
    bits = {"ssh-ed25519": 256, "ssh-ed448": 456}.get(base) or (int(base[-3:]) if base[-3:].isdigit() else None)
    return SshHostKey(algorithm, name, bits, _HOST_KEYS.get(base))


def _ecdh_public(kex: str) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ec, x25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if kex.startswith("curve25519"):
        return x25519.X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def _session(host: str, port: int, timeout_s: float) -> tuple[socket.socket, _Wire, str, list[list[str]]]:
    try:
        connection = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as error:
        raise ServiceError(f"{host}:{port}: cannot connect ({error})") from None
    wire = _Wire(connection)
    try:
        connection.sendall(_BANNER)
        banner = wire.banner()
        lists = _name_lists(wire.packet())
    except (OSError, ConnectionError, struct.error) as error:
        connection.close()
        raise ServiceError(f"{host}:{port}: no SSH key-exchange offer ({error})") from None
    return connection, wire, banner, lists


def _fetch_host_key(host: str, port: int, timeout_s: float, host_key_algorithm: str) -> SshHostKey | None:
    connection, wire, _, lists = _session(host, port, timeout_s)
    kex = next((name for name in _ECDH_KEX if name in lists[0]), None)
    if kex is None:
        connection.close()
        return None
    with connection:
        try:
            wire.send(_kexinit(kex, host_key_algorithm, lists))
            wire.send(bytes([_KEX_ECDH_INIT]) + _encode_string(_ecdh_public(kex)))
            reply = wire.packet()
            if not reply or reply[0] != _KEX_ECDH_REPLY:
                return None
            blob, _ = _string(reply, 1)
            return _describe_host_key(host_key_algorithm, blob)
        except (OSError, ConnectionError, struct.error):
            return None


def _host_key_families(algorithms: list[str]) -> list[str]:
    """One algorithm per key (RSA's rsa-sha2-512, rsa-sha2-256 and ssh-rsa share a key); certificates skipped."""
    chosen: dict[str, str] = {}
    for name in algorithms:
        if "-cert-" in name:
            continue
        family = "rsa" if name in ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa") else name
        chosen.setdefault(family, name)
    return list(chosen.values())


def scan_ssh(host: str, port: int, *, timeout_s: float = 5.0) -> SshScan:
    """The key exchanges and host-key algorithms the SSH server at ``host:port`` offers, and its host keys.

    Raises
    ------
    ServiceError
        When no TCP connection can be made or the peer sends no SSH key-exchange offer.
    """
    connection, _, banner, lists = _session(host, port, timeout_s)
    connection.close()
    kex = tuple(name for name in lists[0] if not name.startswith(_PSEUDO_KEX))
    keys = []
    for algorithm in _host_key_families(lists[1]):
        key = _fetch_host_key(host, port, timeout_s, algorithm)
        keys.append(key or SshHostKey(algorithm, algorithm, None, _HOST_KEYS.get(algorithm)))
    return SshScan(host, port, banner, kex, tuple(lists[1]), tuple(keys))
