"""Assets from files: X.509 certificates (PEM or DER), SSH public keys and CycloneDX CBOMs.

:func:`inventory_from_file` picks the reader from the file's content: a CycloneDX JSON BOM, PEM
certificates, SSH public key lines, a DER certificate, otherwise a YAML/JSON inventory. A name from
:func:`example_inventories` (an inventory shipped with qit4n, such as ``secoqc-vienna-example``) is
read when no such file exists.
:func:`assets_from_cbom` keeps the algorithms the catalog does not know on their assets (as
``unassessed_algorithms``, reported by the assessment) and also returns their names, rather than
dropping them silently.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from qit4n.errors import InputError
from qit4n.threat.catalog import Catalog, load_catalog
from qit4n.threat.inventory import AlgorithmUse, Asset, Inventory, inventory_from_dict, load_inventory
from qit4n.threat.keys import describe_key

__all__ = [
    "assets_from_cbom",
    "assets_from_certificates",
    "assets_from_ssh_keys",
    "example_inventories",
    "inventory_from_file",
]

_SECONDS_PER_YEAR = 365.25 * 86_400.0
_SSH_PREFIXES = ("ssh-", "ecdsa-sha2-", "sk-")


def _weak_signature_hash(certificate, subject: str) -> list[AlgorithmUse]:
    """``[sha-1]`` when the certificate is signed with SHA-1, else ``[]``."""
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        hash_algorithm = certificate.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return []
    if hash_algorithm is None or hash_algorithm.name != "sha1":
        return []
    return [AlgorithmUse(name="sha-1", use="hash", detail=f"signature hash of {subject}")]


def assets_from_certificates(data: bytes, source: str = "certificates", now: datetime | None = None) -> list[Asset]:
    """One asset per certificate in PEM (one or many) or DER ``data``: its key as a signature algorithm.

    A CA certificate becomes a ``pki-root`` asset whose trust lifetime is its remaining validity.
    """
    from cryptography import x509

    try:
        certificates = (
            x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [x509.load_der_x509_certificate(data)]
        )
    except ValueError as error:
        raise InputError(f"{source}: not a PEM or DER X.509 certificate ({error})") from None
    moment = now or datetime.now(UTC)
    assets = []
    for index, certificate in enumerate(certificates):
        key = describe_key(certificate.public_key())
        if key.catalog_algorithm is None:
            raise InputError(f"{source}: certificate {index} has a {key.label} key the threat catalog does not cover")
        try:
            is_ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        remaining_years = max(0.0, (certificate.not_valid_after_utc - moment).total_seconds() / _SECONDS_PER_YEAR)
        subject = certificate.subject.rfc4514_string() or f"certificate {index}"
        assets.append(
            Asset(
                name=subject,
                category="pki-root" if is_ca else "certificate",
                algorithms=[
                    AlgorithmUse(name=key.catalog_algorithm, use="signature", detail=f"{key.label} key of {subject}"),
                    *_weak_signature_hash(certificate, subject),
                ],
                trust_lifetime_years=remaining_years if is_ca else 0.0,
            )
        )
    return assets


def assets_from_ssh_keys(text: str, source: str = "ssh keys") -> list[Asset]:
    """One asset per SSH public key line (``authorized_keys`` or ``*.pub`` format)."""
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key

    assets = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = stripped.split()
        try:
            key = load_ssh_public_key(" ".join(fields[:2]).encode())
        except (ValueError, IndexError) as error:
            raise InputError(f"{source}: line {number}: not an SSH public key ({error})") from None
        key_description = describe_key(key)
        if key_description.catalog_algorithm is None:
            raise InputError(f"{source}: line {number}: {key_description.label} key is not in the threat catalog")
        comment = " ".join(fields[2:]) or f"line {number}"
        assets.append(
            Asset(
                name=f"ssh {comment}",
                category="ssh",
                algorithms=[
                    AlgorithmUse(name=key_description.catalog_algorithm, use="signature", detail=f"{fields[0]} key")
                ],
            )
        )
    if not assets:
        raise InputError(f"{source}: no SSH public key found")
    return assets


_PRIMITIVE_USES = {
    "kem": "key-exchange",
    "key-agree": "key-exchange",
    "pke": "encryption",
    "signature": "signature",
    "hash": "hash",
    "ae": "symmetric",
    "block-cipher": "symmetric",
    "stream-cipher": "symmetric",
}


def _cbom_algorithm(component: dict[str, Any], catalog: Catalog) -> tuple[AlgorithmUse, bool]:
    """The algorithm of a ``cryptographic-asset`` component and whether the catalog knows it."""
    name = str(component.get("name", "")) or str(component.get("bom-ref", "unnamed"))
    properties = (component.get("cryptoProperties") or {}).get("algorithmProperties") or {}
    algorithm = catalog.find_algorithm(name)
    if algorithm is None and properties.get("parameterSetIdentifier"):
        algorithm = catalog.find_algorithm(f"{name}-{properties['parameterSetIdentifier']}")
    use = _PRIMITIVE_USES.get(properties.get("primitive", ""))
    detail = f"CBOM component {component.get('bom-ref', name)}"
    return AlgorithmUse(name=algorithm.id if algorithm else name, use=use, detail=detail), algorithm is not None


def _cbom_asset(name: str, category: str, found: list[tuple[AlgorithmUse, bool]]) -> Asset:
    return Asset(
        name=name,
        category=category,
        algorithms=[use for use, known in found if known],
        unassessed_algorithms=[use for use, known in found if not known],
    )


_MATERIAL_TYPES = {"protocol": "protocol", "certificate": "certificate", "related-crypto-material": "key"}


def _material_refs(component: dict[str, Any]) -> list[str]:
    """What a protocol, certificate or key component refers to (CycloneDX 1.6 ``cryptoProperties``)."""
    crypto = component.get("cryptoProperties") or {}
    kind = crypto.get("assetType")
    refs: list[Any] = []
    if kind == "protocol":
        protocol = crypto.get("protocolProperties") or {}
        refs = list(protocol.get("cryptoRefArray") or [])
        for suite in protocol.get("cipherSuites") or []:
            refs.extend((suite or {}).get("algorithms") or [])
    elif kind == "certificate":
        certificate = crypto.get("certificateProperties") or {}
        refs = [certificate.get("signatureAlgorithmRef"), certificate.get("subjectPublicKeyRef")]
    elif kind == "related-crypto-material":
        refs = [(crypto.get("relatedCryptoMaterialProperties") or {}).get("algorithmRef")]
    return [str(ref) for ref in refs if ref]


def assets_from_cbom(document: dict[str, Any], catalog: Catalog, source: str = "cbom") -> tuple[list[Asset], list[str]]:
    """Assets of a CycloneDX CBOM, and the algorithm names the catalog does not know.

    A component that depends on algorithm components (CycloneDX ``dependencies``) becomes one asset
    holding them. Protocol, certificate and key components (``assetType`` ``protocol``,
    ``certificate``, ``related-crypto-material``) stand for the algorithms they refer to: a protocol's
    ``cryptoRefArray`` and cipher-suite algorithms, a certificate's ``signatureAlgorithmRef`` and
    ``subjectPublicKeyRef``, a key's ``algorithmRef``. One that nothing depends on becomes an asset of
    its own (category ``protocol``, ``certificate`` or ``key``), and so does every algorithm component
    nothing reaches. Algorithms the catalog does not know stay on their asset as ``unassessed_algorithms``.
    """
    if document.get("bomFormat") != "CycloneDX":
        raise InputError(f"{source}: bomFormat must be 'CycloneDX'")
    components = [c for c in document.get("components", []) if isinstance(c, dict)]
    crypto = [c for c in components if c.get("type") == "cryptographic-asset"]
    algorithms = {
        str(component.get("bom-ref", component.get("name", index))): _cbom_algorithm(component, catalog)
        for index, component in enumerate(crypto)
        if (component.get("cryptoProperties") or {}).get("assetType") == "algorithm"
    }
    if not algorithms:
        raise InputError(f"{source}: no cryptographic-asset algorithm component")
    materials = {
        str(component["bom-ref"]): component
        for component in crypto
        if component.get("bom-ref") and (component.get("cryptoProperties") or {}).get("assetType") in _MATERIAL_TYPES
    }
    reached: set[str] = set()

    def resolve(reference: str, trail: frozenset[str] = frozenset()) -> list[str]:
        """The algorithm refs ``reference`` stands for; marks every component passed as reached."""
        if reference in trail:
            return []
        reached.add(reference)
        if reference in algorithms:
            return [reference]
        if reference not in materials:
            return []
        return [ref for inner in _material_refs(materials[reference]) for ref in resolve(inner, trail | {reference})]

    depends = {
        str(entry.get("ref")): [str(ref) for ref in entry.get("dependsOn", [])]
        for entry in document.get("dependencies", []) or []
        if isinstance(entry, dict)
    }
    assets = []
    for component in components:
        reference = str(component.get("bom-ref", ""))
        if component.get("type") == "cryptographic-asset":
            continue
        refs = list(dict.fromkeys(ref for dependency in depends.get(reference, []) for ref in resolve(dependency)))
        if refs:
            name = str(component.get("name") or reference)
            assets.append(_cbom_asset(name, "application", [algorithms[ref] for ref in refs]))
    # A key that a certificate points at belongs to that certificate, whichever comes first.
    referenced = {ref for component in materials.values() for ref in _material_refs(component) if ref in materials}
    for reference, component in materials.items():
        if reference in reached or reference in referenced:
            continue
        refs = list(dict.fromkeys(resolve(reference)))
        if refs:
            kind = _MATERIAL_TYPES[component["cryptoProperties"]["assetType"]]
            name = f"{component.get('name') or kind} ({reference})"
            assets.append(_cbom_asset(name, kind, [algorithms[ref] for ref in refs]))
    for reference, found in algorithms.items():
        if reference not in reached:
            assets.append(_cbom_asset(f"{found[0].name} ({reference})", "cryptographic-asset", [found]))
    unknown = sorted({use.name for use, known in algorithms.values() if not known})
    return assets, unknown


def _examples_folder():
    return resources.files("qit4n.threat").joinpath("data", "inventories")


def example_inventories() -> list[str]:
    """Names of the example inventories shipped with qit4n, usable wherever an inventory file is.

    >>> example_inventories()
    ['secoqc-vienna-example']
    """
    return sorted(
        entry.name.removesuffix(".yaml") for entry in _examples_folder().iterdir() if entry.name.endswith(".yaml")
    )


def inventory_from_file(path: str | Path, catalog: Catalog | None = None) -> Inventory:
    """Read an inventory, certificates, SSH public keys or a CycloneDX CBOM, choosing by content.

    A shipped example's name (see :func:`example_inventories`) reads that example when no such file exists.
    """
    file = Path(path)
    if not file.is_file():
        if str(path) in example_inventories():
            with resources.as_file(_examples_folder().joinpath(f"{path}.yaml")) as shipped:
                return load_inventory(shipped)
        raise InputError(f"{file}: no such file (shipped examples: {', '.join(example_inventories())})")
    data = file.read_bytes()
    head = data.lstrip()[:64]
    if head.startswith(b"{"):
        try:
            document = json.loads(data)
        except json.JSONDecodeError as error:
            raise InputError(f"{file}: not valid JSON: {error}") from None
        if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
            assets, _ = assets_from_cbom(document, catalog or load_catalog(), str(file))
            return Inventory(name=file.stem, assets=assets)
        return inventory_from_dict(document, str(file))
    if b"-----BEGIN CERTIFICATE" in data:
        return Inventory(name=file.stem, assets=assets_from_certificates(data, str(file)))
    first_line = next(
        (line.strip() for line in data.splitlines() if line.strip() and not line.lstrip().startswith(b"#")), b""
    )
    if any(first_line.startswith(prefix.encode()) for prefix in _SSH_PREFIXES):
        return Inventory(name=file.stem, assets=assets_from_ssh_keys(data.decode("utf-8", "replace"), str(file)))
    if head[:1] == b"\x30":
        return Inventory(name=file.stem, assets=assets_from_certificates(data, str(file)))
    return load_inventory(file)
