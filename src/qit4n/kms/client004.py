"""A small SAE client for the ETSI GS QKD 004 binding of the KMEs (:mod:`qit4n.kms.routers.etsi004`).

Every call returns the KME's answer as a dict with the GS ``status`` (0-8, see
:data:`qit4n.kms.etsi004.STATUS`); a refusal of the binding itself (HTTP 400 or 401) raises
:class:`~qit4n.kms.client.KMEError`. ``key_buffer`` is decoded to bytes when present.

>>> StreamClient.__name__
'StreamClient'
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qit4n.kms.client import KMEError, sae_transport
from qit4n.kms.tls import DEFAULT_TLS_GROUPS

__all__ = ["StreamClient"]


class StreamClient:
    """Blocking ETSI GS QKD 004 client of one SAE towards its KME (arguments as for ``SAEClient``)."""

    def __init__(
        self,
        kme_url: str,
        cert: Path,
        key: Path,
        ca: Path,
        *,
        timeout_s: float = 70.0,
        groups: Sequence[str] = DEFAULT_TLS_GROUPS,
    ) -> None:
        import httpx

        self._http = httpx.Client(
            base_url=kme_url, transport=sae_transport(cert, key, ca, groups=groups), timeout=timeout_s
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> StreamClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(f"/api/v1/ksid/{path}", json=body)
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            raise KMEError(response.status_code, response.text) from None
        if response.status_code != 200:
            raise KMEError(response.status_code, answer)
        return answer

    def open_connect(
        self, source: str, destination: str, qos: dict[str, Any] | None = None, ksid: str | None = None
    ) -> dict[str, Any]:
        """OPEN_CONNECT: ``{"status", "message", "KSID", "qos"}`` (status 1 for the source, 0 for the destination)."""
        return self._call(
            "open_connect", {"source": source, "destination": destination, "qos": qos or {}, "KSID": ksid}
        )

    def get_key(self, ksid: str, index: int | None = None, metadata_size: int | None = None) -> dict[str, Any]:
        """GET_KEY: ``{"status", "message", "key_buffer" (bytes), "index", "metadata", "metadata_size"}``."""
        body: dict[str, Any] = {"KSID": ksid}
        if index is not None:
            body["index"] = index
        if metadata_size is not None:
            body["metadata_size"] = metadata_size
        answer = self._call("get_key", body)
        if "key_buffer" in answer:
            answer["key_buffer"] = base64.b64decode(answer["key_buffer"])
        return answer

    def close_stream(self, ksid: str) -> dict[str, Any]:
        """CLOSE: ``{"status", "message"}``."""
        return self._call("close", {"KSID": ksid})
