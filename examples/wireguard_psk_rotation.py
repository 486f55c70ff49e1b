"""A WireGuard tunnel between two network namespaces whose preshared key comes from QKD and is rotated.

Two network namespaces stand for two sites, joined by a veth pair (192.168.240.1-2/30). Each runs
``wireguard-go`` (userspace WireGuard, Debian package wireguard-go) with its own Curve25519 key
pair; the tunnel addresses are 10.240.0.1 and 10.240.0.2. WireGuard's optional preshared key is
mixed into every handshake (Donenfeld, NDSS 2017, section 5.4), which is how a symmetric QKD key
adds protection against a future quantum computer that breaks Curve25519.

Every ``interval_s`` seconds both sites take a fresh 256-bit key from their KMEs (see
``qkd_keys.py``; ETSI GS QKD 014 over mutual TLS) and install it as the peer's preshared key
(``wg set ... preshared-key /dev/stdin``: the key never touches the disk). Bob (the responder)
installs it first; Alice then re-adds the peer, which drops her session so that her next packet
starts a handshake under the new key. A ping loop runs across the tunnel the whole time, so the
example shows traffic flowing across rotations, and every rotation is confirmed by a handshake
newer than it on both sides.

Needs root (namespaces and a TUN device), /dev/net/tun, and the commands ip, wg, wireguard-go and
ping (Debian: iproute2, wireguard-tools, wireguard-go, iputils-ping).

Run: ``python examples/wireguard_psk_rotation.py``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from qkd_keys import KeyPairSource, key_pair_network

REQUIRED_COMMANDS = ("ip", "wg", "wireguard-go", "ping")
UNDERLAY = {"alice": "192.168.240.1", "bob": "192.168.240.2"}
TUNNEL = {"alice": "10.240.0.1", "bob": "10.240.0.2"}
LISTEN_PORT = 51820


def missing_requirements() -> str | None:
    """Why this machine cannot run the example, or None when it can."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and a TUN device)"
    if not os.path.exists("/dev/net/tun"):
        return "needs /dev/net/tun"
    absent = [name for name in REQUIRED_COMMANDS if shutil.which(name) is None]
    if absent:
        return f"needs the commands {', '.join(absent)} (Debian: iproute2 wireguard-tools wireguard-go iputils-ping)"
    probe = f"qit4n-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=30)
    if made.returncode != 0:
        return f"this machine refuses network namespaces ({made.stderr.strip()})"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=30)
    return None


def _run(*command: str, stdin: str | None = None) -> str:
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip() or result.returncode}")
    return result.stdout


@dataclass
class Site:
    """One end of the tunnel: a namespace, its WireGuard interface and key pair."""

    name: str
    namespace: str
    interface: str
    private_key: str = field(repr=False)
    public_key: str

    def netns(self, *command: str, stdin: str | None = None) -> str:
        """Run a command inside this site's namespace."""
        return _run("ip", "netns", "exec", self.namespace, *command, stdin=stdin)

    def latest_handshake_s(self) -> int:
        """Unix time of the last completed handshake with the peer (0: none yet)."""
        line = self.netns("wg", "show", self.interface, "latest-handshakes").split()
        return int(line[1]) if len(line) >= 2 else 0


def _new_site(name: str, suffix: str) -> Site:
    private_key = _run("wg", "genkey").strip()
    public_key = _run("wg", "pubkey", stdin=private_key).strip()
    return Site(name, f"qit4n-{name}-{suffix}", f"wg{name[0]}{suffix}"[:15], private_key, public_key)


def _wait_for_interface(site: Site, daemon: subprocess.Popen, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while subprocess.run(["ip", "-n", site.namespace, "link", "show", site.interface], capture_output=True).returncode:
        if daemon.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"wireguard-go did not create {site.interface} in {site.namespace}")
        time.sleep(0.05)


@contextlib.contextmanager
def two_sites() -> Iterator[tuple[Site, Site]]:
    """Two namespaces joined by veth, each with a running wireguard-go; everything removed on exit."""
    suffix = str(os.getpid())
    alice, bob = _new_site("alice", suffix), _new_site("bob", suffix)
    veth = {"alice": f"qv{suffix}a", "bob": f"qv{suffix}b"}
    daemons: list[subprocess.Popen] = []
    try:
        for site in (alice, bob):
            _run("ip", "netns", "add", site.namespace)
            site.netns("ip", "link", "set", "lo", "up")
        _run(
            "ip",
            "link",
            "add",
            veth["alice"],
            "netns",
            alice.namespace,
            "type",
            "veth",
            "peer",
            "name",
            veth["bob"],
            "netns",
            bob.namespace,
        )
        for site in (alice, bob):
            site.netns("ip", "addr", "add", f"{UNDERLAY[site.name]}/30", "dev", veth[site.name])
            site.netns("ip", "link", "set", veth[site.name], "up")
        for site in (alice, bob):
            daemon = subprocess.Popen(
                ["ip", "netns", "exec", site.namespace, "wireguard-go", "-f", site.interface],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            daemons.append(daemon)
            _wait_for_interface(site, daemon)
            site.netns(
                "wg",
                "set",
                site.interface,
                "private-key",
                "/dev/stdin",
                "listen-port",
                str(LISTEN_PORT),
                stdin=site.private_key,
            )
            site.netns("ip", "addr", "add", f"{TUNNEL[site.name]}/24", "dev", site.interface)
            site.netns("ip", "link", "set", site.interface, "up")
        yield alice, bob
    finally:
        for daemon in daemons:
            daemon.terminate()
            daemon.wait(timeout=10)
        for site in (alice, bob):
            subprocess.run(["ip", "netns", "del", site.namespace], capture_output=True, timeout=30)


def set_peer(site: Site, peer: Site, preshared_key: bytes, *, replace: bool) -> None:
    """Install ``peer`` with ``preshared_key`` on ``site`` (``replace``: drop the peer and its session first)."""
    if replace:
        site.netns("wg", "set", site.interface, "peer", peer.public_key, "remove")
    site.netns(
        "wg",
        "set",
        site.interface,
        "peer",
        peer.public_key,
        "preshared-key",
        "/dev/stdin",
        "endpoint",
        f"{UNDERLAY[peer.name]}:{LISTEN_PORT}",
        "allowed-ips",
        f"{TUNNEL[peer.name]}/32",
        stdin=base64.b64encode(preshared_key).decode(),
    )


@dataclass
class PingLoop:
    """Pings Bob's tunnel address from Alice's namespace every ``period_s`` until stopped."""

    alice: Site
    period_s: float = 0.1
    outcomes: list[tuple[float, bool]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def between(self, start_s: float, end_s: float) -> tuple[int, int]:
        """(sent, answered) of the pings sent in ``[start_s, end_s)`` (Unix time)."""
        window = [answered for sent_at, answered in self.outcomes if start_s <= sent_at < end_s]
        return len(window), sum(window)

    def _loop(self) -> None:
        while not self._stop.wait(self.period_s):
            ping = ["ip", "netns", "exec", self.alice.namespace, "ping", "-c", "1", "-W", "1", TUNNEL["bob"]]
            sent_at = time.time()
            answered = subprocess.run(ping, capture_output=True, timeout=10).returncode == 0
            self.outcomes.append((sent_at, answered))


@dataclass(frozen=True)
class Rotation:
    """One preshared-key rotation and what the tunnel did after it."""

    key_id: str
    installed_at_s: float
    alice_handshake_s: int
    bob_handshake_s: int
    pings_sent: int
    pings_received: int

    @property
    def confirmed(self) -> bool:
        """Both ends completed a handshake no older than the rotation (WireGuard times are whole seconds)."""
        return min(self.alice_handshake_s, self.bob_handshake_s) >= int(self.installed_at_s)


def _install(alice: Site, bob: Site, keys: KeyPairSource) -> tuple[str, float]:
    """Put a fresh QKD key in place as the preshared key at both ends; returns its key_ID and the time."""
    shared = keys.next_key()
    installed_at = time.time()
    set_peer(bob, alice, shared.bob_key, replace=False)
    set_peer(alice, bob, shared.alice_key, replace=True)
    return shared.key_id, installed_at


def main(rotations: int = 3, interval_s: float = 1.5) -> list[Rotation]:
    """Bring the tunnel up on a QKD key, rotate it ``rotations - 1`` times, ``interval_s`` apart."""
    reason = missing_requirements()
    if reason is not None:
        raise SystemExit(f"wireguard_psk_rotation: {reason}")
    installed: list[tuple[str, float, int, int]] = []
    with key_pair_network() as keys, two_sites() as (alice, bob):
        keys.wait_for(rotations)
        pings = PingLoop(alice)
        try:
            for index in range(rotations):
                key_id, installed_at = _install(alice, bob, keys)
                if index == 0:
                    pings.start()
                time.sleep(interval_s)
                installed.append((key_id, installed_at, alice.latest_handshake_s(), bob.latest_handshake_s()))
        finally:
            pings.stop()
    ends = [at for _, at, _, _ in installed[1:]] + [float("inf")]
    done = []
    for (key_id, installed_at, alice_handshake, bob_handshake), end in zip(installed, ends):
        sent, answered = pings.between(installed_at, end)
        done.append(Rotation(key_id, installed_at, alice_handshake, bob_handshake, sent, answered))
    return done


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rotations", type=int, default=3)
    parser.add_argument("--interval-s", type=float, default=1.5)
    arguments = parser.parse_args()
    for rotation in main(arguments.rotations, arguments.interval_s):
        state = "confirmed" if rotation.confirmed else "NOT confirmed"
        print(f"{rotation.key_id}: handshake {state}, pings {rotation.pings_received}/{rotation.pings_sent}")
