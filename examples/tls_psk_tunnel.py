"""TLS 1.3 sessions keyed by QKD: an external pre-shared key from ETSI GS QKD 014, renewed on a schedule.

Every ``interval_s`` seconds Alice and Bob take a fresh 256-bit key from their KMEs (see
``qkd_keys.py``) and open a new TLS 1.3 session with it as the external PSK (RFC 8446 section
2.2, the key_ID as PSK identity): Bob runs ``openssl s_server``, Alice ``openssl s_client``, no
certificates. OpenSSL's default PSK mode is psk_dhe_ke, so each session key also mixes in an
ephemeral X25519 secret. Bob's server answers each line reversed (``-rev``), so data crosses both
ways. A session whose two ends hold different keys fails the PSK binder check: no data moves.

Python's ``ssl`` module (3.11) offers no external PSK, hence OpenSSL's command-line tools.

Run: ``python examples/tls_psk_tunnel.py``.
"""

from __future__ import annotations

import argparse
import re
import select
import shutil
import subprocess
import time
from dataclasses import dataclass

from qkd_keys import key_pair_network

from qit4n.kms.launcher import free_port

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Session:
    """One TLS session: the QKD key it ran on and what crossed it."""

    key_id: str
    protocol: str | None
    cipher_suite: str | None
    sent: str
    received: str

    @property
    def data_crossed(self) -> bool:
        """Bob's server sent back Alice's line reversed."""
        return self.received == self.sent[::-1]


def _field(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text)
    return match.group(1) if match else None


def run_session(key_id: str, server_key: bytes, client_key: bytes, line: str, timeout_s: float = 10.0) -> Session:
    """One TLS 1.3 session over 127.0.0.1 with the given PSKs; returns what the client read back."""
    port = free_port()
    server = subprocess.Popen(
        ["openssl", "s_server", "-tls1_3", "-nocert", "-psk", server_key.hex(), "-psk_identity", key_id]
        + ["-accept", f"{HOST}:{port}", "-naccept", "1", "-rev", "-brief"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        received, report = _exchange(port, key_id, client_key, line, timeout_s)
    finally:
        server.terminate()
        server.wait(timeout=timeout_s)
    return Session(
        key_id=key_id,
        protocol=_field(r"Protocol version: (\S+)", report),
        cipher_suite=_field(r"Ciphersuite: (\S+)", report),
        sent=line,
        received=received,
    )


def _exchange(port: int, key_id: str, key: bytes, line: str, timeout_s: float) -> tuple[str, str]:
    """s_client with the PSK sends one line and waits for one line back (or the end of the session).

    Returns (line read back, s_client's handshake report). Retries while the server is not yet
    listening.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        client = subprocess.Popen(
            ["openssl", "s_client", "-tls1_3", "-psk", key.hex(), "-psk_identity", key_id]
            + ["-connect", f"{HOST}:{port}", "-brief", "-no_ign_eof"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert client.stdin is not None and client.stdout is not None
        client.stdin.write(line + "\n")
        client.stdin.flush()
        readable, _, _ = select.select([client.stdout], [], [], max(0.0, deadline - time.monotonic()))
        received = client.stdout.readline().strip() if readable else ""
        _, report = client.communicate(timeout=timeout_s)
        if "Connection refused" not in report or time.monotonic() > deadline:
            return received, report
        time.sleep(0.05)


def main(sessions: int = 3, interval_s: float = 1.0) -> list[Session]:
    """Run ``sessions`` TLS sessions, a fresh QKD key each, one every ``interval_s`` seconds."""
    if shutil.which("openssl") is None:
        raise SystemExit("tls_psk_tunnel: needs the openssl command (Debian package openssl)")
    done: list[Session] = []
    with key_pair_network() as keys:
        keys.wait_for(sessions)
        for index in range(sessions):
            started = time.monotonic()
            shared = keys.next_key()
            done.append(run_session(shared.key_id, shared.bob_key, shared.alice_key, f"session {index} over QKD"))
            time.sleep(max(0.0, interval_s - (time.monotonic() - started)))
    return done


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--interval-s", type=float, default=1.0)
    arguments = parser.parse_args()
    for session in main(arguments.sessions, arguments.interval_s):
        crossed = "data crossed" if session.data_crossed else "NO DATA"
        print(f"{session.key_id}  {session.protocol} {session.cipher_suite}  {crossed}: {session.received!r}")
