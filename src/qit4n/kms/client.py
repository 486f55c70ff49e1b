"""A small SAE client for the ETSI GS QKD 014 API (mutual TLS with the SAE's certificate).

The clients speak post-quantum TLS (:mod:`qit4n.kms.tls_client`): they offer ``groups``, ML-KEM
hybrids by default, and check the KME's certificate against the CA (and a CRL when given).

>>> SAEClient.__name__
'SAEClient'
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from qit4n.errors import ServiceError
from qit4n.kms.tls import DEFAULT_TLS_GROUPS

if TYPE_CHECKING:
    import httpx

__all__ = ["AsyncSAEClient", "BlockingKMEClient", "DeliveredKey", "KMEError", "SAEClient", "sae_transport"]


@dataclass(frozen=True)
class DeliveredKey:
    """A key from a KME: its UUID and its bytes."""

    key_id: str
    key: bytes


class KMEError(ServiceError):
    """The KME answered with an ETSI error (400, 401, 503 ...)."""

    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self.body = body
        super().__init__(f"KME answered {status_code}: {body}")


def sae_transport(
    cert: Path,
    key: Path,
    ca: Path,
    *,
    groups: Sequence[str] = DEFAULT_TLS_GROUPS,
    crl: Path | None = None,
    limits: httpx.Limits | None = None,
) -> httpx.HTTPTransport:
    """An httpx transport with the SAE's certificate, checking the KME against the network CA, offering ``groups``.

    Use it as ``httpx.Client(transport=sae_transport(...))``.
    """
    from qit4n.kms.tls_client import client_tls_source, tls_transport

    return tls_transport(client_tls_source(cert, key, ca, groups=groups, crl=crl), limits=limits)


def _keys(response: httpx.Response) -> list[DeliveredKey]:
    if response.status_code != 200:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        raise KMEError(response.status_code, body)
    return [DeliveredKey(item["key_ID"], base64.b64decode(item["key"])) for item in response.json()["keys"]]


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise KMEError(response.status_code, response.json())
    return response.json()


def _enc_body(number: int | None, size_bits: int | None, additional: list[str] | None) -> dict:
    body: dict[str, Any] = {}
    if number is not None:
        body["number"] = number
    if size_bits is not None:
        body["size"] = size_bits
    if additional:
        body["additional_slave_SAE_IDs"] = list(additional)
    return body


class BlockingKMEClient:
    """An SAE's blocking HTTPS connection pool towards its KME (post-quantum mutual TLS); a context manager.

    The base of :class:`SAEClient` (ETSI 014) and :class:`qit4n.kms.client004.StreamClient` (ETSI 004).
    """

    def __init__(
        self,
        kme_url: str,
        cert: Path,
        key: Path,
        ca: Path,
        *,
        timeout_s: float,
        groups: Sequence[str] = DEFAULT_TLS_GROUPS,
    ) -> None:
        import httpx

        transport = sae_transport(cert, key, ca, groups=groups)
        self._http = httpx.Client(base_url=kme_url, transport=transport, timeout=timeout_s)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class SAEClient(BlockingKMEClient):
    """Blocking client of one SAE towards its KME.

    Parameters
    ----------
    kme_url : str
        e.g. ``https://127.0.0.1:8443``.
    cert, key, ca : Path
        The SAE's certificate and key, and the CA that signed the KME's certificate.
    groups : sequence of str
        TLS key-exchange groups offered (default: ML-KEM hybrids only).
    """

    def __init__(
        self,
        kme_url: str,
        cert: Path,
        key: Path,
        ca: Path,
        *,
        timeout_s: float = 10.0,
        groups: Sequence[str] = DEFAULT_TLS_GROUPS,
    ) -> None:
        super().__init__(kme_url, cert, key, ca, timeout_s=timeout_s, groups=groups)

    def status(self, slave_sae_id: str) -> dict:
        """Get status (clause 5.1)."""
        return _json(self._http.get(f"/api/v1/keys/{slave_sae_id}/status"))

    def kme_id(self) -> str:
        """The KME ID in the server certificate this client verified (its subject common name)."""
        with self._http.stream("GET", "/openapi.json") as response:
            name = response.extensions["network_stream"].get_extra_info("ssl_object").peer_common_name
        if name is None:
            raise ServiceError("the KME's certificate has no common name")
        return name

    def get_key(
        self,
        slave_sae_id: str,
        number: int | None = None,
        size_bits: int | None = None,
        additional_slave_sae_ids: list[str] | None = None,
    ) -> list[DeliveredKey]:
        """Get key (clause 5.2), as master SAE."""
        return _keys(
            self._http.post(
                f"/api/v1/keys/{slave_sae_id}/enc_keys", json=_enc_body(number, size_bits, additional_slave_sae_ids)
            )
        )

    def get_key_with_ids(self, master_sae_id: str, key_ids: list[str]) -> list[DeliveredKey]:
        """Get key with key IDs (clause 5.3), as slave SAE."""
        body = {"key_IDs": [{"key_ID": key_id} for key_id in key_ids]}
        return _keys(self._http.post(f"/api/v1/keys/{master_sae_id}/dec_keys", json=body))


class AsyncSAEClient:
    """The asyncio twin of :class:`SAEClient` (used by the benchmarks)."""

    def __init__(
        self,
        kme_url: str,
        cert: Path,
        key: Path,
        ca: Path,
        *,
        timeout_s: float = 10.0,
        connections: int = 16,
        groups: Sequence[str] = DEFAULT_TLS_GROUPS,
    ) -> None:
        import httpx

        from qit4n.kms.tls_client import AsyncTlsClient, client_tls_source

        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        source = client_tls_source(cert, key, ca, groups=groups)
        self._http = AsyncTlsClient(source, timeout_s=timeout_s, limits=limits, base_url=kme_url)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def get_key(
        self,
        slave_sae_id: str,
        number: int | None = None,
        size_bits: int | None = None,
        additional_slave_sae_ids: list[str] | None = None,
    ) -> list[DeliveredKey]:
        """Get key (clause 5.2), as master SAE."""
        return _keys(
            await self._http.post(
                f"/api/v1/keys/{slave_sae_id}/enc_keys", json=_enc_body(number, size_bits, additional_slave_sae_ids)
            )
        )

    async def get_key_with_ids(self, master_sae_id: str, key_ids: list[str]) -> list[DeliveredKey]:
        """Get key with key IDs (clause 5.3), as slave SAE."""
        body = {"key_IDs": [{"key_ID": key_id} for key_id in key_ids]}
        return _keys(await self._http.post(f"/api/v1/keys/{master_sae_id}/dec_keys", json=body))
