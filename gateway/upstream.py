"""The edge's keep-alive HTTP/1.1 connections to one service, on the event loop (gateway/edge.py).

The async twin of `common.http.Hop`: the same `Destination` (request bytes, when trying again is
safe) and the same parser (httptools, through `common.http.Reply`). A request takes an idle
connection or opens one, so there are as many as requests in flight; at most `max_idle` wait for
the next.
"""
from __future__ import annotations

import asyncio

import httptools

from common.http import Answer, Destination, Reply


class Upstream(Destination):
    """One service, as the edge reaches it."""

    def __init__(self, base_url: str, *, name: str, timeout: float = 5.0, max_idle: int = 64):
        super().__init__(base_url, name=name, timeout=timeout)
        self.max_idle = max_idle
        self._idle: list[_Link] = []

    async def send(self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str],
                   timeout: float | None = None) -> Answer:
        """The whole answer, read; raises ServiceUnavailableError when the service could not answer."""
        seconds = timeout if timeout is not None else self.timeout
        message = self.message(method, path, headers, body)
        retried = False
        while True:
            try:
                link, reused = await self._link(seconds)
            except OSError as exc:
                raise self.unavailable(exc) from exc
            try:
                async with asyncio.timeout(seconds):
                    answer, keep = await link.exchange(message, method)
            except (OSError, ValueError) as exc:  # TimeoutError is an OSError
                link.close()
                if not retried and self.repeatable(method, exc, reused):
                    retried = True
                    continue
                raise self.unavailable(exc) from exc
            except BaseException:
                link.close()  # cancelled mid-answer: the rest of it must not be read as the next one's
                raise
            self._release(link, keep)
            return answer

    def close(self) -> None:
        """Close the idle connections (the worker is stopping)."""
        while self._idle:
            self._idle.pop().close()

    async def _link(self, seconds: float) -> tuple[_Link, bool]:
        while self._idle:
            link = self._idle.pop()
            if link.usable():
                return link, True
        for pause in (*self.CONNECT_PAUSES, None):
            try:
                async with asyncio.timeout(seconds):
                    return await open_link(self.address), False
            except OSError:
                if pause is None:
                    raise
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    def _release(self, link: _Link, keep: bool) -> None:
        if keep and link.usable() and len(self._idle) < self.max_idle:
            self._idle.append(link)
        else:
            link.close()


async def open_link(address: tuple[str, int]) -> _Link:
    _transport, link = await asyncio.get_running_loop().create_connection(_Link, *address)
    return link


class _Link(asyncio.Protocol):
    """One connection: one request at a time, its answer parsed as the bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reply: Reply | None = None
        self.method = "GET"
        self.waiter: asyncio.Future[tuple[Answer, bool]] | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio and uvloop both set TCP_NODELAY on a new TCP connection: each request goes out at once.
        self.transport = transport  # type: ignore[assignment]

    def usable(self) -> bool:
        """Idle and still open: a service that closed it while idle has been heard (connection_lost)."""
        return not self.lost and self.transport is not None and not self.transport.is_closing()

    def exchange(self, message: bytes, method: str) -> asyncio.Future[tuple[Answer, bool]]:
        """Send one request; the future is its answer and whether the connection may serve another."""
        if self.transport is None:
            raise ConnectionResetError("not connected")
        self.reply, self.method = Reply(), method
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(message)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        reply = self.reply
        if reply is None:
            self.close()  # bytes nobody asked for: this connection cannot be trusted again
            return
        try:
            reply.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ValueError(f"unreadable answer: {exc}"))
            return
        if reply.ended(self.method):
            self._done(reply.answer(), reply.keep)

    def eof_received(self) -> bool:
        reply = self.reply
        if reply is not None and reply.headed and reply.unframed():
            self._done(reply.answer(), False)  # an answer that ends with the connection
        else:
            self._fail(ConnectionResetError("the service closed the connection before the answer ended"))
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._fail(exc or ConnectionResetError("the service closed the connection"))

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()

    def _done(self, answer: Answer, keep: bool) -> None:
        waiter, self.waiter, self.reply = self.waiter, None, None
        if waiter is not None and not waiter.done():
            waiter.set_result((answer, keep))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter, self.reply = self.waiter, None, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()
