"""Hybrid keys: policies, agreement, binding of the context, refusal of downgrades."""

from __future__ import annotations

import dataclasses
import os

import pytest

from qit4n.errors import InsufficientKeyError, ParameterError
from qit4n.kms.hybrid import Answer, HybridPolicy, Initiator, Offer, respond


def _agree(policy, qkd_master, qkd_slave, key_id="k-1", tamper=None):
    initiator = Initiator("SAE-A", "SAE-B", qkd_key=qkd_master, key_id=key_id, policy=policy)
    offer = Offer.from_json(initiator.offer.to_json())
    if tamper:
        offer = dataclasses.replace(offer, **tamper)
    answer, slave_key = respond(offer, qkd_key=qkd_slave, policy=policy)
    return initiator.finish(Answer.from_json(answer.to_json())), slave_key


@pytest.mark.parametrize("policy", list(HybridPolicy))
def test_both_saes_derive_the_same_32_byte_key(policy):
    qkd = os.urandom(32)
    master_key, slave_key = _agree(policy, qkd, qkd)
    assert master_key == slave_key and len(master_key) == 32


def test_the_qkd_key_enters_only_when_the_policy_uses_it():
    qkd, other = os.urandom(32), os.urandom(32)
    both = _agree(HybridPolicy.BOTH, qkd, other)
    assert both[0] != both[1]
    pqc = _agree(HybridPolicy.PQC, qkd, other)
    assert pqc[0] == pqc[1]


def test_policies_that_need_qkd_refuse_without_it():
    with pytest.raises(InsufficientKeyError):
        Initiator("SAE-A", "SAE-B", qkd_key=None, key_id=None, policy=HybridPolicy.BOTH)
    with pytest.raises(InsufficientKeyError):
        _agree(HybridPolicy.EITHER, os.urandom(32), None)
    master_key, slave_key = _agree(HybridPolicy.EITHER, None, None, key_id=None)
    assert master_key == slave_key


def test_the_context_binds_the_key_id_and_sae_ids():
    qkd = os.urandom(32)
    assert len(set(_agree(HybridPolicy.BOTH, qkd, qkd, tamper={"key_id": "k-2"}))) == 2
    assert len(set(_agree(HybridPolicy.BOTH, qkd, qkd, tamper={"slave_sae_id": "SAE-X"}))) == 2


def test_a_policy_downgrade_is_refused():
    with pytest.raises(ParameterError):
        _agree(HybridPolicy.BOTH, os.urandom(32), None, tamper={"policy": HybridPolicy.PQC})
