"""A KME with a QRNG: the keys it generates itself mix in the QRNG's bytes, its health endpoint shows
the source, and a failing source stops key generation with a 503 naming the failed health test."""

from __future__ import annotations

import asyncio

import pytest

from qit4n.kms.config import KMEConfig
from qit4n.kms.errors import EtsiError
from qit4n.kms.kme import KME
from qit4n.kms.shape import KeyShape


def _kme(tmp_path, randomness: str | None) -> KME:
    config = KMEConfig(
        kme_id="KME-A",
        port=9000,
        database=tmp_path / "kme-a.sqlite",
        cert=tmp_path / "cert.pem",
        key=tmp_path / "key.pem",
        ca=tmp_path / "ca.pem",
        sae_ids=["SAE-1", "SAE-2"],
        directory={"SAE-1": "KME-A", "SAE-2": "KME-A"},
        randomness=randomness,
    )
    return KME(config)


def _local_keys(kme: KME, number: int) -> bytes:
    shape = KeyShape(number, 256)
    _, keys = asyncio.run(
        kme.relay.distribute(master="SAE-1", slaves_by_kme={"KME-A": ["SAE-2"]}, primary="KME-A", shape=shape)
    )
    return keys


def test_a_qrng_feeds_the_keys_the_kme_generates(tmp_path):
    kme = _kme(tmp_path, "qrng:homodyne")
    keys = _local_keys(kme, 4)
    assert len(keys) == 4 * 32
    state = kme.health()["randomness"]
    assert state["source"] == "qrng:homodyne" and state["healthy"] and state["bytes_delivered"] == 4 * 32


def test_a_failing_qrng_stops_key_generation_with_the_failed_test(tmp_path):
    kme = _kme(tmp_path, "qrng:homodyne,stuck-value@0:7")
    with pytest.raises(
        EtsiError, match="no key was issued: randomness source qrng:homodyne: repetition count test"
    ) as caught:
        _local_keys(kme, 1)
    assert caught.value.status_code == 503
    state = kme.health()["randomness"]
    assert not state["healthy"] and state["failed_test"] == "repetition count test"


def test_without_a_qrng_the_health_has_no_randomness_entry(tmp_path):
    kme = _kme(tmp_path, None)
    assert len(_local_keys(kme, 2)) == 64
    assert "randomness" not in kme.health()


def test_the_health_endpoint_of_a_served_kme_shows_its_qrng(tmp_path, make_star):
    from qit4n.kms.launcher import write_kme_plan
    from qit4n.kms.ops import InProcessNetwork, network_status

    plan = write_kme_plan(make_star(), tmp_path, overrides={"randomness": "qrng:beam-splitter"})
    with InProcessNetwork(plan):
        kmes = network_status(plan)["kmes"]
    assert {state["randomness"]["source"] for state in kmes.values()} == {"qrng:beam-splitter"}
    assert all(state["randomness"]["healthy"] for state in kmes.values())
