"""Run one KME: uvicorn over post-quantum mutual TLS 1.3 (:mod:`qit4n.kms.tls`).

``python -m qit4n.kms.server CONFIG.json`` runs the KME described by a :class:`KMEConfig` file until
SIGINT/SIGTERM. uvicorn itself runs without ``ssl``: its HTTP protocol sits behind the TLS
protocol of :mod:`qit4n.kms.tls_server` (ML-KEM hybrids, client certificates required, CRL,
certificate rotation), and copies the verified client certificate's common name into each
request's state (uvicorn does not expose the peer certificate to the application).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qit4n.errors import ServiceError
from qit4n.kms.atrest import check_private
from qit4n.kms.config import KMEConfig
from qit4n.kms.tls import ContextSource, TlsFiles
from qit4n.kms.tls_server import TlsServerProtocol, tls_protocol_class

if TYPE_CHECKING:
    import uvicorn

__all__ = ["KEEP_ALIVE_S", "abort_leftovers", "main", "make_server", "peer_cert_protocol", "server_tls_source"]


def server_tls_source(config: KMEConfig) -> ContextSource:
    """Server TLS: the KME certificate, client certificates required and checked against the CA and CRL,
    ``config.tls_groups`` only; files replaced on disk are picked up by new connections."""
    return ContextSource(TlsFiles(config.cert, config.key, config.ca, config.crl), config.tls_groups, server=True)


def peer_cert_protocol(source: ContextSource) -> type[TlsServerProtocol]:
    """TLS from ``source`` in front of uvicorn's HTTP protocol (httptools when installed, else h11),
    recording the verified client certificate's common name as ``request.state.peer_cn``."""
    base: Any
    try:
        base = importlib.import_module("uvicorn.protocols.http.httptools_impl").HttpToolsProtocol
    except ImportError:
        base = importlib.import_module("uvicorn.protocols.http.h11_impl").H11Protocol

    class PeerCertProtocol(base):
        """Records the verified client certificate's common name once per connection."""

        app_state: dict[str, Any]

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            session = transport.get_extra_info("ssl_object")
            name = session.peer_common_name if session is not None else None
            self.app_state = {**self.app_state, "peer_cn": name}

    return tls_protocol_class(source, PeerCertProtocol)


#: An idle connection stays open this long (s): longer than a peer KME keeps one for reuse
#: (:data:`qit4n.kms.relay.PEER_KEEPALIVE_S`), so that a peer never sends on a connection this server
#: has just closed, and longer than the key supply notifications' slowest cadence, so that they do not
#: open a new TLS connection each time (a handshake costs more than the notification).
KEEP_ALIVE_S = 20


async def abort_leftovers(server: uvicorn.Server, protocol: type[TlsServerProtocol]) -> None:
    """After ``server.shutdown()``: abort the connections still open after uvicorn's graceful period
    and those still in their TLS handshake (which uvicorn does not know), so that no socket outlives
    the server."""
    for connection in list(server.server_state.connections):
        connection.transport.abort()
    await protocol.abort_handshakes()


def make_server(config: KMEConfig) -> uvicorn.Server:
    """A ``uvicorn.Server`` for the KME of ``config`` (call ``.run()`` or ``await .serve()``).

    On shutdown the KME first closes its own connections to other KMEs, so that KMEs stopping
    together do not wait for each other's idle connections, and answers the controller's watch
    requests; last come :func:`abort_leftovers`.
    """
    import uvicorn

    from qit4n.kms.app import create_app
    from qit4n.kms.routers.control import wake_watchers

    app = create_app(config)
    protocol = peer_cert_protocol(server_tls_source(config))

    class KMEServer(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            kme = getattr(app.state, "kme", None)
            if kme is not None:
                await kme.close_peers()
            wake_watchers(app.state)
            await super().shutdown(sockets=sockets)
            await abort_leftovers(self, protocol)

    uvicorn_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        http=protocol,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    return KMEServer(uvicorn_config)


def main(argv: list[str] | None = None) -> None:
    """Entry point of a KME process: ``python -m qit4n.kms.server CONFIG.json``.

    Files it creates are private (umask 077); a config, private key or database folder that other
    users can read, or a key-encryption key it cannot open (a wrong token PIN), makes it exit with
    status 2 and one line naming the path or setting.
    """
    args = sys.argv[1:] if argv is None else argv
    os.umask(0o077)
    path = Path(args[0])
    try:
        check_private(path)
        config = KMEConfig.model_validate_json(path.read_text())
        check_private(config.key, config.database.parent, *([config.kek_file] if config.kek_file else []))
        server = make_server(config)  # opens the key-encryption key (qit4n.kms.kek): a wrong PIN stops here
    except ServiceError as error:  # StateModeError, KekError
        print(f"qit4n kms: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    with contextlib.suppress(KeyboardInterrupt):
        server.run()


if __name__ == "__main__":
    main()
