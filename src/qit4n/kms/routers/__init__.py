"""HTTP routers of the KME: the ETSI GS QKD 014 API, the KME-to-KME API, the operator's metrics and control."""

from qit4n.kms.routers import control, keys, metrics, peers

__all__ = ["control", "keys", "metrics", "peers"]
