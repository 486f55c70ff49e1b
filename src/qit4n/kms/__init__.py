"""Key management: KMEs with the ETSI GS QKD 014 API over mutual TLS, durable SQLite key stores,
key relay through trusted nodes, and hybrid QKD + ML-KEM + X25519 keys.

Naming rule: node ``X`` of a scenario runs KME ``KME-X``; a user node also hosts SAE ``SAE-X``.

Extension points: :data:`KME_INTERFACES` (the APIs a KME serves) and :data:`KEY_SUPPLIES` (where
link key comes from); ``docs/extending.md`` has the recipes.
"""

from qit4n.kms.client import AsyncSAEClient, DeliveredKey, KMEError, SAEClient
from qit4n.kms.config import KMEConfig, LinkConfig, kme_id_of, sae_id_of
from qit4n.kms.hybrid import (
    Answer,
    Finished,
    HybridAuthenticationError,
    HybridPolicy,
    Initiator,
    Offer,
    Responder,
    SAEIdentity,
    cat_kdf,
)
from qit4n.kms.interfaces import KME_INTERFACES
from qit4n.kms.launcher import Network, NetworkPlan, load_plan, write_kme_plan
from qit4n.kms.routes import relay_route
from qit4n.kms.shape import KeyShape
from qit4n.kms.storage import KeyStorage
from qit4n.kms.store import KeyStore
from qit4n.kms.supply import KEY_SUPPLIES, KeySupply, SeededLinkSupply, SupplyKind

__all__ = [
    "KEY_SUPPLIES",
    "KME_INTERFACES",
    "Answer",
    "AsyncSAEClient",
    "DeliveredKey",
    "Finished",
    "HybridAuthenticationError",
    "HybridPolicy",
    "Initiator",
    "KMEConfig",
    "KMEError",
    "KeyShape",
    "KeyStorage",
    "KeyStore",
    "KeySupply",
    "LinkConfig",
    "Network",
    "NetworkPlan",
    "Offer",
    "Responder",
    "SAEClient",
    "SAEIdentity",
    "SeededLinkSupply",
    "SupplyKind",
    "cat_kdf",
    "kme_id_of",
    "load_plan",
    "relay_route",
    "sae_id_of",
    "write_kme_plan",
]
