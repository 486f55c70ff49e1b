"""Post-quantum mutual TLS of real KMEs: X25519MLKEM768 on the SAE and KME-to-KME interfaces,
classical groups only where configured, revocation (CRL) and rotation without downtime.

X25519MLKEM768: draft-ietf-tls-ecdhe-mlkem (hybrid of X25519 and ML-KEM-768, FIPS 203).
"""

from __future__ import annotations

import datetime as dt
import os
import ssl
from pathlib import Path

import httpx
import pytest

from qit4n.kms.certs import CertPaths, create_ca, issue_certificate
from qit4n.kms.client import SAEClient, sae_transport
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork

STATUS = "/api/v1/keys/SAE-D/status"


def _write_crl(ca: CertPaths, path: Path, revoked_serials: list[int]) -> None:
    """A CRL of ``ca`` revoking ``revoked_serials``, written by atomic replace (as an operator would)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - dt.timedelta(minutes=1))
        .next_update(now + dt.timedelta(days=1))
    )
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    crl = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    staged = path.with_suffix(".new")
    staged.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    os.replace(staged, path)


def _serial(cert: Path) -> int:
    from cryptography import x509

    return x509.load_pem_x509_certificate(cert.read_bytes()).serial_number


def _group_and_peer(client: httpx.Client, url: str) -> tuple[int, str | None, str | None, object]:
    with client.stream("GET", url) as response:
        response.read()  # a response read to its end leaves the connection in the pool
        stream = response.extensions["network_stream"]
        session = stream.get_extra_info("ssl_object")
        return response.status_code, session.group, session.peer_common_name, stream.get_extra_info("client_addr")


@pytest.fixture(scope="module")
def pq_network(tmp_path_factory, make_star, live_network):
    """The star network with default groups, certificates from an offline CA and its CRL on every KME."""
    ca_dir = tmp_path_factory.mktemp("ca")
    ca = create_ca(ca_dir)
    state = tmp_path_factory.mktemp("kms-pq") / "state"
    plan = write_kme_plan(make_star(capacity_bits=4e5), state, ca_dir=ca_dir)
    crl = plan.configs["KME-A"].crl
    assert crl is not None and {config.crl for config in plan.configs.values()} == {crl}
    _write_crl(ca, crl, [])  # ours, made with cryptography, replaces the one the plan wrote
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-C", 40)
        live.ca = ca
        yield live


@pytest.fixture(scope="module")
def classical_allowed(tmp_path_factory, live_network):
    """A two-KME network configured to accept x25519 besides the hybrid."""
    from qit4n.scenario import scenario_from_dict

    scenario = scenario_from_dict(
        {
            "name": "kms-pq-pair",
            "nodes": [{"id": "A"}, {"id": "D"}],
            "links": [{"id": "A-D", "endpoints": ["A", "D"], "key_rate_bps": 1e6, "pool_capacity_bits": 2e5}],
        }
    )
    state = tmp_path_factory.mktemp("kms-classical") / "state"
    plan = write_kme_plan(scenario, state, overrides={"tls_groups": ["X25519MLKEM768", "x25519"]})
    with InProcessNetwork(plan):
        yield live_network(plan)


def _stdlib_client(cert: Path, key: Path, ca: Path) -> httpx.Client:
    """A classical-only client: Python's ssl on the system OpenSSL 3.0 (no ML-KEM), like third-party ETSI clients."""
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(cert), str(key))
    return httpx.Client(verify=context, timeout=5)


def test_the_sae_interface_negotiates_x25519mlkem768(pq_network, tls_probe):
    url, (cert, key, ca) = pq_network.url("KME-A"), pq_network.plan.sae_cert("SAE-A")
    with httpx.Client(transport=pq_network.transport("SAE-A"), timeout=5) as client:
        status, group, peer, _ = _group_and_peer(client, url + STATUS)
    assert (status, group, peer) == (200, "X25519MLKEM768", "KME-A")
    # An independent client with OpenSSL's default offer (pyOpenSSL, written in conftest).
    assert tls_probe(url, ca, cert=cert, key=key) == ("X25519MLKEM768", 200)


def test_the_kme_to_kme_interface_negotiates_x25519mlkem768_and_relays(pq_network, tls_probe):
    import asyncio

    from qit4n.kms.relay import client_tls_source
    from qit4n.kms.tls_client import async_tls_transport

    config = pq_network.plan.configs["KME-A"]
    peer_url = pq_network.url("KME-B") + "/kme/v1/health"

    async def ask() -> tuple[int, str | None, str | None]:
        # The transport the relay engine builds (RelayEngine.start), as KME-A towards KME-B.
        transport = async_tls_transport(client_tls_source(config))
        async with (
            httpx.AsyncClient(transport=transport, timeout=5) as client,
            client.stream("GET", peer_url) as response,
        ):
            session = response.extensions["network_stream"].get_extra_info("ssl_object")
            return response.status_code, session.group, session.peer_common_name

    assert asyncio.run(ask()) == (200, "X25519MLKEM768", "KME-B")
    assert tls_probe(peer_url.removesuffix("/kme/v1/health"), config.ca, cert=config.cert, key=config.key)[0] == (
        "X25519MLKEM768"
    )
    with pq_network.client("SAE-A") as master, pq_network.client("SAE-C") as slave:
        keys = master.get_key("SAE-C", number=2)  # relayed A -> B -> C over the KME-to-KME interface
        assert [k.key for k in slave.get_key_with_ids("SAE-A", [k.key_id for k in keys])] == [k.key for k in keys]


def test_a_classical_only_client_is_refused_by_default(pq_network, tls_probe):
    url, (cert, key, ca) = pq_network.url("KME-A"), pq_network.plan.sae_cert("SAE-A")
    with _stdlib_client(cert, key, ca) as client, pytest.raises(httpx.ConnectError):
        client.get(url + STATUS)
    assert tls_probe(url, ca, cert=cert, key=key, groups="x25519:secp256r1:secp384r1") == (None, None)
    with (
        httpx.Client(transport=sae_transport(cert, key, ca, groups=["x25519"]), timeout=5) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get(url + STATUS)


def test_x25519_is_accepted_where_configured_and_the_hybrid_still_preferred(classical_allowed, tls_probe):
    url, (cert, key, ca) = classical_allowed.url("KME-A"), classical_allowed.plan.sae_cert("SAE-A")
    with _stdlib_client(cert, key, ca) as client:
        assert client.get(url + STATUS).status_code == 200
    assert tls_probe(url, ca, cert=cert, key=key, groups="x25519") == ("x25519", 200)
    assert tls_probe(url, ca, cert=cert, key=key) == ("X25519MLKEM768", 200)
    with SAEClient(url, cert, key, ca) as client:
        assert client.status("SAE-D")["slave_SAE_ID"] == "SAE-D"


def test_the_threat_scanner_reports_post_quantum_only(pq_network):
    """qit4n's scanner presents no client certificate: in TLS 1.3 the client finishes its handshake
    before the server asks for the certificate, so the negotiated group is seen, then the KME closes."""
    from qit4n.threat.scan import scan_tls

    host, port = pq_network.url("KME-A").removeprefix("https://").split(":")
    scan = scan_tls(host, int(port), timeout_s=5)
    assert scan.negotiated_group == "X25519MLKEM768"
    assert scan.accepted_groups == ("X25519MLKEM768", "SecP256r1MLKEM768")
    assert scan.accepted_versions == ("TLSv1.3",)
    assert scan.verdict == "post-quantum key exchange only"
    assert all(exchange.post_quantum for exchange in scan.key_exchanges)


def test_a_revoked_client_certificate_is_refused_after_the_crl_is_replaced(pq_network, tls_probe):
    import time

    from qit4n.kms.tls_server import REVOCATION_CHECK_S

    plan = pq_network.plan
    url, path = pq_network.url("KME-D"), "/api/v1/keys/SAE-A/status"
    cert, key, ca = plan.sae_cert("SAE-D")
    assert tls_probe(url, ca, cert=cert, key=key, path=path) == ("X25519MLKEM768", 200)
    ca_paths = pq_network.ca
    crl = plan.configs["KME-D"].crl
    assert crl is not None
    with httpx.Client(base_url=url, transport=pq_network.transport("SAE-D"), timeout=5) as open_client:
        assert open_client.get(path).status_code == 200
        _write_crl(ca_paths, crl, [_serial(cert)])
        try:
            assert tls_probe(url, ca, cert=cert, key=key, path=path)[1] is None  # new handshakes fail
            with (
                httpx.Client(base_url=url, transport=pq_network.transport("SAE-D"), timeout=5) as client,
                pytest.raises(httpx.HTTPError),
            ):
                client.get(path)
            time.sleep(REVOCATION_CHECK_S + 0.1)
            with pytest.raises(httpx.HTTPError):  # the connection opened before the revocation is closed
                open_client.get(path)
            with pq_network.client("SAE-A") as other:  # other SAEs are unaffected
                assert other.status("SAE-D")["slave_SAE_ID"] == "SAE-D"
        finally:
            _write_crl(ca_paths, crl, [])
    assert tls_probe(url, ca, cert=cert, key=key, path=path) == ("X25519MLKEM768", 200)


def test_a_rotated_server_certificate_serves_new_connections_and_keeps_open_ones(pq_network, tmp_path):
    from cryptography import x509

    plan = pq_network.plan
    config = plan.configs["KME-A"]
    url = pq_network.url("KME-A") + STATUS
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(transport=pq_network.transport("SAE-A", limits=limits), timeout=5) as open_client:
        before = _group_and_peer(open_client, url)
        old_serial = _serial(config.cert)
        fresh = issue_certificate(pq_network.ca, tmp_path / "fresh", "KME-A", server=True)
        os.replace(fresh.key, config.key)  # key first: until the certificate follows, the old pair stays in use
        assert open_client.get(url).status_code == 200
        os.replace(fresh.cert, config.cert)
        after = _group_and_peer(open_client, url)
        assert after[0] == 200 and after[3] == before[3]  # same connection, still served
    with (
        httpx.Client(transport=pq_network.transport("SAE-A"), timeout=5) as new_client,
        new_client.stream("GET", url) as response,
    ):
        peer = response.extensions["network_stream"].get_extra_info("ssl_object").peer_certificate
        assert response.status_code == 200
    assert isinstance(peer, x509.Certificate) and peer.serial_number == _serial(config.cert) != old_serial


def test_kms_up_reads_tls_groups_from_the_config_file_and_names_a_bad_group(tmp_path):
    import subprocess
    import sys

    import yaml

    from qit4n.kms.config import KMSSettings
    from qit4n.scenario import scenario_from_dict

    scenario = {
        "name": "kms-tls-pair",
        "nodes": [{"id": "A"}, {"id": "D"}],
        "links": [{"id": "A-D", "endpoints": ["A", "D"], "key_rate_bps": 1e6, "pool_capacity_bits": 2e5}],
    }
    (tmp_path / "pair.yaml").write_text(yaml.safe_dump(scenario))
    settings = tmp_path / "kms.yaml"
    command = [sys.executable, "-c", "from qit4n.cli import main; main()", "kms", "up", str(tmp_path / "pair.yaml")]
    settings.write_text(yaml.safe_dump({"tls_groups": ["X25519MLKEM768", "x25519-classic"]}))
    bad = subprocess.run([*command, "--config", str(settings)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "tls_groups[1] = 'x25519-classic'" in bad.stderr
    # The accepted file reaches every KME's config the way quotas do (test_kms_quotas runs `kms up` to the end).
    overrides = KMSSettings.model_validate({"tls_groups": ["X25519MLKEM768", "x25519"]}).overrides()
    plan = write_kme_plan(scenario_from_dict(scenario), tmp_path / "state", overrides=overrides)
    assert {tuple(config.tls_groups) for config in plan.configs.values()} == {("X25519MLKEM768", "x25519")}
