"""HTTP routers of the KME: the ETSI GS QKD 014 API and the KME-to-KME API."""

from qit4n.kms.routers import keys, peers

__all__ = ["keys", "peers"]
