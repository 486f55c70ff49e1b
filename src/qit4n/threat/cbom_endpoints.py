"""CycloneDX 1.6 protocol, certificate and public-key components for scanned endpoints.

For a TLS scan: one ``protocol`` component per accepted version (``protocolProperties``: type
``tls``, ``version``, the ``cipherSuites`` the server accepted in that version, with references to
the symmetric algorithm components the endpoint's asset holds, and ``cryptoRefArray`` pointing at
the key exchanges accepted in that version); one ``certificate`` component per certificate of the
trust path (or of the presented chain when no trust store was given) with ``subjectName``,
``issuerName``, ``notValidAfter``, ``certificateFormat``, ``signatureAlgorithmRef`` (the algorithm
of the issuer's key, known when the issuer is on the path) and ``subjectPublicKeyRef``; one
``related-crypto-material`` component of type ``public-key`` per distinct key (its SHA-256 in
``id``, its size, ``algorithmRef``), shared by every certificate and host that presents it. For an
SSH scan: one ``protocol`` component (type ``ssh``) referring to its key exchanges and host keys.
Every reference points at an algorithm component the asset already depends on, so reading the CBOM
back resolves each protocol and certificate to the same algorithms.

References
----------
OWASP CycloneDX 1.6, ECMA-424 1st edition (2024): ``cryptoProperties.protocolProperties``,
``certificateProperties``, ``relatedCryptoMaterialProperties``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from qit4n.threat.catalog import Catalog

__all__ = ["endpoint_components"]


def _ref(algorithms: dict[str, Any], catalog: Catalog, name: str | None, use: str):
    """The bom-ref of the ``name``/``use`` algorithm component, if the BOM has one."""
    algorithm = catalog.find_algorithm(name) if name else None
    component = algorithms.get(f"{algorithm.id}/{use}") if algorithm is not None else None
    return None if component is None else component.bom_ref


def _crypto_component(name: str, reference: str, properties) -> Any:
    from cyclonedx.model.component import Component, ComponentType

    return Component(name=name, type=ComponentType.CRYPTOGRAPHIC_ASSET, bom_ref=reference, crypto_properties=properties)


def _tls_protocols(scan, index: int, algorithms: dict[str, Any], catalog: Catalog) -> list[Any]:
    from cyclonedx.model.crypto import (
        CryptoAssetType,
        CryptoProperties,
        ProtocolProperties,
        ProtocolPropertiesCipherSuite,
        ProtocolPropertiesType,
    )

    from qit4n.threat.scan import cipher_algorithm

    leaf = scan.certificates[0].catalog_algorithm if scan.certificates else None
    components = []
    for version in scan.accepted_versions:
        suites = [
            ProtocolPropertiesCipherSuite(
                name=suite,
                algorithms=[ref for ref in [_ref(algorithms, catalog, cipher_algorithm(suite), "symmetric")] if ref],
            )
            for suite in scan.cipher_suites.get(version, ())
        ]
        exchanges = [
            _ref(algorithms, catalog, exchange.catalog_algorithm(leaf), "key-exchange")
            for exchange in scan.key_exchanges
            if exchange.version == version
        ]
        number = {"SSLv3": "3.0", "TLSv1": "1.0"}.get(version, version.removeprefix("TLSv"))
        properties = ProtocolProperties(
            type=ProtocolPropertiesType.TLS,
            version=number,
            cipher_suites=suites,
            crypto_refs=list(dict.fromkeys(ref for ref in exchanges if ref is not None)),
        )
        components.append(
            _crypto_component(
                f"{'SSL' if version == 'SSLv3' else 'TLS'} {number}",
                f"crypto/protocol/{index}/{version}",
                CryptoProperties(asset_type=CryptoAssetType.PROTOCOL, protocol_properties=properties),
            )
        )
    return components


def _key_component(certificate, reference: str, algorithm_ref) -> Any:
    from cyclonedx.model.crypto import (
        CryptoAssetType,
        CryptoProperties,
        RelatedCryptoMaterialProperties,
        RelatedCryptoMaterialType,
    )

    properties = RelatedCryptoMaterialProperties(
        type=RelatedCryptoMaterialType.PUBLIC_KEY,
        id=f"sha256:{certificate.public_key_sha256}",
        algorithm_ref=algorithm_ref,
        size=certificate.key_bits,
    )
    return _crypto_component(
        f"{certificate.key_type} public key",
        reference,
        CryptoProperties(
            asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL, related_crypto_material_properties=properties
        ),
    )


def _certificates(
    scan, index: int, algorithms: dict[str, Any], keys: dict[str, Any], catalog: Catalog
) -> tuple[list[Any], list[Any]]:
    """Certificate components of the path (leaf first) and the public-key components not seen before."""
    from cyclonedx.model.crypto import CertificateProperties, CryptoAssetType, CryptoProperties

    path = [entry.certificate for entry in scan.trust.path] if scan.trust is not None else list(scan.certificates)
    certificates, new_keys = [], []
    for position, certificate in enumerate(path):
        algorithm_ref = _ref(algorithms, catalog, certificate.catalog_algorithm, "signature")
        if certificate.public_key_sha256 not in keys:
            key = _key_component(certificate, f"crypto/key/{certificate.public_key_sha256[:32]}", algorithm_ref)
            keys[certificate.public_key_sha256] = key
            new_keys.append(key)
        issuer = (
            path[position + 1]
            if position + 1 < len(path)
            else certificate
            if certificate.issuer == certificate.subject
            else None
        )
        properties = CertificateProperties(
            subject_name=certificate.subject,
            issuer_name=certificate.issuer,
            not_valid_after=datetime.fromisoformat(certificate.not_after),
            signature_algorithm_ref=None
            if issuer is None
            else _ref(algorithms, catalog, issuer.catalog_algorithm, "signature"),
            subject_public_key_ref=keys[certificate.public_key_sha256].bom_ref,
            certificate_format="X.509",
        )
        certificates.append(
            _crypto_component(
                certificate.subject or f"certificate {position}",
                f"crypto/certificate/{index}/{position}",
                CryptoProperties(asset_type=CryptoAssetType.CERTIFICATE, certificate_properties=properties),
            )
        )
    return certificates, new_keys


def _ssh_protocol(scan, index: int, algorithms: dict[str, Any], catalog: Catalog) -> list[Any]:
    from cyclonedx.model.crypto import CryptoAssetType, CryptoProperties, ProtocolProperties, ProtocolPropertiesType

    uses = scan.to_asset().algorithms
    refs = [_ref(algorithms, catalog, use.name, use.use or "") for use in uses]
    properties = ProtocolProperties(
        type=ProtocolPropertiesType.SSH,
        version="2.0",
        crypto_refs=list(dict.fromkeys(ref for ref in refs if ref is not None)),
    )
    return [
        _crypto_component(
            "SSH 2.0",
            f"crypto/protocol/{index}/ssh",
            CryptoProperties(asset_type=CryptoAssetType.PROTOCOL, protocol_properties=properties),
        )
    ]


def endpoint_components(
    scan, index: int, algorithms: dict[str, Any], keys: dict[str, Any], catalog: Catalog
) -> tuple[list[Any], list[Any]]:
    """``(components the endpoint's asset depends on, shared public-key components new to the BOM)``.

    ``algorithms`` maps ``"id/use"`` to the BOM's algorithm components, ``keys`` the key fingerprints
    already in the BOM to their components (updated).
    """
    if hasattr(scan, "kex_algorithms"):
        return _ssh_protocol(scan, index, algorithms, catalog), []
    certificates, new_keys = _certificates(scan, index, algorithms, keys, catalog)
    return [*_tls_protocols(scan, index, algorithms, catalog), *certificates], new_keys
