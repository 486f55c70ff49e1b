"""KMEs spread over machines: host names and bind addresses in the config, per-host bundles from
``kms plan``, and ``kms serve`` processes on distinct loopback addresses serving keys end to end."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.errors import InputError
from qit4n.kms.certs import CertificateAuthority, certificate_info
from qit4n.kms.config import KMEConfig, KMEHost, read_kme_config
from qit4n.kms.launcher import free_port, load_plan, write_kme_plan
from qit4n.kms.ops import sae_client

ADDRESSES = {"KME-A": "127.0.0.2", "KME-B": "127.0.0.3", "KME-C": "127.0.0.4", "KME-D": "127.0.0.2"}


def _minimal(**fields: object) -> dict[str, object]:
    return {
        "kme_id": "KME-A",
        "port": 8443,
        "database": "d",
        "cert": "c",
        "key": "k",
        "ca": "a",
        "directory": {},
        **fields,
    }


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("kme-a.example.net", "https://kme-a.example.net:8443"),
        ("KME-A.Example.NET", "https://kme-a.example.net:8443"),
        ("10.0.0.2", "https://10.0.0.2:8443"),
        ("::1", "https://[::1]:8443"),
        ("0.0.0.0", "https://0.0.0.0:8443"),
    ],
)
def test_a_kme_host_is_any_address_or_host_name(host, url):
    assert KMEConfig.model_validate(_minimal(host=host)).url == url


@pytest.mark.parametrize("host", ["", "kme_a", "-a.example", "a..b", "http://a", "a b", "x" * 64])
def test_a_bad_host_is_refused_naming_it(host):
    with pytest.raises(ValidationError, match="must be an IP address or a DNS host name"):
        KMEConfig.model_validate(_minimal(host=host))


def test_the_public_host_is_what_others_reach_and_certificates_name(tmp_path, make_star):
    config = KMEConfig.model_validate(_minimal(host="0.0.0.0", public_host="kme-a.example.net"))
    assert config.url == "https://kme-a.example.net:8443"
    hosts = {"KME-A": KMEHost(address="kme-a.example.net", bind="127.0.0.1", port=8443)}
    plan = write_kme_plan(make_star(), tmp_path / "state", hosts=hosts)
    assert plan.configs["KME-A"].host == "127.0.0.1" and plan.url("KME-A") == "https://kme-a.example.net:8443"
    assert plan.configs["KME-B"].peers["KME-A"] == "https://kme-a.example.net:8443"
    names = certificate_info(tmp_path / "state" / "certs" / "KME-A.pem").names
    assert names == ("127.0.0.1", "kme-a.example.net", "localhost")


@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ({"KME-Z": {"address": "127.0.0.2"}}, "hosts: KME-Z: not a KME of this scenario"),
        (
            {"KME-A": {"address": "127.0.0.2", "port": 9000}, "KME-B": {"address": "127.0.0.2", "port": 9000}},
            "hosts.KME-B: 127.0.0.2:9000 is already KME-A's",
        ),
        ({"KME-A": {"address": "192.0.2.1"}}, "hosts.KME-A.port: give a port"),
    ],
)
def test_bad_host_assignments_are_refused_naming_the_entry(tmp_path, make_star, hosts, message):
    with pytest.raises(InputError, match=message):
        write_kme_plan(make_star(), tmp_path / "state", hosts={kme: KMEHost(**where) for kme, where in hosts.items()})


def _plan_with_hosts(tmp_path: Path, make_star) -> Path:
    """``kms plan`` of the star with an offline CA, each KME on its loopback address; returns the state."""
    scenario = tmp_path / "star.yaml"
    star = make_star(capacity_bits=2e5)
    scenario.write_text(yaml.safe_dump(json.loads(star.model_dump_json(exclude_none=True))))
    hosts = {kme: {"address": address, "port": free_port(address)} for kme, address in ADDRESSES.items()}
    kms_config = tmp_path / "kms.yaml"
    kms_config.write_text(yaml.safe_dump({"hosts": hosts, "key_lifetime_s": 600}))
    CertificateAuthority.create(tmp_path / "ca")
    state = tmp_path / "state"
    result = CliRunner().invoke(
        app,
        [
            "kms",
            "plan",
            str(scenario),
            "--state",
            str(state),
            "--ca",
            str(tmp_path / "ca"),
            "--config",
            str(kms_config),
        ],
    )
    assert result.exit_code == 0, result.output
    return state


def test_plan_writes_one_private_bundle_per_address_with_relative_paths(tmp_path, make_star):
    state = _plan_with_hosts(tmp_path, make_star)
    bundles = state / "hosts"
    assert sorted(path.name for path in bundles.iterdir()) == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    first = bundles / "127.0.0.2"
    assert sorted(str(path.relative_to(first)) for path in first.rglob("*")) == sorted(
        [
            "KME-A.json",
            "KME-D.json",
            "network.json",
            "certs",
            *(f"certs/{name}" for name in ("ca.pem", "crl.pem")),
            *(
                f"certs/{entity}.{suffix}"
                for entity in ("KME-A", "KME-D", "SAE-A", "SAE-D")
                for suffix in ("pem", "key")
            ),
        ]
    )
    relay = bundles / "127.0.0.3"
    assert not list(relay.glob("certs/SAE-*")) and not list(state.rglob("ca.key"))
    for path in [state, *state.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    raw = json.loads((first / "KME-A.json").read_text())
    assert raw["cert"] == "certs/KME-A.pem" and raw["database"] == "db/KME-A.sqlite" and raw["crl"] == "certs/crl.pem"
    assert raw["host"] == "127.0.0.2" and raw["key_lifetime_s"] == 600
    assert read_kme_config(first / "KME-A.json").cert == first / "certs" / "KME-A.pem"
    assert certificate_info(relay / "certs" / "KME-B.pem").names == ("127.0.0.3", "localhost")


DEPLOY = Path(__file__).parents[2] / "deploy"


def _unit_command(bundle: Path, kme_id: str) -> list[str]:
    """The ExecStart of ``deploy/systemd/qit4n-kme@.service`` for ``kme_id``, with the bundle in place of
    /var/lib/qit4n-kms and this Python in place of the installed ``qit4n``."""
    unit = (DEPLOY / "systemd" / "qit4n-kme@.service").read_text()
    (line,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    program, *arguments = line.removeprefix("ExecStart=").split()
    assert program.endswith("/qit4n")
    return [
        sys.executable,
        "-m",
        "qit4n",
        *(a.replace("/var/lib/qit4n-kms", str(bundle)).replace("%i", kme_id) for a in arguments),
    ]


def _serve(config: Path, command: list[str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    return subprocess.Popen(
        command or [sys.executable, "-m", "qit4n", "kms", "serve", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _wait_listening(process: subprocess.Popen[str], host: str, port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"kms serve exited: {process.communicate()[0]}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {host}:{port}")


def test_kmes_served_alone_on_distinct_addresses_relay_a_key_end_to_end(tmp_path, make_star):
    state = _plan_with_hosts(tmp_path, make_star)
    plan = load_plan(state)
    processes = {}
    try:
        for kme_id, address in ADDRESSES.items():  # as the systemd unit in deploy/ starts them
            bundle = state / "hosts" / address
            processes[kme_id] = _serve(bundle / f"{kme_id}.json", _unit_command(bundle, kme_id))
        for kme_id, config in plan.configs.items():
            _wait_listening(processes[kme_id], ADDRESSES[kme_id], config.port)
            with pytest.raises(OSError):  # bound to its own address only
                socket.create_connection(("127.0.0.1", config.port), timeout=0.5).close()
        with sae_client(plan, "SAE-A") as master, sae_client(plan, "SAE-C") as slave:
            deadline = time.monotonic() + 30
            while master.status("SAE-C")["stored_key_count"] < 2:
                assert time.monotonic() < deadline, "no key reached the pools"
                time.sleep(0.1)
            relayed = master.get_key("SAE-C", number=2)  # KME-A -> KME-B (trusted node) -> KME-C
            assert slave.get_key_with_ids("SAE-A", [key.key_id for key in relayed]) == relayed
        with sae_client(plan, "SAE-A") as master, sae_client(plan, "SAE-D") as slave:
            direct = master.get_key("SAE-D")
            assert slave.get_key_with_ids("SAE-A", [direct[0].key_id]) == direct
        for address in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):  # each machine's database is in its bundle
            assert list((state / "hosts" / address / "db").glob("KME-*.sqlite"))
    finally:
        for process in processes.values():
            process.terminate()
        outputs = {kme_id: process.communicate(timeout=20)[0] for kme_id, process in processes.items()}
    for kme_id, process in processes.items():  # uvicorn re-raises the SIGTERM it handled
        assert process.returncode in (0, -signal.SIGTERM) and "Traceback" not in outputs[kme_id], outputs[kme_id]


def test_kms_serve_refuses_a_config_others_can_read_with_one_line(tmp_path, make_star):
    plan = write_kme_plan(make_star(), tmp_path / "state")
    config = tmp_path / "state" / "kme" / "KME-A.json"
    config.chmod(0o644)
    served = _serve(config)
    output = served.communicate(timeout=60)[0]
    assert served.returncode == 2 and "Traceback" not in output
    assert output.strip().splitlines() == [
        f"error: {config}: mode 0644 lets other users read key material; refusing to run (expected 0600: "
        f"chmod -R go= {config})"
    ]
    assert not (plan.configs["KME-A"].database).exists()
    missing = _serve(tmp_path / "nothing.json")
    assert (
        missing.communicate(timeout=60)[0].strip()
        == f"error: CONFIG {tmp_path / 'nothing.json'}: no such KME config file"
    )
    assert missing.returncode == 2


def test_the_example_host_map_in_deploy_plans_the_vienna_network_on_six_machines(tmp_path):
    CertificateAuthority.create(tmp_path / "ca")
    example = DEPLOY / "kms-hosts.example.yaml"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "kms",
            "plan",
            "secoqc-vienna-2008",
            "--state",
            str(tmp_path / "st"),
            "--ca",
            str(tmp_path / "ca"),
            "--config",
            str(example),
        ],
    )
    assert result.exit_code == 0, result.output
    bundles = sorted(path.name for path in (tmp_path / "st" / "hosts").iterdir())
    assert bundles == sorted(f"kme-{node}.example.net" for node in ("sie", "erd", "gud", "brei", "for", "stp"))
    sie = tmp_path / "st" / "hosts" / "kme-sie.example.net"
    config = read_kme_config(sie / "KME-SIE.json")
    assert (config.host, config.public_host, config.port) == ("0.0.0.0", "kme-sie.example.net", 8443)
    assert config.peers["KME-ERD"] == "https://kme-erd.example.net:8443"
    assert certificate_info(sie / "certs" / "KME-SIE.pem").names == ("kme-sie.example.net",)


def test_placements_never_hand_two_kmes_the_same_probed_port(monkeypatch):
    """The OS may return a port it just handed out again (seen under load: KME-FOR got KME-SIE's port)."""
    from qit4n.kms import hosts

    ports = iter([45057, 45057, 45057, 45100])
    monkeypatch.setattr(hosts, "free_port", lambda host="127.0.0.1": next(ports))
    chosen = hosts.placements(["KME-SIE", "KME-FOR"], {}, None)
    assert [chosen["KME-SIE"].port, chosen["KME-FOR"].port] == [45057, 45100]
