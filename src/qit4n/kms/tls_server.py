"""Server side of the KMS's post-quantum TLS: an asyncio protocol that terminates TLS for uvicorn.

Python's ``ssl`` (OpenSSL 3.0 here) cannot negotiate ML-KEM, so uvicorn runs without ``ssl`` and
its HTTP protocol is wrapped: :func:`tls_protocol_class` makes a protocol that performs the
handshake with pyOpenSSL over memory BIOs (:class:`~qit4n.kms.tls.TlsEngine`, a context from a
:class:`~qit4n.kms.tls.ContextSource`), then creates uvicorn's HTTP protocol and hands it the
plaintext through :class:`TlsTransport`, which offers the public ``asyncio.Transport`` API
(``get_extra_info("ssl_object")`` is the connection's :class:`~qit4n.kms.tls.TlsSession`).

Certificates, keys, CA and CRL replaced on disk apply to new handshakes; open connections keep
working, except that a client whose certificate a replaced CRL lists is disconnected on its next
request (the files are checked at most every :data:`REVOCATION_CHECK_S` per connection).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar, cast

from qit4n.kms.tls import ContextSource, TlsEngine

__all__ = ["HANDSHAKE_TIMEOUT_S", "REVOCATION_CHECK_S", "TlsServerProtocol", "TlsTransport", "tls_protocol_class"]

#: A client that has not completed its handshake within this time is disconnected.
HANDSHAKE_TIMEOUT_S = 10.0
#: An open connection looks for a replaced CRL at most this often (when data arrives).
REVOCATION_CHECK_S = 1.0
_log = logging.getLogger(__name__)


class TlsTransport(asyncio.Transport):
    """The plaintext side of one TLS connection, as the HTTP protocol sees it."""

    def __init__(self, raw: asyncio.Transport, engine: TlsEngine, protocol: asyncio.BaseProtocol) -> None:
        super().__init__()
        self._raw = raw
        self._engine = engine
        self._protocol = protocol
        self._closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "ssl_object":
            return self._engine.session
        if name == "sslcontext":
            return self._engine.connection.get_context()
        return self._raw.get_extra_info(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        self._engine.send(bytes(data))
        self._raw.write(self._engine.outgoing())

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def can_write_eof(self) -> bool:
        return False

    def is_closing(self) -> bool:
        return self._closing or self._raw.is_closing()

    def close(self) -> None:
        """Send close_notify, then close the socket once its buffer is flushed."""
        if self._closing:
            return
        self._closing = True
        if not self._raw.is_closing():
            self._raw.write(self._engine.close_notify())
            self._raw.close()

    def abort(self) -> None:
        self._closing = True
        self._raw.abort()

    def pause_reading(self) -> None:
        self._raw.pause_reading()

    def resume_reading(self) -> None:
        self._raw.resume_reading()

    def is_reading(self) -> bool:
        return self._raw.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._raw.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._raw.get_write_buffer_size()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol


class TlsServerProtocol(asyncio.Protocol):
    """What the classes of :func:`tls_protocol_class` share: the connections still in their handshake.

    uvicorn learns of a connection only once its HTTP protocol starts, after the handshake, so a
    server that stops must abort the connections still handshaking itself (:meth:`abort_handshakes`)
    or their sockets outlive it.
    """

    handshaking: ClassVar[set[asyncio.Transport]]

    @classmethod
    async def abort_handshakes(cls) -> None:
        """Abort every connection of this class still in its TLS handshake, and let them close."""
        for raw in list(cls.handshaking):
            raw.abort()
        cls.handshaking.clear()
        await asyncio.sleep(0)


def tls_protocol_class(source: ContextSource, http_class: type[asyncio.Protocol]) -> type[TlsServerProtocol]:
    """A protocol class for uvicorn's ``http=``: TLS from ``source``, then ``http_class`` on the plaintext.

    The class takes the keyword arguments uvicorn gives its HTTP protocol and passes them on.
    """

    class TlsProtocol(TlsServerProtocol):
        """TLS termination in front of one HTTP protocol instance."""

        handshaking: ClassVar[set[asyncio.Transport]] = set()

        def __init__(self, **http_kwargs: Any) -> None:
            self._http_kwargs = http_kwargs
            self._raw: asyncio.Transport | None = None
            self._engine: TlsEngine | None = None
            self._http: asyncio.Protocol | None = None
            self._transport: TlsTransport | None = None
            self._timer: asyncio.TimerHandle | None = None
            self._generation = source.generation
            self._next_check = 0.0

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self._raw = cast(asyncio.Transport, transport)
            self.handshaking.add(self._raw)
            self._engine = TlsEngine(source.current(), server=True)
            self._generation = source.generation  # the files this connection's handshake checks against
            self._timer = asyncio.get_running_loop().call_later(HANDSHAKE_TIMEOUT_S, self._raw.abort)

        def data_received(self, data: bytes) -> None:
            from OpenSSL import SSL

            engine, raw = cast(TlsEngine, self._engine), cast(asyncio.Transport, self._raw)
            engine.receive(data)
            try:
                if not engine.handshake_done:
                    done = engine.do_handshake()
                    raw.write(engine.outgoing())
                    if not done:
                        return
                    self._start_http(engine, raw)
                elif self._revoked(engine):
                    return
                plaintext = engine.read()
            except SSL.Error as error:
                _log.debug("TLS from %s failed: %s", raw.get_extra_info("peername"), error)
                raw.write(engine.outgoing())
                raw.close()
                return
            pending = engine.outgoing()
            if pending:
                raw.write(pending)
            if plaintext and self._http is not None:
                self._http.data_received(plaintext)
            if engine.closed and self._transport is not None:
                self._transport.close()

        def _revoked(self, engine: TlsEngine) -> bool:
            """True (and the connection closed) when a replaced CRL lists the client's certificate."""
            now = asyncio.get_running_loop().time()
            if now < self._next_check:
                return False
            self._next_check = now + REVOCATION_CHECK_S
            source.current()
            if source.generation == self._generation:
                return False
            self._generation = source.generation
            certificate = engine.session.peer_certificate
            if certificate is None or not source.is_revoked(certificate) or self._transport is None:
                return False
            _log.warning("closing the connection of %s: its certificate was revoked", engine.session.peer_common_name)
            self._transport.close()
            return True

        def _start_http(self, engine: TlsEngine, raw: asyncio.Transport) -> None:
            self._next_check = asyncio.get_running_loop().time() + REVOCATION_CHECK_S
            self.handshaking.discard(raw)
            if self._timer is not None:
                self._timer.cancel()
            self._http = http_class(**self._http_kwargs)
            self._transport = TlsTransport(raw, engine, self._http)
            self._http.connection_made(self._transport)

        def eof_received(self) -> bool | None:
            if self._http is not None:
                self._http.eof_received()
            return False

        def connection_lost(self, exc: Exception | None) -> None:
            if self._raw is not None:
                self.handshaking.discard(self._raw)
            if self._timer is not None:
                self._timer.cancel()
            if self._http is not None:
                self._http.connection_lost(exc)

        def pause_writing(self) -> None:
            if self._http is not None:
                self._http.pause_writing()

        def resume_writing(self) -> None:
            if self._http is not None:
                self._http.resume_writing()

    return TlsProtocol
