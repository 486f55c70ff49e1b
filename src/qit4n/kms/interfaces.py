"""The interfaces a KME serves: :data:`KME_INTERFACES`, one FastAPI router per interface.

Every KME application mounts every registered interface (:func:`qit4n.kms.app.create_app`).
ETSI GS QKD 014 (``etsi014``, :mod:`qit4n.kms.routers.keys`), the KME-to-KME API of key relay
(``kme-peers``, :mod:`qit4n.kms.routers.peers`), the operator's Prometheus metrics
(``kme-metrics``, :mod:`qit4n.kms.routers.metrics`), ETSI GS QKD 004 with its KME-to-KME stream
calls (``etsi004``, ``kme-streams``, :mod:`qit4n.kms.routers.etsi004`) and the operator's and QKDN
controller's control interface (``kme-control``, :mod:`qit4n.kms.routers.control`) are registered
here; a new interface (ETSI GS QKD 020, another controller's API) registers its router under a new
name and reaches the KME's parts through the dependencies of :mod:`qit4n.kms.dependencies`,
without touching the ETSI 014 code.
The recipe is in ``docs/extending.md`` ("A new KMS API").
"""

from __future__ import annotations

from fastapi import APIRouter

from qit4n.registry import Registry

__all__ = ["KME_INTERFACES"]

#: Routers a KME application mounts, by interface name.
KME_INTERFACES: Registry[APIRouter] = Registry("KME interface", entry_point_group="qit4n.kme_interfaces")
KME_INTERFACES.register_lazy("etsi014", "qit4n.kms.routers.keys:router")
KME_INTERFACES.register_lazy("kme-peers", "qit4n.kms.routers.peers:router")
KME_INTERFACES.register_lazy("kme-metrics", "qit4n.kms.routers.metrics:router")
KME_INTERFACES.register_lazy("etsi004", "qit4n.kms.routers.etsi004:router")
KME_INTERFACES.register_lazy("kme-streams", "qit4n.kms.routers.etsi004:peer_router")
KME_INTERFACES.register_lazy("kme-control", "qit4n.kms.routers.control:router")
KME_INTERFACES.register_lazy("kme-interdomain", "qit4n.kms.routers.interdomain:router")
