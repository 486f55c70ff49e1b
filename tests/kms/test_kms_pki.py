"""The KMS PKI: an offline CA, no CA key in any state, short-lived certificates, rotation and revocation,
checked with real files, real KMEs (uvicorn, mutual TLS) and an independent TLS client (pyOpenSSL)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import select
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.errors import InputError
from qit4n.kms.certs import DEFAULT_CERT_DAYS, THROWAWAY_CA_NAME, CertificateAuthority, certificate_info
from qit4n.kms.launcher import load_plan, write_kme_plan
from qit4n.kms.ops import InProcessNetwork, sae_client
from qit4n.kms.pki import revoked_serials

#: The TLS layer that rebuilds its context when certificate, key or CRL files are replaced, and
#: checks the CRL (the `pqtls` branch); without it a KME reads its files once, at start.
RELOADING_TLS = importlib.util.find_spec("qit4n.kms.tls") is not None


def _probe(url: str, ca: Path, cert: Path, key: Path, slave: str = "SAE-D") -> tuple[int | None, int | None]:
    """(serial of the KME's certificate, HTTP status of an ETSI status call) over a new TLS connection
    opened by pyOpenSSL, not by qit4n's TLS code; (None, None) if the handshake fails, (serial, None) if
    the KME closes the connection instead of answering."""
    from OpenSSL import SSL

    host, port = url.removeprefix("https://").rsplit(":", 1)
    context = SSL.Context(SSL.TLS_METHOD)
    context.load_verify_locations(str(ca))
    context.set_verify(SSL.VERIFY_PEER)
    context.use_certificate_chain_file(str(cert))
    context.use_privatekey_file(str(key))

    def patiently(call):
        for _ in range(100):
            try:
                return call()
            except SSL.WantReadError:
                select.select([raw], [], [], 0.05)
        raise TimeoutError("no answer within 5 s")

    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.setblocking(False)
        connection = SSL.Connection(context, raw)
        connection.set_connect_state()
        connection.set_tlsext_host_name(host.encode())
        try:
            patiently(connection.do_handshake)
        except SSL.Error:
            return None, None
        served = connection.get_peer_certificate(as_cryptography=True)
        serial = None if served is None else served.serial_number
        try:
            request = f"GET /api/v1/keys/{slave}/status HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
            connection.sendall(request.encode())
            answer = patiently(lambda: connection.recv(4096))
        except (SSL.Error, OSError):
            return serial, None
    return serial, int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/1.1 ") else None


def _probe_as(plan, sae_id: str, kme_id: str) -> tuple[int | None, int | None]:
    return _probe(plan.url(kme_id), *_ca_cert_key(plan, sae_id), slave="SAE-D" if sae_id != "SAE-D" else "SAE-A")


def _ca_cert_key(plan, entity: str) -> tuple[Path, Path, Path]:
    cert, key, ca = plan.sae_cert(entity)
    return ca, cert, key


def _serial(plan, entity: str) -> int:
    return certificate_info(plan.state_dir / "certs" / f"{entity}.pem").serial


@pytest.fixture
def offline(tmp_path, make_star):
    """A star network planned with an offline CA in ``tmp_path/ca``: (plan, CA folder)."""
    ca_dir = tmp_path / "ca"
    CertificateAuthority.create(ca_dir)
    return write_kme_plan(make_star(capacity_bits=2e5), tmp_path / "state", ca_dir=ca_dir), ca_dir


def test_an_offline_ca_leaves_no_ca_key_in_the_state_and_issues_short_lived_certificates(offline):
    plan, ca_dir = offline
    state = plan.state_dir
    ca_key = (ca_dir / "ca.key").read_bytes()
    assert not list(state.rglob("ca.key"))
    for path in state.rglob("*"):
        assert not path.is_file() or ca_key not in path.read_bytes(), path
    lifetime = certificate_info(state / "certs" / "SAE-A.pem").not_after - dt.datetime.now(dt.UTC)
    assert abs(lifetime - dt.timedelta(days=DEFAULT_CERT_DAYS)) < dt.timedelta(minutes=2)
    assert DEFAULT_CERT_DAYS <= 90
    assert certificate_info(state / "certs" / "KME-A.pem").names == ("127.0.0.1", "localhost")
    assert {config.crl for config in plan.configs.values()} == {state / "certs" / "crl.pem"}
    assert revoked_serials(state / "certs" / "crl.pem") == set()
    for path in [ca_dir, *ca_dir.iterdir(), state / "certs", *(state / "certs").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    with InProcessNetwork(plan), sae_client(plan, "SAE-A") as client:  # KMEs serve without the CA key
        assert client.status("SAE-D")["target_KME_ID"] == "KME-D"


def test_the_zero_config_path_uses_a_throwaway_ca_whose_key_is_never_written(tmp_path, make_star):
    state = tmp_path / "state"
    plan = write_kme_plan(make_star(), state)
    assert not list(state.rglob("ca.key")) and all(config.crl is None for config in plan.configs.values())
    first = _serial(plan, "KME-A")
    plan = write_kme_plan(make_star(), state)  # a restart reuses the certificates
    assert _serial(plan, "KME-A") == first
    # an expiring certificate: the whole set is renewed under a new throwaway CA
    throwaway = CertificateAuthority.create(None, common_name=THROWAWAY_CA_NAME)
    throwaway.issue(state / "certs", "SAE-A", server=False, days=1)
    renewed = write_kme_plan(make_star(), state)
    assert _serial(renewed, "KME-A") != first
    assert certificate_info(state / "certs" / "SAE-A.pem").not_after > dt.datetime.now(dt.UTC) + dt.timedelta(days=20)
    with InProcessNetwork(renewed), sae_client(renewed, "SAE-A") as client:
        assert client.status("SAE-D")["target_KME_ID"] == "KME-D"


def test_a_state_from_before_the_offline_ca_loses_its_online_ca_key(tmp_path, make_star):
    state = tmp_path / "state"
    write_kme_plan(make_star(), state)
    CertificateAuthority.create(state / "certs")  # the old layout: ca.key beside the certificates
    write_kme_plan(make_star(), state)
    assert not (state / "certs" / "ca.key").exists()
    assert (
        certificate_info(state / "certs" / "SAE-A.pem").issuer == certificate_info(state / "certs" / "ca.pem").subject
    )


def test_an_offline_state_that_needs_a_certificate_names_the_command(offline, make_star):
    plan, _ = offline
    (plan.state_dir / "certs" / "SAE-C.pem").unlink()
    with pytest.raises(InputError, match=r"SAE-C: missing.*qit4n kms certs issue --ca CA_DIR"):
        write_kme_plan(make_star(capacity_bits=2e5), plan.state_dir)
    result = CliRunner().invoke(
        app, ["kms", "certs", "issue", "--ca", str(plan.state_dir.parent / "ca"), "--state", str(plan.state_dir)]
    )
    assert result.exit_code == 0 and "issued: SAE-C;" in result.output, result.output


def test_rotate_replaces_certificates_atomically_and_a_restarted_kme_serves_the_new_one(offline):
    plan, ca_dir = offline
    certs = plan.state_dir / "certs"
    before = {entity: _serial(plan, entity) for entity in ("KME-A", "KME-D", "SAE-A")}
    with InProcessNetwork(plan):
        assert _probe_as(plan, "SAE-A", "KME-A") == (before["KME-A"], 200)
    runner = CliRunner()
    none_due = runner.invoke(
        app, ["kms", "certs", "rotate", "--ca", str(ca_dir), "--state", str(plan.state_dir), "--within-days", "5"]
    )
    assert none_due.exit_code == 0 and "rotated: nothing" in none_due.output
    result = runner.invoke(app, ["kms", "certs", "rotate", "--ca", str(ca_dir), "--state", str(plan.state_dir)])
    assert result.exit_code == 0, result.output
    after = {entity: _serial(plan, entity) for entity in before}
    assert all(after[entity] != before[entity] for entity in before)
    assert not [path.name for path in certs.iterdir() if path.name.startswith(".")]  # no temporary left
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in certs.iterdir())
    with InProcessNetwork(load_plan(plan.state_dir)):
        assert _probe_as(plan, "SAE-A", "KME-A") == (after["KME-A"], 200)


@pytest.mark.skipif(not RELOADING_TLS, reason="needs the reloading TLS layer of the pqtls branch (qit4n.kms.tls)")
def test_a_running_kme_keeps_serving_across_a_rotation_and_serves_the_new_certificate(offline, tmp_path):
    plan, ca_dir = offline
    old = _serial(plan, "KME-A")
    failures: list[object] = []
    stop = threading.Event()
    held = []  # the SAE keeps the pair it loaded (still valid) while the files are replaced
    for source in _ca_cert_key(plan, "SAE-A"):
        held.append(tmp_path / f"held-{source.name}")
        held[-1].write_bytes(source.read_bytes())

    def keep_asking() -> None:  # a new TLS connection per request, as new SAE sessions do
        while not stop.is_set():
            try:
                _, code = _probe(plan.url("KME-A"), *held)
                if code != 200:
                    failures.append(code)
            except OSError as error:
                failures.append(error)

    with InProcessNetwork(plan):
        asker = threading.Thread(target=keep_asking)
        asker.start()
        time.sleep(0.3)
        result = CliRunner().invoke(
            app, ["kms", "certs", "rotate", "--ca", str(ca_dir), "--state", str(plan.state_dir)]
        )
        new = _serial(plan, "KME-A")
        deadline = time.monotonic() + 10
        while _probe_as(plan, "SAE-A", "KME-A")[0] != new and time.monotonic() < deadline:
            time.sleep(0.05)
        served = _probe_as(plan, "SAE-A", "KME-A")
        time.sleep(0.3)
        stop.set()
        asker.join(timeout=10)
    assert result.exit_code == 0, result.output
    assert new != old and served == (new, 200)
    assert failures == []


def test_revoke_lists_every_unexpired_certificate_of_the_entity_in_a_crl_signed_by_the_ca(offline):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from OpenSSL import crypto

    plan, ca_dir = offline
    runner = CliRunner()
    first = _serial(plan, "SAE-A")
    state = ["--ca", str(ca_dir), "--state", str(plan.state_dir)]
    assert runner.invoke(app, ["kms", "certs", "rotate", *state, "SAE-A"]).exit_code == 0
    second = _serial(plan, "SAE-A")
    result = runner.invoke(app, ["kms", "certs", "revoke", *state, "SAE-A"])
    assert result.exit_code == 0 and "revoked 2 certificate(s)" in result.output, result.output
    crl_file = plan.state_dir / "certs" / "crl.pem"
    assert revoked_serials(crl_file) == {first, second} == revoked_serials(ca_dir / "crl.pem")
    crl = x509.load_pem_x509_crl(crl_file.read_bytes())
    ca_public = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes()).public_key()
    assert isinstance(ca_public, ec.EllipticCurvePublicKey) and crl.is_signature_valid(ca_public)
    # an X.509 verifier with the CRL (OpenSSL through pyOpenSSL) refuses SAE-A and accepts SAE-D
    store = crypto.X509Store()
    store.add_cert(crypto.X509.from_cryptography(x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())))
    store.add_crl(crl)
    store.set_flags(crypto.X509StoreFlags.CRL_CHECK)

    def verify(entity: str) -> bool:
        leaf = x509.load_pem_x509_certificate((plan.state_dir / "certs" / f"{entity}.pem").read_bytes())
        try:
            crypto.X509StoreContext(store, crypto.X509.from_cryptography(leaf)).verify_certificate()
        except crypto.X509StoreContextError:
            return False
        return True

    assert (verify("SAE-A"), verify("SAE-D")) == (False, True)
    shown = runner.invoke(app, ["kms", "certs", "show", "--state", str(plan.state_dir), "--json"])
    flags = {row["entity"]: row["revoked"] for row in __import__("json").loads(shown.output)}
    assert flags["SAE-A"] is True and flags["SAE-D"] is False
    unknown = runner.invoke(app, ["kms", "certs", "revoke", *state, "SAE-Z"])
    assert isinstance(unknown.exception, InputError)
    assert "SAE-Z: this CA issued no certificate to it" in str(unknown.exception)


@pytest.mark.skipif(not RELOADING_TLS, reason="needs the CRL-checking TLS layer of the pqtls branch (qit4n.kms.tls)")
def test_a_running_kme_refuses_a_revoked_sae_from_its_next_handshake(offline):
    plan, ca_dir = offline
    with InProcessNetwork(plan):
        assert _probe_as(plan, "SAE-A", "KME-A")[1] == 200
        result = CliRunner().invoke(
            app, ["kms", "certs", "revoke", "--ca", str(ca_dir), "--state", str(plan.state_dir), "SAE-A"]
        )
        assert result.exit_code == 0, result.output
        assert _probe_as(plan, "SAE-A", "KME-A")[1] is None
        assert _probe_as(plan, "SAE-D", "KME-D")[1] == 200


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["init", "--ca", "{ca}"], "a CA is already there"),
        (["init", "--ca", "{tmp}/other", "--days", "0"], "--days = 0: must lie in (0, 3650] days"),
        (["rotate", "--ca", "{ca}", "--state", "{state}", "--days", "5000"], "lifetime = 5000: must lie in"),
        (["issue", "--ca", "{tmp}/nothing", "--state", "{state}"], "no CA there"),
        (["rotate", "--ca", "{ca}", "--state", "{state}", "SAE-Q"], "SAE-Q: not an entity of"),
        (["revoke", "--ca", "{ca}", "--state", "{state}", "--serial", "xyz"], "--serial = 'xyz'"),
    ],
)
def test_bad_certs_input_is_an_input_error_naming_the_option(offline, tmp_path, argv, message):
    plan, ca_dir = offline
    filled = [part.format(ca=ca_dir, tmp=tmp_path, state=plan.state_dir) for part in argv]
    result = CliRunner().invoke(app, ["kms", "certs", *filled])
    assert isinstance(result.exception, InputError) and message in str(result.exception), result.output


def test_a_bad_certs_command_exits_2_with_one_line_and_no_traceback(tmp_path):
    command = [sys.executable, "-m", "qit4n", "kms", "certs", "issue", "--ca", str(tmp_path), "--state", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: --state {tmp_path}: no KME configs found (run `qit4n kms plan")


def test_an_offline_ca_takes_a_throwaway_state_over_whole_and_revokes_only_in_its_own(tmp_path, make_star):
    from qit4n.kms.pki import revoke

    state = tmp_path / "state"
    write_kme_plan(make_star(), state)
    ca_dir = tmp_path / "ca"
    authority = CertificateAuthority.create(ca_dir)
    with pytest.raises(InputError, match="from another CA than --ca"):
        revoke(state, ca_dir, entities=["SAE-A"], serials=[])
    assert not (state / "certs" / "crl.pem").exists()
    result = CliRunner().invoke(app, ["kms", "certs", "rotate", "--ca", str(ca_dir), "--state", str(state), "SAE-A"])
    assert result.exit_code == 0 and "rotated: KME-A, KME-B, KME-C, KME-D, SAE-A, SAE-C, SAE-D" in result.output
    assert (state / "certs" / "ca.pem").read_bytes() == authority.cert_pem
    subject = certificate_info(state / "certs" / "ca.pem").subject
    assert {certificate_info(path).issuer for path in (state / "certs").glob("[KSq]*.pem")} == {subject}
    plan = write_kme_plan(make_star(), state)  # now an offline-CA state: the KMEs check its CRL
    assert {config.crl for config in plan.configs.values()} == {state / "certs" / "crl.pem"}
