"""Operator helpers over a running network: clients for SAEs, pool levels, an in-process runner.

:class:`InProcessNetwork` runs every KME of a plan as a uvicorn server inside one background
thread (one event loop): the same servers, TLS and databases as :class:`~qit4n.kms.launcher.Network`
without a process per KME, for the demo and quick tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qit4n.errors import ServiceError
from qit4n.kms.client import SAEClient, sae_transport
from qit4n.kms.config import OPERATOR_ID
from qit4n.kms.launcher import NetworkPlan

if TYPE_CHECKING:
    import uvicorn

__all__ = ["InProcessNetwork", "network_status", "operator_cert", "sae_client"]


def sae_client(plan: NetworkPlan, sae_id: str) -> SAEClient:
    """A client for ``sae_id`` towards the KME it is attached to."""
    kme_id = plan.directory.get(sae_id)
    if kme_id is None:
        raise ServiceError(f"--sae = {sae_id!r}: not an SAE of this network; SAEs: {', '.join(sorted(plan.directory))}")
    return SAEClient(plan.url(kme_id), *plan.sae_cert(sae_id), groups=plan.configs[kme_id].tls_groups)


def operator_cert(plan: NetworkPlan) -> tuple[Path, Path, Path]:
    """(certificate, key, CA) of the operator, who may read any KME's pool levels (issued with the plan)."""
    certs = plan.state_dir / "certs"
    cert = certs / f"{OPERATOR_ID}.pem"
    if not cert.is_file():
        raise ServiceError(
            f"{cert}: no operator certificate; `qit4n kms up` on this state issues it, "
            "or `qit4n kms certs issue --ca CA_DIR` for a state of an offline CA"
        )
    return cert, certs / f"{OPERATOR_ID}.key", certs / "ca.pem"


def network_status(plan: NetworkPlan, *, timeout_s: float = 5.0) -> dict[str, Any]:
    """Pool levels and counters of every KME, and the ETSI status of every SAE pair.

    Returns ``{"kmes": {KME ID: health or {"error": ...}}, "pairs": [ETSI status objects]}``.
    """
    import httpx

    groups = [group for config in plan.configs.values() for group in config.tls_groups]
    transport = sae_transport(*operator_cert(plan), groups=list(dict.fromkeys(groups)))
    kmes = {}
    with httpx.Client(transport=transport, timeout=timeout_s) as http:
        for kme_id, config in plan.configs.items():
            try:
                response = http.get(config.url + "/kme/v1/health")
                kmes[kme_id] = (
                    response.json() if response.status_code == 200 else {"error": f"HTTP {response.status_code}"}
                )
            except httpx.HTTPError as error:
                kmes[kme_id] = {"error": f"unreachable ({type(error).__name__})"}
    pairs = []
    for master in sorted(plan.directory):
        if "error" in kmes.get(plan.directory[master], {}):
            continue
        with sae_client(plan, master) as client:
            for slave in sorted(plan.directory):
                if slave != master:
                    try:
                        pairs.append(client.status(slave))
                    except ServiceError as error:
                        pairs.append({"master_SAE_ID": master, "slave_SAE_ID": slave, "error": str(error)})
    return {"kmes": kmes, "pairs": pairs}


class InProcessNetwork:
    """All KMEs of a plan in one background event loop (context manager)."""

    def __init__(self, plan: NetworkPlan) -> None:
        self.plan = plan
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="qit4n-kms", daemon=True)
        self._servers: dict[str, uvicorn.Server] = {}
        self._tasks: dict[str, Future[None]] = {}

    def __enter__(self) -> InProcessNetwork:
        from qit4n.kms.server import make_server

        self._thread.start()
        for kme_id, config in self.plan.configs.items():
            server = make_server(config)
            self._servers[kme_id] = server
            self._tasks[kme_id] = asyncio.run_coroutine_threadsafe(self._serve(server), self._loop)
        for kme_id, server in self._servers.items():
            asyncio.run_coroutine_threadsafe(self._wait_started(kme_id, server), self._loop).result(timeout=30)
        return self

    @staticmethod
    async def _serve(server: uvicorn.Server) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await server.serve()

    async def _wait_started(self, kme_id: str, server: uvicorn.Server) -> None:
        for _ in range(3000):
            if server.started:
                return
            if self._tasks[kme_id].done():
                self._tasks[kme_id].result()
                raise ServiceError(f"{kme_id} stopped while starting")
            await asyncio.sleep(0.01)
        raise ServiceError(f"{kme_id} did not start within 30 s")

    def __exit__(self, *_exc: object) -> None:
        for server in self._servers.values():
            server.should_exit = True
        for task in self._tasks.values():
            task.result(timeout=15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
