"""The tunnel examples: QKD keys from real KMEs keying a TLS 1.3 session (external PSK) and WireGuard."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

import tls_psk_tunnel  # noqa: E402  (the examples folder is put on the path above)
import wireguard_psk_rotation  # noqa: E402

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@needs_openssl
def test_tls_sessions_run_on_fresh_qkd_keys():
    sessions = tls_psk_tunnel.main(sessions=3, interval_s=0.2)
    assert [session.data_crossed for session in sessions] == [True, True, True]
    assert {session.protocol for session in sessions} == {"TLSv1.3"}
    assert len({session.key_id for session in sessions}) == 3


@needs_openssl
def test_tls_session_with_unequal_keys_moves_no_data():
    session = tls_psk_tunnel.run_session("key-1", os.urandom(32), os.urandom(32), "must not arrive", timeout_s=5)
    assert not session.data_crossed
    assert session.received == ""


wireguard_reason = wireguard_psk_rotation.missing_requirements()


@pytest.mark.skipif(wireguard_reason is not None, reason=f"WireGuard example: {wireguard_reason}")
def test_wireguard_traffic_flows_across_psk_rotations():
    rotations = wireguard_psk_rotation.main(rotations=3, interval_s=1.2)
    assert len({rotation.key_id for rotation in rotations}) == 3
    assert all(rotation.confirmed for rotation in rotations)
    for rotation in rotations:
        assert rotation.pings_sent >= 1
        assert rotation.pings_received >= rotation.pings_sent - 1


@pytest.mark.skipif(wireguard_reason is not None, reason=f"WireGuard example: {wireguard_reason}")
def test_wireguard_with_unequal_preshared_keys_carries_nothing():
    with wireguard_psk_rotation.two_sites() as (alice, bob):
        wireguard_psk_rotation.set_peer(bob, alice, os.urandom(32), replace=False)
        wireguard_psk_rotation.set_peer(alice, bob, os.urandom(32), replace=False)
        ping = ["ip", "netns", "exec", alice.namespace, "ping", "-c", "2", "-W", "1", "10.240.0.2"]
        assert subprocess.run(ping, capture_output=True, timeout=30).returncode != 0
        assert alice.latest_handshake_s() == 0
