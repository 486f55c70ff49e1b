"""Real TLS servers on 127.0.0.1 with known configurations, and certificates made for the tests."""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.x509.oid import NameOID
from OpenSSL import SSL

NOW = datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Issued:
    """A certificate, its key and their PEM files."""

    certificate: x509.Certificate
    key: object
    cert_path: Path
    key_path: Path


def issue(
    tmp: Path,
    label: str,
    key,
    *,
    subject: str,
    issuer: Issued | None = None,
    days: int = 30,
    ca: bool = False,
) -> Issued:
    """A certificate for ``key`` signed by ``issuer`` (self-signed when ``None``), written as PEM."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    signer_key = key if issuer is None else issuer.key
    signer_name = name if issuer is None else issuer.certificate.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(minutes=1))
        .not_valid_after(NOW + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    hash_algorithm = None if isinstance(signer_key, mldsa.MLDSA65PrivateKey) else hashes.SHA256()
    certificate = builder.sign(signer_key, hash_algorithm)
    cert_path, key_path = tmp / f"{label}.crt", tmp / f"{label}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Issued(certificate, key, cert_path, key_path)


class LoopbackServer:
    """Accepts TLS connections on 127.0.0.1 in a thread, completes each handshake and closes."""

    def __init__(self, handshake) -> None:
        self._handshake = handshake
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with connection:
                connection.settimeout(5.0)
                # A refused offer (ssl.SSLError, an OSError, or OpenSSL.SSL.Error) is what probing is for.
                with contextlib.suppress(OSError, SSL.Error):
                    self._handshake(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> dict[str, Issued]:
    """An RSA-2048 self-signed server, and an EC P-256 chain: root CA -> intermediate CA -> leaf."""
    tmp = tmp_path_factory.mktemp("pki")
    rsa_server = issue(
        tmp, "rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048), subject="rsa.test", days=30
    )
    root = issue(tmp, "root", ec.generate_private_key(ec.SECP384R1()), subject="Test Root CA", days=3650, ca=True)
    intermediate = issue(
        tmp,
        "intermediate",
        ec.generate_private_key(ec.SECP256R1()),
        subject="Test Intermediate CA",
        issuer=root,
        days=1000,
        ca=True,
    )
    leaf = issue(tmp, "leaf", ec.generate_private_key(ec.SECP256R1()), subject="ec.test", issuer=intermediate, days=90)
    pq = issue(tmp, "pq", mldsa.MLDSA65PrivateKey.generate(), subject="pq.test", days=60)
    chain = tmp / "leaf-chain.crt"
    chain.write_bytes(leaf.cert_path.read_bytes() + intermediate.cert_path.read_bytes())
    return {"rsa": rsa_server, "root": root, "intermediate": intermediate, "leaf": leaf, "pq": pq, "chain": chain}


@pytest.fixture(scope="session")
def python_ssl_server(pki) -> Iterator[LoopbackServer]:
    """Python's ssl (system OpenSSL): TLS 1.2 only, ECDHE on P-256 only, RSA-2048 certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["rsa"].cert_path, pki["rsa"].key_path)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ecdh_curve("prime256v1")
    context.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")

    def handshake(connection: socket.socket) -> None:
        with context.wrap_socket(connection, server_side=True) as tls:
            tls.unwrap()

    server = LoopbackServer(handshake)
    yield server
    server.close()


def _pyopenssl_server(
    cert_chain: Path, key_path: Path, groups: bytes, min_version: int = SSL.TLS1_3_VERSION
) -> LoopbackServer:
    from cryptography.hazmat.bindings.openssl.binding import Binding

    context = SSL.Context(SSL.TLS_METHOD)
    context.set_min_proto_version(min_version)
    context.use_certificate_chain_file(str(cert_chain))
    context.use_privatekey_file(str(key_path))
    if Binding.lib.SSL_CTX_set1_curves_list(context._context, groups) != 1:
        raise RuntimeError(f"this OpenSSL cannot offer {groups!r}")

    def handshake(connection: socket.socket) -> None:
        connection.settimeout(None)
        tls = SSL.Connection(context, connection)
        tls.set_accept_state()
        tls.do_handshake()
        tls.shutdown()

    return LoopbackServer(handshake)


@pytest.fixture(scope="session")
def hybrid_server(pki) -> Iterator[LoopbackServer]:
    """pyOpenSSL (bundled OpenSSL): TLS 1.3 only, groups X25519MLKEM768 and x25519, EC P-256 chain."""
    server = _pyopenssl_server(pki["chain"], pki["leaf"].key_path, b"X25519MLKEM768:x25519")
    yield server
    server.close()


@pytest.fixture(scope="session")
def hybrid_only_server(pki) -> Iterator[LoopbackServer]:
    """pyOpenSSL: TLS 1.3, X25519MLKEM768 only, EC P-256 chain: no classical key exchange to fall back to."""
    server = _pyopenssl_server(pki["chain"], pki["leaf"].key_path, b"X25519MLKEM768")
    yield server
    server.close()


@pytest.fixture(scope="session")
def pure_mlkem_server(pki) -> Iterator[LoopbackServer]:
    """pyOpenSSL: TLS 1.3, pure MLKEM768 only (no elliptic-curve share at all), EC P-256 chain."""
    server = _pyopenssl_server(pki["chain"], pki["leaf"].key_path, b"MLKEM768")
    yield server
    server.close()


@pytest.fixture(scope="session")
def hybrid_tls12_fallback_server(pki) -> Iterator[LoopbackServer]:
    """pyOpenSSL: TLS 1.2 and 1.3, groups X25519MLKEM768 then secp256r1 (TLS 1.2 ECDHE for legacy clients)."""
    server = _pyopenssl_server(pki["chain"], pki["leaf"].key_path, b"X25519MLKEM768:secp256r1", SSL.TLS1_2_VERSION)
    yield server
    server.close()


@pytest.fixture(scope="session")
def pq_server(pki) -> Iterator[LoopbackServer]:
    """pyOpenSSL: TLS 1.3, X25519MLKEM768 only, ML-DSA-65 certificate: no quantum-vulnerable algorithm."""
    server = _pyopenssl_server(pki["pq"].cert_path, pki["pq"].key_path, b"X25519MLKEM768")
    yield server
    server.close()


@pytest.fixture(scope="session")
def p256_hybrid_server(pki) -> Iterator[LoopbackServer]:
    """pyOpenSSL: TLS 1.3, groups SecP256r1MLKEM768 and secp384r1 only, EC P-256 chain."""
    server = _pyopenssl_server(pki["chain"], pki["leaf"].key_path, b"SecP256r1MLKEM768:secp384r1")
    yield server
    server.close()


def _openssl() -> str:
    binary = shutil.which("openssl")
    if binary is None:
        pytest.fail("the openssl command is missing: install the Debian package 'openssl'")
    return binary


@pytest.fixture(scope="session")
def legacy_certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed RSA-1024 certificate signed with SHA-1, made by the system ``openssl req``
    (``cryptography`` refuses to sign with SHA-1): certificate and key paths."""
    tmp = tmp_path_factory.mktemp("legacy")
    cert_path, key_path = tmp / "legacy.crt", tmp / "legacy.key"
    subprocess.run(
        [
            _openssl(),
            "req",
            "-x509",
            "-newkey",
            "rsa:1024",
            "-sha1",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=legacy.test",
        ]
        + ["-keyout", str(key_path), "-out", str(cert_path)],
        check=True,
        capture_output=True,
    )
    return cert_path, key_path


class OpenSslServer:
    """``openssl s_server`` of the system on 127.0.0.1 (an ephemeral port), stopped by :meth:`close`."""

    def __init__(self, *arguments: str) -> None:
        self._process = subprocess.Popen(
            [_openssl(), "s_server", "-accept", "127.0.0.1:0", "-www", *arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith("ACCEPT"):
                self.port = int(line.rsplit(":", 1)[1])
                break
        else:
            raise RuntimeError(f"openssl s_server {' '.join(arguments)} did not start (exit {self._process.wait()})")

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=5)
        if self._process.stdout is not None:
            self._process.stdout.close()


@pytest.fixture
def openssl_server(pki) -> Iterator[Callable[..., OpenSslServer]]:
    """Start ``openssl s_server`` with the RSA-2048 certificate (or ``cert``/``key`` given) and ``arguments``."""
    started: list[OpenSslServer] = []

    def start(*arguments: str, cert: Path | None = None, key: Path | None = None) -> OpenSslServer:
        server = OpenSslServer(
            "-cert", str(cert or pki["rsa"].cert_path), "-key", str(key or pki["rsa"].key_path), *arguments
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


class SshServer:
    """Debian's ``sshd`` on 127.0.0.1 with its own host keys and key-exchange list, stopped by :meth:`close`."""

    def __init__(self, folder: Path, kex: str | None, host_keys: dict[str, object]) -> None:
        binary = Path("/usr/sbin/sshd")
        if not binary.is_file():
            pytest.fail("sshd is missing: install the Debian package 'openssh-server'")
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd running as root insists on it
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        lines = [f"ListenAddress 127.0.0.1:{self.port}", "PidFile none", "UsePAM no", "StrictModes no"]
        for label, key in host_keys.items():
            path = folder / f"host_{label}"
            path.write_bytes(
                key.private_bytes(  # type: ignore[attr-defined]
                    serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
                )
            )
            path.chmod(0o600)
            lines.append(f"HostKey {path}")
        if kex is not None:
            lines.append(f"KexAlgorithms {kex}")
        config = folder / "sshd_config"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self._process = subprocess.Popen(
            [str(binary), "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return
            if self._process.poll() is not None:
                raise RuntimeError(f"sshd did not start: {self._process.stderr.read() if self._process.stderr else ''}")
            time.sleep(0.05)
        raise RuntimeError("sshd did not listen within 5 s")

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=5)
        if self._process.stderr is not None:
            self._process.stderr.close()


@pytest.fixture
def sshd(tmp_path) -> Iterator[Callable[..., SshServer]]:
    """Start ``sshd`` with ``kex`` (``None``: OpenSSH's default list) and host keys ``{label: private key}``."""
    started: list[SshServer] = []

    def start(kex: str | None, host_keys: dict[str, object]) -> SshServer:
        folder = tmp_path / f"sshd{len(started)}"
        folder.mkdir()
        server = SshServer(folder, kex, host_keys)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
