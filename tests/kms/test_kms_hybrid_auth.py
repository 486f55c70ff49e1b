"""Authenticated hybrid keys with QKD keys from real KMEs (SAE-A and SAE-C across the trusted node B).

The attacks of issue 12, problem 4, tried again: a client with no credentials of the network
offering an exchange as SAE-A under every policy, and a man in the middle stripping the QKD share
from an ``either`` (or ``both``) offer.
"""

from __future__ import annotations

import dataclasses

import pytest

from qit4n.kms.certs import create_ca, issue_certificate
from qit4n.kms.demo import hybrid_exchange
from qit4n.kms.hybrid import Answer, HybridAuthenticationError, HybridPolicy, Initiator, Offer, Responder, SAEIdentity


def _identity(plan, sae_id: str) -> SAEIdentity:
    return SAEIdentity.from_files(*plan.sae_cert(sae_id))


def test_saes_agree_authenticated_hybrid_keys_through_the_kmes(star_network):
    plan = star_network.plan
    with star_network.client("SAE-A") as master, star_network.client("SAE-C") as slave:
        for policy in (HybridPolicy.BOTH, HybridPolicy.EITHER, HybridPolicy.QKD):
            _, master_key, slave_key = hybrid_exchange(
                master, slave, _identity(plan, "SAE-A"), _identity(plan, "SAE-C"), policy
            )
            assert master_key == slave_key


@pytest.mark.parametrize("policy", [HybridPolicy.PQC, HybridPolicy.EITHER])
def test_a_client_without_network_credentials_is_refused(star_network, tmp_path, policy):
    """Before: an offer claiming SAE-A with no credentials completed a `pqc` or `either` exchange.
    Now: its self-issued certificate is not the network CA's, and SAE-C refuses the offer."""
    authority = create_ca(tmp_path, "attacker CA")
    paths = issue_certificate(authority, tmp_path, "SAE-A", server=False)
    impostor = dataclasses.replace(
        SAEIdentity.from_files(paths.cert, paths.key, paths.ca), ca=_identity(star_network.plan, "SAE-A").ca
    )
    offer = Offer.from_json(Initiator(impostor, "SAE-C", qkd_key=None, key_id=None, policy=policy).offer.to_json())
    with pytest.raises(HybridAuthenticationError, match="CA"):
        Responder(_identity(star_network.plan, "SAE-C"), offer, qkd_key=None, policy=policy)


@pytest.mark.parametrize("policy", [HybridPolicy.EITHER, HybridPolicy.BOTH])
def test_stripping_the_qkd_share_is_detected(star_network, policy):
    plan = star_network.plan
    with star_network.client("SAE-A") as master, star_network.client("SAE-C") as slave:
        qkd = master.get_key("SAE-C")[0]
        initiator = Initiator(_identity(plan, "SAE-A"), "SAE-C", qkd_key=qkd.key, key_id=qkd.key_id, policy=policy)
        stripped = dataclasses.replace(Offer.from_json(initiator.offer.to_json()), key_id=None)
        with pytest.raises(HybridAuthenticationError, match="signature"):
            Responder(_identity(plan, "SAE-C"), stripped, qkd_key=None, policy=policy)
        # the honest offer still works, and a changed answer is caught by the initiator
        slave_key = slave.get_key_with_ids("SAE-A", [qkd.key_id])[0].key
        responder = Responder(_identity(plan, "SAE-C"), initiator.offer, qkd_key=slave_key, policy=policy)
        changed = dataclasses.replace(responder.answer, x25519_public=bytes(32))
        with pytest.raises(HybridAuthenticationError):
            initiator.finish(Answer.from_json(changed.to_json()))
