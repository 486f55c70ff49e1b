"""Closing a KME's HTTPS client while its requests are still connecting leaves no socket open.

httpcore's pool, closed while a connection is being opened, forgets that connection: its socket
outlived the client (a ResourceWarning that failed a CI run at KME shutdown, where the key supply
notifier was mid-request). :class:`AsyncTlsClient` waits for, or cancels, the requests in flight.
"""

from __future__ import annotations

import asyncio
import gc
import warnings

import httpx
import pytest

from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork
from qit4n.kms.relay import client_tls_source
from qit4n.kms.tls_client import AsyncTlsClient


@pytest.mark.parametrize("grace_s", [1.0, 0.0])
def test_closing_while_requests_connect_leaves_no_socket_open(tmp_path, make_star, grace_s):
    """With a grace period the requests finish (200); without one they are cancelled (ConnectError).
    Either way no socket is left for the garbage collector to find unclosed."""
    plan = write_kme_plan(make_star(capacity_bits=4e5), tmp_path)
    config = plan.configs["KME-A"]
    url = config.peers["KME-B"] + "/kme/v1/health"

    async def close_while_connecting() -> list[object]:
        client = AsyncTlsClient(client_tls_source(config), timeout_s=5, grace_s=grace_s)
        requests = [asyncio.ensure_future(client.get(url)) for _ in range(4)]
        await asyncio.sleep(0.002)  # connecting or handshaking, not answered
        await client.aclose()
        outcomes = await asyncio.gather(*requests, return_exceptions=True)
        with pytest.raises(httpx.ConnectError, match="closing"):
            await client.get(url)
        return [o.status_code if isinstance(o, httpx.Response) else type(o) for o in outcomes]

    with InProcessNetwork(plan), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(3):
            outcomes = asyncio.run(close_while_connecting())
            assert set(outcomes) <= {200, httpx.ConnectError}
            if grace_s:
                assert outcomes == [200] * 4
            gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_cancelled_caller_sees_its_own_cancellation(tmp_path, make_star):
    """Cancelling the task that asked is not the client closing: the caller gets CancelledError."""
    plan = write_kme_plan(make_star(capacity_bits=4e5), tmp_path)
    config = plan.configs["KME-A"]

    async def cancel_the_caller() -> None:
        async with AsyncTlsClient(client_tls_source(config), timeout_s=5) as client:
            request = asyncio.ensure_future(client.get(config.peers["KME-B"] + "/kme/v1/health"))
            await asyncio.sleep(0.002)
            request.cancel()
            with pytest.raises(asyncio.CancelledError):
                await request

    with InProcessNetwork(plan):
        asyncio.run(cancel_the_caller())
