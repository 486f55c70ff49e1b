"""HTTP routers of the KME: the ETSI GS QKD 014 API, the KME-to-KME API and the operator's metrics."""

from qit4n.kms.routers import keys, metrics, peers

__all__ = ["keys", "metrics", "peers"]
