"""Key management: KMEs with the ETSI GS QKD 014 API over mutual TLS, durable SQLite key stores,
key relay through trusted nodes, and hybrid QKD + ML-KEM + X25519 keys.

Naming rule: node ``X`` of a scenario runs KME ``KME-X``; a user node also hosts SAE ``SAE-X``.
"""

from qit4n.kms.client import AsyncSAEClient, DeliveredKey, KMEError, SAEClient
from qit4n.kms.config import KMEConfig, LinkConfig, kme_id_of, sae_id_of
from qit4n.kms.hybrid import Answer, HybridPolicy, Initiator, Offer, cat_kdf, respond
from qit4n.kms.launcher import Network, NetworkPlan, load_plan, plan_network
from qit4n.kms.relay import relay_route
from qit4n.kms.store import KeyStore
from qit4n.kms.supply import KeySupply, SeededLinkSupply

__all__ = [
    "Answer",
    "AsyncSAEClient",
    "DeliveredKey",
    "HybridPolicy",
    "Initiator",
    "KMEConfig",
    "KMEError",
    "KeyStore",
    "KeySupply",
    "LinkConfig",
    "Network",
    "NetworkPlan",
    "Offer",
    "SAEClient",
    "SeededLinkSupply",
    "cat_kdf",
    "kme_id_of",
    "load_plan",
    "plan_network",
    "relay_route",
    "respond",
    "sae_id_of",
]
