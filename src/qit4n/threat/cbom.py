"""Export an assessment as a CycloneDX 1.6 cryptography bill of materials (CBOM), schema-checked.

Each algorithm becomes a ``cryptographic-asset`` component with its primitive, classical security
level and NIST quantum security level (0 for quantum-vulnerable schemes, as the CycloneDX schema
defines); each inventory asset becomes an ``application`` component that depends on its
algorithms and carries qit4n's findings as ``qit4n:*`` properties. The JSON is validated against
the CycloneDX 1.6 JSON schema that ``cyclonedx-python-lib`` ships (offline).

References
----------
OWASP CycloneDX 1.6 specification, ECMA-424 1st edition (2024), ``cryptoProperties``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from qit4n.errors import ServiceError
from qit4n.threat.assessment import ThreatAssessment
from qit4n.threat.catalog import Algorithm

__all__ = ["cbom_json", "validate_cbom"]

_PRIMITIVES = {"kem": "KEM", "key-exchange": "KEY_AGREE", "signature": "SIGNATURE", "symmetric": "AE", "hash": "HASH"}


def _algorithm_component(algorithm: Algorithm, use: str):
    from cyclonedx.model import Property
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.crypto import AlgorithmProperties, CryptoAssetType, CryptoPrimitive, CryptoProperties

    kind = algorithm.kind if algorithm.kind != "kem-or-signature" else ("signature" if use == "signature" else "kem")
    primitive = (
        CryptoPrimitive.PKE
        if algorithm.kind == "kem-or-signature" and use != "signature"
        else getattr(CryptoPrimitive, _PRIMITIVES[kind])
    )
    properties = AlgorithmProperties(
        primitive=primitive,
        classical_security_level=algorithm.classical_bits,
        nist_quantum_security_level=0 if algorithm.quantum_vulnerable else algorithm.nist_category,
    )
    return Component(
        name=algorithm.id,
        type=ComponentType.CRYPTOGRAPHIC_ASSET,
        bom_ref=f"crypto/algorithm/{algorithm.id}/{use}",
        crypto_properties=CryptoProperties(asset_type=CryptoAssetType.ALGORITHM, algorithm_properties=properties),
        properties=[
            Property(name="qit4n:quantum-vulnerable", value=str(algorithm.quantum_vulnerable).lower()),
            Property(name="qit4n:source", value=algorithm.source),
        ],
    )


def cbom_json(assessment: ThreatAssessment, scans: Sequence[Any] = ()) -> str:
    """The assessment as CycloneDX 1.6 JSON text (validated; see :func:`validate_cbom`).

    ``scans`` (TLS or SSH scans whose assets were assessed) add each endpoint's protocol, certificate
    and public-key components (:mod:`qit4n.threat.cbom_endpoints`).
    """
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    from qit4n.threat.catalog import load_catalog
    from qit4n.threat.cbom_endpoints import endpoint_components

    bom = Bom()
    algorithms: dict[str, Any] = {}
    keys: dict[str, Any] = {}
    scan_by_asset = {scan.to_asset().name: scan for scan in scans}
    catalog = load_catalog()
    summary = {entry["name"]: entry for entry in assessment.to_dict()["assets"]}
    for index, risk in enumerate(assessment.risks):
        entry = summary[risk.asset.name]
        properties = [
            Property(name="qit4n:vulnerable", value=str(entry["vulnerable"]).lower()),
            Property(name="qit4n:exposure-probability", value=f"{entry['exposure_probability']:.6g}"),
            Property(name="qit4n:hndl-probability", value=f"{entry['hndl_probability']:.6g}"),
            Property(name="qit4n:forgery-probability", value=f"{entry['forgery_probability']:.6g}"),
            Property(name="qit4n:deadline", value=str(entry["deadline"])),
            Property(name="qit4n:recommendation", value=entry["recommendation"]),
            Property(name="qit4n:timeline", value=assessment.timeline.id),
            Property(name="qit4n:catalog-version", value=assessment.catalog_version),
            *[Property(name="qit4n:reason", value=reason) for reason in entry["reasons"]],
        ]
        asset_component = Component(
            name=risk.asset.name, type=ComponentType.APPLICATION, bom_ref=f"asset/{index}", properties=properties
        )
        bom.components.add(asset_component)
        depends = []
        for finding in risk.findings:
            key = f"{finding.algorithm.id}/{finding.use}"
            if key not in algorithms:
                algorithms[key] = _algorithm_component(finding.algorithm, finding.use)
                bom.components.add(algorithms[key])
            depends.append(algorithms[key])
        if risk.asset.name in scan_by_asset:
            endpoint, new_keys = endpoint_components(scan_by_asset[risk.asset.name], index, algorithms, keys, catalog)
            for component in [*endpoint, *new_keys]:
                bom.components.add(component)
            depends.extend(endpoint)
        bom.register_dependency(asset_component, depends)
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    validate_cbom(text)
    return text


def validate_cbom(text: str) -> None:
    """Check ``text`` against the CycloneDX 1.6 JSON schema; :class:`ServiceError` with the first problem.

    Needs ``cyclonedx-python-lib[json-validation]`` (``jsonschema``); runs offline on the bundled schema.
    """
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    json.loads(text)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise ServiceError(f"CBOM does not validate against CycloneDX 1.6: {error}")
