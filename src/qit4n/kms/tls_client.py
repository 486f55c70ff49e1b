"""Client side of the KMS's post-quantum TLS: httpx transports whose connections use pyOpenSSL.

Python's ``ssl`` (OpenSSL 3.0 here) cannot offer ML-KEM, so the SAE clients, the operator client
and the KME-to-KME client keep httpx and httpcore but give httpcore a network backend of their
own: plain TCP sockets (blocking, or anyio for asyncio) whose ``start_tls`` runs a
:class:`~qit4n.kms.tls.TlsEngine` with a context from a :class:`~qit4n.kms.tls.ContextSource`.
The context verifies the server against the network CA (and CRL) and its IP address or name,
presents the client's certificate and offers only the configured groups (ML-KEM hybrids by
default). ``response.extensions["network_stream"].get_extra_info("ssl_object")`` is the
connection's :class:`~qit4n.kms.tls.TlsSession` (negotiated group, peer certificate).
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from qit4n.kms.tls import DEFAULT_TLS_GROUPS, ContextSource, TlsEngine, TlsFiles

if TYPE_CHECKING:
    import anyio.abc

__all__ = ["AsyncTlsClient", "async_tls_transport", "client_tls_source", "tls_transport"]

_READ_BYTES = 1 << 16


def client_tls_source(
    cert: Path, key: Path, ca: Path, *, groups: Iterable[str] = DEFAULT_TLS_GROUPS, crl: Path | None = None
) -> ContextSource:
    """Client TLS: this end's certificate and key, the CA (and CRL) that the server must chain to, ``groups``."""
    return ContextSource(TlsFiles(cert, key, ca, crl), tuple(groups), server=False)


@contextmanager
def _mapped(timeout_error: type[Exception], other_error: type[Exception]) -> Iterator[None]:
    """TLS and socket failures as the httpcore exceptions that httpx maps to its own."""
    from OpenSSL import SSL

    try:
        yield
    except TimeoutError as error:
        raise timeout_error(str(error)) from error
    except (OSError, SSL.Error, EOFError) as error:
        raise other_error(f"{type(error).__name__}: {error}") from error


def _is_readable(sock: socket.socket | None) -> bool:
    """True when the (idle) socket has data or was closed by the peer: the pool then drops it."""
    if sock is None or sock.fileno() < 0:
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


class _SyncTlsStream(httpcore.NetworkStream):
    def __init__(self, sock: socket.socket, source: ContextSource) -> None:
        self._sock = sock
        self._source = source
        self._engine: TlsEngine | None = None

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        engine = TlsEngine(self._source.current(), server=False, server_hostname=server_hostname)
        try:
            with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
                self._sock.settimeout(timeout)
                while not engine.do_handshake():
                    self._sock.sendall(engine.outgoing())
                    data = self._sock.recv(_READ_BYTES)
                    if not data:
                        raise EOFError("server closed the connection during the handshake")
                    engine.receive(data)
                self._sock.sendall(engine.outgoing())
        except (httpcore.ConnectError, httpcore.ConnectTimeout):
            self._sock.close()
            raise
        self._engine = engine
        return self

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        engine = self._engine
        if engine is None:
            raise httpcore.ReadError("read before the TLS handshake")
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError):
            self._sock.settimeout(timeout)
            while True:
                plaintext = engine.read()
                pending = engine.outgoing()
                if pending:
                    self._sock.sendall(pending)
                if plaintext or engine.closed:
                    return plaintext
                data = self._sock.recv(_READ_BYTES)
                if not data:
                    return b""
                engine.receive(data)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        engine = self._engine
        if engine is None:
            raise httpcore.WriteError("write before the TLS handshake")
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError):
            self._sock.settimeout(timeout)
            engine.send(buffer)
            self._sock.sendall(engine.outgoing())

    def close(self) -> None:
        if self._engine is not None:
            # Best effort: the connection may already be gone.
            with suppress(OSError):
                self._sock.sendall(self._engine.close_notify())
        self._sock.close()

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return None if self._engine is None else self._engine.session
        if info == "is_readable":
            return _is_readable(self._sock)
        if info == "socket":
            return self._sock
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "client_addr":
            return self._sock.getsockname()
        return None


class _SyncBackend(httpcore.NetworkBackend):
    def __init__(self, source: ContextSource) -> None:
        self._source = source

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            source_address = None if local_address is None else (local_address, 0)
            sock = socket.create_connection((host, port), timeout, source_address=source_address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in socket_options or ():
                sock.setsockopt(*option)
        return _SyncTlsStream(sock, self._source)


class _AsyncTlsStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: anyio.abc.SocketStream, source: ContextSource) -> None:
        self._stream = stream
        self._source = source
        self._engine: TlsEngine | None = None

    async def _receive(self) -> bytes:
        import anyio

        try:
            return await self._stream.receive(_READ_BYTES)
        except anyio.EndOfStream:
            return b""
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as error:
            raise OSError(f"connection lost: {error!r}") from error

    async def _send(self, data: bytes) -> None:
        import anyio

        if data:
            try:
                await self._stream.send(data)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError) as error:
                raise OSError(f"connection lost: {error!r}") from error

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        import anyio

        engine = TlsEngine(self._source.current(), server=False, server_hostname=server_hostname)
        try:
            with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError), anyio.fail_after(timeout):
                while not engine.do_handshake():
                    await self._send(engine.outgoing())
                    data = await self._receive()
                    if not data:
                        raise EOFError("server closed the connection during the handshake")
                    engine.receive(data)
                await self._send(engine.outgoing())
        except BaseException:  # a failed or cancelled handshake: the socket is closed before the error goes on
            await self._close_stream()
            raise
        self._engine = engine
        return self

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import anyio

        engine = self._engine
        if engine is None:
            raise httpcore.ReadError("read before the TLS handshake")
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError), anyio.fail_after(timeout):
            while True:
                plaintext = engine.read()
                await self._send(engine.outgoing())
                if plaintext or engine.closed:
                    return plaintext
                data = await self._receive()
                if not data:
                    return b""
                engine.receive(data)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        import anyio

        engine = self._engine
        if engine is None:
            raise httpcore.WriteError("write before the TLS handshake")
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError), anyio.fail_after(timeout):
            engine.send(buffer)
            await self._send(engine.outgoing())

    async def aclose(self) -> None:
        """Send TLS close_notify where the stream still takes it, then close the socket in any case (also
        when another task is writing, the peer is gone or the caller is cancelled)."""
        import anyio

        try:
            if self._engine is not None:
                with (
                    suppress(OSError, anyio.BrokenResourceError, anyio.BusyResourceError, anyio.ClosedResourceError),
                    anyio.move_on_after(1.0),
                ):
                    await self._send(self._engine.close_notify())
        finally:
            await self._close_stream()

    async def _close_stream(self) -> None:
        import anyio

        with anyio.CancelScope(shield=True):
            await self._stream.aclose()

    def get_extra_info(self, info: str) -> Any:
        import anyio

        sock = self._stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
        if info == "ssl_object":
            return None if self._engine is None else self._engine.session
        if info == "is_readable":
            return _is_readable(sock)
        if info == "socket":
            return sock
        if info == "server_addr":
            return self._stream.extra(anyio.abc.SocketAttribute.remote_address, None)
        if info == "client_addr":
            return self._stream.extra(anyio.abc.SocketAttribute.local_address, None)
        return None


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, source: ContextSource) -> None:
        self._source = source

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        import anyio

        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError), anyio.fail_after(timeout):
            stream = await anyio.connect_tcp(host, port, local_host=local_address)
        sock = stream.extra(anyio.abc.SocketAttribute.raw_socket)
        for option in socket_options or ():
            sock.setsockopt(*option)
        return _AsyncTlsStream(stream, self._source)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError(f"{path}: the KMS speaks TLS over TCP only")

    async def sleep(self, seconds: float) -> None:
        import anyio

        await anyio.sleep(seconds)


def _placeholder_context() -> ssl.SSLContext:
    """httpcore passes an ``ssl.SSLContext`` to ``start_tls``; these streams ignore it."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _pool_options(limits: httpx.Limits) -> dict[str, Any]:
    """The httpcore pool arguments both transports share: the limits, and a context the streams ignore."""
    return {
        "ssl_context": _placeholder_context(),
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }


def tls_transport(source: ContextSource, *, limits: httpx.Limits | None = None) -> httpx.HTTPTransport:
    """An ``httpx.HTTPTransport`` whose HTTPS connections use ``source`` (give it as ``transport=``)."""
    limits = limits or httpx.Limits()
    transport = httpx.HTTPTransport(verify=_placeholder_context(), limits=limits)
    # httpx takes no network backend, so its connection pool is replaced by one with ours.
    transport._pool = httpcore.ConnectionPool(**_pool_options(limits), network_backend=_SyncBackend(source))
    return transport


def async_tls_transport(source: ContextSource, *, limits: httpx.Limits | None = None) -> httpx.AsyncHTTPTransport:
    """The asyncio twin of :func:`tls_transport` (give it to ``httpx.AsyncClient(transport=...)``)."""
    limits = limits or httpx.Limits()
    transport = httpx.AsyncHTTPTransport(verify=_placeholder_context(), limits=limits)
    transport._pool = httpcore.AsyncConnectionPool(**_pool_options(limits), network_backend=_AsyncBackend(source))
    return transport


class AsyncTlsClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` over :func:`async_tls_transport` that may be closed while requests are in flight.

    httpcore's pool, closed while one of its connections is still being opened, forgets that
    connection, whose socket then outlives the client. So every request runs as a task of this
    client, and :meth:`aclose` refuses new requests, gives those in flight ``grace_s`` to finish,
    cancels the rest (their callers get ``httpx.ConnectError``) and only then closes the pool.
    """

    def __init__(
        self,
        source: ContextSource,
        *,
        timeout_s: float,
        limits: httpx.Limits | None = None,
        base_url: str = "",
        grace_s: float = 1.0,
    ) -> None:
        super().__init__(base_url=base_url, transport=async_tls_transport(source, limits=limits), timeout=timeout_s)
        self._in_flight: set[asyncio.Task[httpx.Response]] = set()
        self._closing = False
        self._grace_s = grace_s

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if self._closing:
            raise httpx.ConnectError("the client is closing", request=request)
        task = asyncio.ensure_future(super().send(request, **kwargs))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and current is not None and not current.cancelling():
                raise httpx.ConnectError("the client closed before the answer came", request=request) from None
            raise

    async def aclose(self) -> None:
        self._closing = True
        if self._in_flight:
            _done, pending = await asyncio.wait(set(self._in_flight), timeout=self._grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await super().aclose()
