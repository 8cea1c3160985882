"""Calls between services: one keep-alive connection per thread and service, timeouts, retries only where safe.

`Hop` writes a request in one `sendall` and parses the answer with httptools: the gateway's
forwarding, which every scan goes through, and `ServiceClient`, which a pick start, a pick's
completion, a packing table's opening and every shipment use to call stock. `ServiceClient`
forwards the request id and signs the caller's identity, so the service called sees who is
acting. A request is repeated only when that is harmless: a read, or a POST that carries an
Idempotency-Key.
"""
from __future__ import annotations

import select
import socket
import threading
import time
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

import httptools

from common import auth, observability
from common.errors import AppError, ServiceUnavailableError
from common.jsonutil import dumps, loads


class Answer(NamedTuple):
    """A service's whole answer: header names in lower case, repeated headers joined with ", "."""

    status: int
    headers: dict[str, str]
    data: bytes


class Destination:
    """One service as a hop reaches it: its address, the request bytes, when trying again is safe.

    Shared by `Hop` (a thread's blocking connection) and gateway/upstream.py's `Upstream` (the
    edge's connections on the event loop). A request is tried once more, on a new connection,
    only when repeating cannot double an effect: the connection could not be made (nothing was
    sent), or a kept-alive connection failed on a safe method (the service closed it while idle).
    A timeout is never repeated: the caller would wait twice. `name` is what a 503 names.
    """

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
    CONNECT_PAUSES = (0.0, 0.1)  # before the 2nd and 3rd attempt to connect, as urllib3's backoff did

    def __init__(self, base_url: str, *, name: str, timeout: float = 5.0):
        parts = urlsplit(base_url)
        self.name = name
        self.timeout = timeout
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.prefix = parts.path.rstrip("/")
        self.host_line = f"Host: {parts.netloc}\r\n"

    def message(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> bytes:
        return request_message(method, self.prefix + path, self.host_line, headers, body)

    def repeatable(self, method: str, exc: BaseException, reused: bool) -> bool:
        """A failed exchange on a kept-alive connection that may be sent again on a new one."""
        return reused and method in self.SAFE_METHODS and not isinstance(exc, TimeoutError)

    def unavailable(self, exc: BaseException) -> ServiceUnavailableError:
        return ServiceUnavailableError(details={"service": self.name, "reason": type(exc).__name__})


class Hop(Destination):
    """The keep-alive HTTP/1.1 connection to one service, one per thread.

    One GET to a service, alone in a process: urllib3's `urlopen` costs ~0.36 ms of CPU, http.client
    ~0.23 ms (it parses headers with the email package), this far less: the request is written in one
    `sendall` and the answer parsed by httptools (llhttp, the parser of Node.js and uvicorn). A pick
    start's call to stock spent a third of its client CPU in urllib3 and http.client.
    """

    def __init__(self, base_url: str, *, name: str, timeout: float = 5.0):
        super().__init__(base_url, name=name, timeout=timeout)
        self._local = threading.local()

    def send(self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str],
             timeout: float | None = None) -> Answer:
        """The whole answer, read; raises ServiceUnavailableError when the service could not answer."""
        seconds = timeout if timeout is not None else self.timeout
        message = self.message(method, path, headers, body)
        retried = False
        while True:
            try:
                conn, reused = self._connection(seconds)
            except OSError as exc:
                raise self.unavailable(exc) from exc
            try:
                conn.sock.sendall(message)
                answer, keep = _read_answer(conn.sock, method)
            except (OSError, ValueError) as exc:
                self._drop()
                if not retried and self.repeatable(method, exc, reused):
                    retried = True
                    continue
                raise self.unavailable(exc) from exc
            if not keep:
                self._drop()
            return answer

    def _connection(self, seconds: float) -> tuple[_Connection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.idle_and_open():
            conn.sock.settimeout(seconds)
            return conn, True
        self._drop()
        for pause in (*self.CONNECT_PAUSES, None):
            try:
                sock = socket.create_connection(self.address, timeout=seconds)
                break
            except OSError:
                if pause is None:
                    raise
                time.sleep(pause)
        # Each request is one small write: send it at once, never wait for the last one's ACK (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = self._local.conn = _Connection(sock)
        return conn, False

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()


def request_message(method: str, target: str, host_line: str, headers: dict[str, str], body: bytes | None) -> bytes:
    """One HTTP/1.1 request, head and body, ready for one write."""
    lines = [f"{method} {target} HTTP/1.1\r\n", host_line]
    lines += [f"{name}: {value}\r\n" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}\r\n")
    return "".join(lines).encode("latin-1") + b"\r\n" + (body or b"")


class _Connection:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.poll = select.poll()
        self.poll.register(sock, select.POLLIN)

    def idle_and_open(self) -> bool:
        """Nothing to read on an idle connection: a service that closed it has sent its EOF by now."""
        return not self.poll.poll(0)

    def close(self) -> None:
        self.sock.close()


class Reply:
    """Collects what httptools' parser reads of one answer (fed by Hop here, by gateway/upstream.py's links)."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.headed = self.complete = self.keep = False
        self.status = 0
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        self.headers[key] = f"{self.headers[key]}, {text}" if key in self.headers else text

    def on_headers_complete(self) -> None:
        # Read now: once the message is complete the parser is reset for the next one.
        self.headed, self.status, self.keep = True, self.parser.get_status_code(), self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.complete = True

    def ended(self, method: str) -> bool:
        """The whole answer is read (a HEAD answer has no body)."""
        return self.complete or (method == "HEAD" and self.headed)

    def unframed(self) -> bool:
        """An answer that ends when the connection closes: no Content-Length, not chunked."""
        return not ("content-length" in self.headers or "chunked" in self.headers.get("transfer-encoding", ""))

    def answer(self) -> Answer:
        return Answer(self.status, self.headers, b"".join(self.chunks))


def _read_answer(sock: socket.socket, method: str) -> tuple[Answer, bool]:
    """Status, headers and body of one answer (parsed by httptools), and whether the connection may be used again."""
    reply = Reply()
    while not reply.ended(method):
        data = sock.recv(65536)
        if not data:
            if reply.headed and reply.unframed():
                return reply.answer(), False
            raise ConnectionResetError("the service closed the connection before the answer ended")
        try:
            reply.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            raise ValueError(f"unreadable answer: {exc}") from exc
    return reply.answer(), reply.keep


class ServiceError(AppError):
    """The other service answered with an error: its code and status are passed on."""


class ServiceClient:
    """Calls one sibling service as the given identity."""

    # Before the 2nd, 3rd and 4th attempt of a repeatable request (urllib3's backoff of 0.2 s, as before).
    RETRY_PAUSES = (0.0, 0.4, 0.8)
    RETRY_STATUSES = frozenset({502, 503, 504})

    def __init__(self, base_url: str, *, internal_token: str, identity_secret: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.internal_token = internal_token
        self.identity_secret = identity_secret
        self.hop = Hop(self.base_url, name=self.base_url, timeout=timeout)

    def request(self, method: str, path: str, identity: auth.Identity, *, json: Any = None,
                idempotency_key: str | None = None, params: dict[str, Any] | None = None) -> Any:
        headers = {auth.TOKEN_HEADER: self.internal_token, "Content-Type": "application/json"}
        headers.update(auth.sign(identity, self.identity_secret))
        rid = observability.request_id()
        if rid:
            headers[observability.REQUEST_ID_HEADER] = rid
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if params:
            path = f"{path}?{urlencode(params, doseq=True)}"
        body = dumps(json) if json is not None else None
        # A POST without a key must not be repeated: it could double an effect. Hop itself retries
        # only what never reached the service (a connection that could not be made).
        repeatable = method != "POST" or idempotency_key is not None
        pauses = self.RETRY_PAUSES if repeatable else ()
        for pause in pauses:
            try:
                answer = self.hop.send(method, path, body=body, headers=headers)
            except ServiceUnavailableError:
                answer = None
            if answer is not None and answer.status not in self.RETRY_STATUSES:
                return _result(answer)
            time.sleep(pause)
        return _result(self.hop.send(method, path, body=body, headers=headers))  # the last try, whatever it says


def _result(response: Answer) -> Any:
    try:
        body = loads(response.data) if response.data else None
    except ValueError:
        body = None
    if response.status >= 400:
        error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        if response.status >= 500 and not error:
            raise ServiceUnavailableError(details={"status": response.status})
        raise ServiceError(error.get("message"), code=error.get("code", "service_error"),
                           details=error.get("details", {}), status=response.status)
    return body
