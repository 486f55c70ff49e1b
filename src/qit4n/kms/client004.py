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
from typing import TYPE_CHECKING, Any

from qit4n.errors import ServiceError
from qit4n.kms.client import BlockingKMEClient, KMEError
from qit4n.kms.tls import DEFAULT_TLS_GROUPS

if TYPE_CHECKING:
    from qit4n.kms.launcher import NetworkPlan

__all__ = ["StreamClient", "stream_between"]


class StreamClient(BlockingKMEClient):
    """Blocking ETSI GS QKD 004 client of one SAE towards its KME (arguments as for ``SAEClient``).

    The read timeout defaults to 70 s, above the longest GET_KEY wait a stream may ask for (60 s).
    """

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
        super().__init__(kme_url, cert, key, ca, timeout_s=timeout_s, groups=groups)

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


def _plan_client(plan: NetworkPlan, sae_id: str) -> StreamClient:
    kme_id = plan.directory.get(sae_id)
    if kme_id is None:
        raise ServiceError(f"SAE {sae_id!r}: not an SAE of this network; SAEs: {', '.join(sorted(plan.directory))}")
    return StreamClient(plan.url(kme_id), *plan.sae_cert(sae_id), groups=plan.configs[kme_id].tls_groups)


def _expect(answer: dict[str, Any], status: int, call: str) -> dict[str, Any]:
    if answer["status"] != status:
        raise ServiceError(f"{call}: status {answer['status']} ({answer['message']})")
    return answer


def stream_between(
    plan: NetworkPlan, source: str, destination: str, *, count: int, qos: dict[str, Any]
) -> tuple[str, list[bytes]]:
    """Open a key stream, acting for both SAEs with their certificates from ``plan``; take ``count``
    chunks at both ends, check that they agree, close it: (KSID, the chunks).

    Raises :class:`~qit4n.errors.ServiceError` with the KME's status and message when a call fails.
    """
    with _plan_client(plan, source) as sender, _plan_client(plan, destination) as receiver:
        ksid = _expect(sender.open_connect(source, destination, qos), 1, "OPEN_CONNECT (source)")["KSID"]
        try:
            _expect(receiver.open_connect(source, destination, qos, ksid=ksid), 0, "OPEN_CONNECT (destination)")
            chunks = []
            for index in range(count):
                mine = _expect(sender.get_key(ksid, index), 0, f"GET_KEY {index} (source)")["key_buffer"]
                theirs = _expect(receiver.get_key(ksid, index), 0, f"GET_KEY {index} (destination)")["key_buffer"]
                if mine != theirs:
                    raise ServiceError(f"GET_KEY {index}: the two ends got different keys")
                chunks.append(mine)
        finally:
            sender.close_stream(ksid)
    return ksid, chunks
