"""Choosing the key-encryption key (issue 12): ``kek: file`` or ``kek: pkcs11`` in a KME config and
in the operator's KMS config file, and the PIN sources; no token needed here."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from qit4n.kms.atrest import StateModeError, write_private
from qit4n.kms.config import KMSSettings, Pkcs11Kek
from qit4n.kms.kek import KekError, read_pin

TOKEN = {"module": "/usr/lib/softhsm/libsofthsm2.so", "token_label": "qit4n"}


def test_pkcs11_needs_its_settings_and_exactly_one_pin_source():
    with pytest.raises(ValidationError, match=r"pkcs11 settings .* are missing"):
        KMSSettings.model_validate({"kek": "pkcs11"})
    with pytest.raises(ValidationError, match="set kek = 'pkcs11'"):
        KMSSettings.model_validate({"pkcs11": {**TOKEN, "pin_env": "PIN"}})
    with pytest.raises(ValidationError, match="exactly one of pin_env and pin_file"):
        Pkcs11Kek.model_validate(TOKEN)
    with pytest.raises(ValidationError, match="exactly one of pin_env and pin_file"):
        Pkcs11Kek.model_validate({**TOKEN, "pin_env": "PIN", "pin_file": "/tmp/pin"})
    settings = KMSSettings.model_validate({"kek": "pkcs11", "pkcs11": {**TOKEN, "pin_env": "QIT4N_PIN"}})
    assert settings.overrides()["kek"] == "pkcs11" and settings.overrides()["pkcs11"]["pin_env"] == "QIT4N_PIN"
    assert KMSSettings().overrides() == {}  # kek: file stays the default


def test_pin_from_env_or_private_file(tmp_path, monkeypatch):
    monkeypatch.delenv("QIT4N_PIN", raising=False)
    with pytest.raises(KekError, match=r"pkcs11\.pin_env = 'QIT4N_PIN': the environment variable is not set"):
        read_pin(Pkcs11Kek.model_validate({**TOKEN, "pin_env": "QIT4N_PIN"}))
    monkeypatch.setenv("QIT4N_PIN", "1234")
    assert read_pin(Pkcs11Kek.model_validate({**TOKEN, "pin_env": "QIT4N_PIN"})) == "1234"
    pin_file = tmp_path / "pin"
    write_private(pin_file, "98765\n")
    assert read_pin(Pkcs11Kek.model_validate({**TOKEN, "pin_file": str(pin_file)})) == "98765"
    pin_file.chmod(0o644)
    with pytest.raises(StateModeError, match="mode 0644"):
        read_pin(Pkcs11Kek.model_validate({**TOKEN, "pin_file": str(pin_file)}))
