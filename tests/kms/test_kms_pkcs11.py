"""Key-encryption key on a PKCS#11 token (issue 12), with SoftHSM2 from the Debian archive: real KME
processes get and deliver keys, are restarted and still deliver; a wrong PIN stops a KME with one
line and exit status 2; the token's key never leaves the token."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qit4n.kms.atrest import private_dir, write_private
from qit4n.kms.client import SAEClient
from qit4n.kms.kek import WRAPPED_FORMAT
from qit4n.kms.launcher import Network, write_kme_plan
from qit4n.scenario import scenario_from_dict

MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
MODULE = next((path for path in MODULES if Path(path).exists()), None)
pytestmark = pytest.mark.skipif(
    MODULE is None or shutil.which("softhsm2-util") is None,
    reason="SoftHSM2 is not installed (Debian package softhsm2; CI installs it)",
)

PAIR = {
    "name": "kms-pkcs11-pair",
    "nodes": [{"id": "A"}, {"id": "D"}],
    "links": [{"id": "A-D", "endpoints": ["A", "D"], "key_rate_bps": 1e6, "pool_capacity_bits": 2e5}],
}
TOKEN = "qit4n-test"
PIN = "4711-qit4n"
PIN_VAR = "QIT4N_TEST_TOKEN_PIN"


@pytest.fixture
def token(tmp_path, monkeypatch) -> dict[str, str]:
    """A fresh SoftHSM2 token in a temporary folder (SOFTHSM2_CONF points at its config)."""
    folder = tmp_path / "softhsm"
    (folder / "tokens").mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--so-pin", "so-4711", "--pin", PIN],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv(PIN_VAR, PIN)
    return {"module": str(MODULE), "token_label": TOKEN, "pin_env": PIN_VAR}


def _client(plan, sae_id: str) -> SAEClient:
    return SAEClient(plan.url(plan.directory[sae_id]), *plan.sae_cert(sae_id))


def _start_kme(plan, kme_id: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a KME process that should stop at once (a bad key-encryption key)."""
    config = plan.state_dir / "kme" / f"{kme_id}.json"
    command = [sys.executable, "-m", "qit4n.kms.server", str(config)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def test_kms_with_a_token_kek_delivers_across_a_restart(tmp_path, token):
    plan = write_kme_plan(scenario_from_dict(PAIR), tmp_path / "state", overrides={"kek": "pkcs11", "pkcs11": token})
    with Network(plan):
        with _client(plan, "SAE-A") as master:
            deadline = time.monotonic() + 30
            while master.status("SAE-D")["stored_key_count"] < 4:
                assert time.monotonic() < deadline, "the A-D pool did not fill"
                time.sleep(0.05)
            keys = master.get_key("SAE-D", number=4)
        with _client(plan, "SAE-D") as slave:
            assert [key.key for key in slave.get_key_with_ids("SAE-A", [keys[0].key_id])] == [keys[0].key]
    wrapped = plan.configs["KME-D"].kek_file
    assert wrapped is not None and stat.S_IMODE(wrapped.stat().st_mode) == 0o600
    record = json.loads(wrapped.read_text())
    assert record["format"] == WRAPPED_FORMAT and record["key_label"] == "qit4n-kek-KME-D"
    database = plan.configs["KME-D"].database
    for key in keys:
        for path in database.parent.iterdir():
            assert key.key not in path.read_bytes(), path  # sealed at rest
    with Network(plan), _client(plan, "SAE-D") as slave:  # new processes: the token unwraps the data key again
        delivered = slave.get_key_with_ids("SAE-A", [key.key_id for key in keys[1:]])
    assert [key.key for key in delivered] == [key.key for key in keys[1:]]


def test_wrong_pin_or_foreign_key_file_stops_a_kme_with_one_line_and_status_2(tmp_path, token):
    plan = write_kme_plan(scenario_from_dict(PAIR), tmp_path / "state", overrides={"kek": "pkcs11", "pkcs11": token})
    started = _start_kme(plan, "KME-A", {**os.environ, PIN_VAR: "0000"})
    assert started.returncode == 2
    line = started.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert TOKEN in line and "wrong PIN" in line and f"${PIN_VAR}" in line and "0000" not in line
    unset = _start_kme(plan, "KME-A", {name: value for name, value in os.environ.items() if name != PIN_VAR})
    assert unset.returncode == 2 and f"pkcs11.pin_env = '{PIN_VAR}'" in unset.stderr
    kek_file = plan.configs["KME-A"].kek_file
    assert kek_file is not None
    private_dir(kek_file.parent)
    write_private(kek_file, os.urandom(32))  # a raw KEK of the file route where a wrapped data key belongs
    raw = _start_kme(plan, "KME-A", dict(os.environ))
    assert raw.returncode == 2 and "raw key-encryption key" in raw.stderr and "Traceback" not in raw.stderr


def test_the_token_key_is_sensitive_and_an_extractable_one_is_refused(tmp_path, token):
    """Checked in a separate process (the PKCS#11 library reads SOFTHSM2_CONF once per process)."""
    plan = write_kme_plan(scenario_from_dict(PAIR), tmp_path / "state", overrides={"kek": "pkcs11", "pkcs11": token})
    with Network(plan, max_restarts=0):
        pass  # creates the token keys of KME-A and KME-D
    script = f"""
import pkcs11
from pkcs11 import Attribute, KeyType, ObjectClass
token = pkcs11.lib({str(MODULE)!r}).get_token(token_label={TOKEN!r})
with token.open(user_pin={PIN!r}, rw=True) as session:
    keys = list(session.get_objects({{Attribute.CLASS: ObjectClass.SECRET_KEY}}))
    print(sorted((key.label, key[Attribute.SENSITIVE], key[Attribute.EXTRACTABLE]) for key in keys))
    session.generate_key(KeyType.AES, 256, label="leaky", store=True, template={{Attribute.EXTRACTABLE: True}})
"""
    made = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert made.stdout.strip() == "[('qit4n-kek-KME-A', True, False), ('qit4n-kek-KME-D', True, False)]"
    leaky = write_kme_plan(
        scenario_from_dict(PAIR),
        tmp_path / "leaky",
        overrides={"kek": "pkcs11", "pkcs11": {**token, "key_label": "leaky"}},
    )
    refused = _start_kme(leaky, "KME-A", dict(os.environ))
    assert refused.returncode == 2 and "could leave the token" in refused.stderr
