"""Hybrid keys: policies, agreement, binding of the context, authentication, refusal of downgrades."""

from __future__ import annotations

import dataclasses
import os

import pytest

from qit4n.errors import InsufficientKeyError, ParameterError
from qit4n.kms.certs import create_ca, issue_certificate
from qit4n.kms.hybrid import (
    Answer,
    Finished,
    HybridAuthenticationError,
    HybridPolicy,
    Initiator,
    Offer,
    Responder,
    SAEIdentity,
)


@pytest.fixture(scope="module")
def identities(tmp_path_factory):
    """SAE-A and SAE-B of one network CA, and an outsider's 'SAE-A' from another CA."""
    network, outside = tmp_path_factory.mktemp("network-ca"), tmp_path_factory.mktemp("outsider-ca")
    ca, other_ca = create_ca(network), create_ca(outside, "outsider CA")

    def identity(authority, folder, sae_id):
        paths = issue_certificate(authority, folder, sae_id, server=False)
        return SAEIdentity.from_files(paths.cert, paths.key, paths.ca)

    outsider = identity(other_ca, outside, "SAE-A")
    return {
        "folder": network,
        "SAE-A": identity(ca, network, "SAE-A"),
        "SAE-B": identity(ca, network, "SAE-B"),
        # a forged 'SAE-A' whose signatures verify under its own certificate, which the network CA did not issue
        "outsider": dataclasses.replace(outsider, ca=identity(ca, network, "SAE-B").ca),
    }


def _agree(ids, policy, qkd_master, qkd_slave, key_id="k-1", tamper=None, master="SAE-A"):
    initiator = Initiator(ids[master], "SAE-B", qkd_key=qkd_master, key_id=key_id, policy=policy)
    offer = Offer.from_json(initiator.offer.to_json())
    if tamper:
        offer = dataclasses.replace(offer, **tamper)
    responder = Responder(ids["SAE-B"], offer, qkd_key=qkd_slave, policy=policy)
    master_key, finished = initiator.finish(Answer.from_json(responder.answer.to_json()))
    return master_key, responder.finish(Finished.from_json(finished.to_json()))


@pytest.mark.parametrize("policy", list(HybridPolicy))
def test_both_saes_derive_the_same_32_byte_key(identities, policy):
    qkd = os.urandom(32)
    master_key, slave_key = _agree(identities, policy, qkd, qkd)
    assert master_key == slave_key and len(master_key) == 32


def test_the_qkd_key_enters_only_when_the_policy_uses_it(identities):
    qkd, other = os.urandom(32), os.urandom(32)
    with pytest.raises(HybridAuthenticationError, match="key confirmation"):
        _agree(identities, HybridPolicy.BOTH, qkd, other)
    master_key, slave_key = _agree(identities, HybridPolicy.PQC, qkd, other)
    assert master_key == slave_key


def test_policies_that_need_qkd_refuse_without_it(identities):
    with pytest.raises(InsufficientKeyError):
        Initiator(identities["SAE-A"], "SAE-B", qkd_key=None, key_id=None, policy=HybridPolicy.BOTH)
    with pytest.raises(InsufficientKeyError):
        _agree(identities, HybridPolicy.EITHER, os.urandom(32), None)
    master_key, slave_key = _agree(identities, HybridPolicy.EITHER, None, None, key_id=None)
    assert master_key == slave_key


@pytest.mark.parametrize("field", ["key_id", "slave_sae_id", "nonce", "x25519_public"])
def test_every_offer_field_is_signed(identities, field):
    qkd = os.urandom(32)
    value = {"key_id": "k-2", "slave_sae_id": "SAE-X", "nonce": bytes(32), "x25519_public": bytes(32)}[field]
    with pytest.raises(HybridAuthenticationError, match="signature"):
        _agree(identities, HybridPolicy.BOTH, qkd, qkd, tamper={field: value})


def test_a_policy_downgrade_is_refused(identities):
    with pytest.raises((ParameterError, HybridAuthenticationError)):
        _agree(identities, HybridPolicy.BOTH, os.urandom(32), None, tamper={"policy": HybridPolicy.PQC})


@pytest.mark.parametrize("policy", list(HybridPolicy))
def test_an_sae_without_network_credentials_cannot_complete_an_exchange(identities, policy):
    """The attack of issue 12: a client with no certificate of the network completed an exchange as
    SAE-A. Now a forged 'SAE-A' (its own key and certificate) and an unsigned offer are both refused."""
    qkd = os.urandom(32)
    with pytest.raises(HybridAuthenticationError, match="CA"):
        _agree(identities, policy, qkd, qkd, master="outsider")
    with pytest.raises(HybridAuthenticationError, match="signature"):
        _agree(identities, policy, qkd, qkd, tamper={"signature": b""})
    with pytest.raises(HybridAuthenticationError, match="claims"):  # SAE-B's real certificate, claiming to be SAE-A
        _agree(identities, policy, qkd, qkd, tamper={"certificate_pem": identities["SAE-B"].certificate_pem})


def test_stripping_the_qkd_share_under_either_is_noticed_by_both_sides(identities):
    """A man in the middle removes the key_ID (QKD share) from an `either` offer (re-signing it would
    need SAE-A's certificate and key: the outsider test), or changes the answer or the final
    confirmation: the responder or the initiator refuses."""
    qkd = os.urandom(32)
    with pytest.raises(HybridAuthenticationError):
        _agree(identities, HybridPolicy.EITHER, qkd, qkd, tamper={"key_id": None})
    initiator = Initiator(identities["SAE-A"], "SAE-B", qkd_key=qkd, key_id="k-1", policy=HybridPolicy.EITHER)
    responder = Responder(identities["SAE-B"], initiator.offer, qkd_key=qkd, policy=HybridPolicy.EITHER)
    forged = dataclasses.replace(responder.answer, mlkem_ciphertext=bytes(len(responder.answer.mlkem_ciphertext)))
    with pytest.raises(HybridAuthenticationError, match="signature"):
        initiator.finish(forged)
    with pytest.raises(HybridAuthenticationError, match="confirmation"):
        responder.finish(Finished(bytes(32)))


def test_a_revoked_certificate_is_refused_once_the_crl_is_loaded(identities):
    from qit4n.kms.certs import CertificateAuthority

    network = identities["folder"]
    authority = CertificateAuthority.load(network)
    assert authority.revoke(entities=["SAE-A"])
    authority.write_crl()
    bob = identities["SAE-B"]
    with_crl = SAEIdentity.from_files(
        network / "SAE-B.pem", network / "SAE-B.key", network / "ca.pem", network / "crl.pem"
    )
    qkd = os.urandom(32)
    offer = Initiator(identities["SAE-A"], "SAE-B", qkd_key=qkd, key_id="k-1", policy=HybridPolicy.BOTH).offer
    assert Responder(bob, offer, qkd_key=qkd, policy=HybridPolicy.BOTH).peer_sae_id == "SAE-A"
    with pytest.raises(HybridAuthenticationError, match="revoked"):
        Responder(with_crl, offer, qkd_key=qkd, policy=HybridPolicy.BOTH)
