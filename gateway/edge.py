"""The gateway's front: an ASGI app on uvicorn's event loop that forwards every scan itself.

Each handheld request passes the gateway, so what the gateway spends per request caps the floor.
Under gunicorn's threaded worker a forwarded request cost about what the bare service behind it
cost: the worker's own Python (its poller, thread hand-offs, WSGI environ, response writing)
more than the forward. Here uvicorn parses with httptools on uvloop, and the forward is two writes
and two parses on one thread, with no thread hand-off (bench/HISTORY.md has the measurements).

A request the edge fully understands (a known service, a path that is not internal, a bearer token
this process holds in its session cache, a body of known length within the limit) it forwards on
`Forwarding.upstreams`. Everything else (no token, a token not in memory, an internal or unknown
path, a large or chunked body, a service that could not answer, the UI, logins) goes to the Flask
app on a thread (a2wsgi), where every error answer is made in one place.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from a2wsgi import WSGIMiddleware
from flask import Flask, Response
from uvicorn_worker import UvicornWorker
from werkzeug.http import remove_entity_headers
from werkzeug.urls import iri_to_uri

from common import auth
from common.errors import ServiceUnavailableError
from common.http import Answer
from common.observability import REQUEST_ID_HEADER, clocks, count_request, request_id_from
from gateway import security, session_auth
from gateway.proxy import METHODS, UPSTREAM_FAILED, Forwarding, passed_back

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

# The request headers the edge reads, under the WSGI names Forwarding.outgoing reads them by.
READ_HEADERS = {b"authorization": "HTTP_AUTHORIZATION", b"content-length": "CONTENT_LENGTH",
                b"transfer-encoding": "HTTP_TRANSFER_ENCODING", b"x-request-id": "HTTP_X_REQUEST_ID",
                b"content-type": "CONTENT_TYPE", b"idempotency-key": "HTTP_IDEMPOTENCY_KEY",
                b"accept-language": "HTTP_ACCEPT_LANGUAGE", b"accept": "HTTP_ACCEPT"}
# What a Flask Response says when the service named no Content-Type.
DEFAULT_CONTENT_TYPE = Response().headers["Content-Type"]


class Edge:
    """ASGI: the common case forwarded here, the rest handed to `flask_app` as it came."""

    def __init__(self, flask_app: Flask, door_threads: int = 4):
        self.flask_app = flask_app
        self.door_app = flask_app.wsgi_app  # the WSGI callable behind the door (tests wrap it)
        self.door = WSGIMiddleware(self._door_app, workers=door_threads)
        self.forwarding: Forwarding = flask_app.extensions["proxy"]
        self.sessions = flask_app.extensions["session_cache"]
        self.max_body = flask_app.config["MAX_CONTENT_LENGTH"]
        self.access_log = logging.getLogger(f"wms.{flask_app.name}.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        started = clocks()
        claim = self._claim(scope) if scope["type"] == "http" else None
        if claim is None:
            return await self.door(scope, receive, send)
        service, rest, identity, headers, length = claim
        request_id = request_id_from(headers.get("HTTP_X_REQUEST_ID", ""))
        body = await _body(receive) if length else b""
        if body is None:
            return  # the handheld went away before its request arrived: nothing was sent on
        out = self.forwarding.outgoing(scope["method"], service, rest, headers, identity, request_id, body)
        paused = clocks()[1]
        try:
            answer = await self.forwarding.send_async(out)
        except ServiceUnavailableError as exc:
            # Flask answers the 503, naming the request id the service was sent; nothing is sent twice.
            scope[UPSTREAM_FAILED] = exc
            scope["headers"] = [*(h for h in scope["headers"] if h[0] != b"x-request-id"),
                                (b"x-request-id", request_id.encode())]
            return await self.door(scope, _Replay(body, receive), send)
        # The CPU spent while this request waited was other requests'.
        started = (started[0], started[1] + clocks()[1] - paused)
        framed_headers, data = framed(answer, scope["path"], request_id)
        await send({"type": "http.response.start", "status": answer.status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in framed_headers]})
        await send({"type": "http.response.body", "body": data})
        self._observe(scope["method"], scope["path"], service, answer.status, started, request_id, identity)

    def _claim(self, scope: Scope) -> tuple[str, str, auth.Identity, dict[str, str], int] | None:
        """(service, rest, operator, the headers read, body length) when the edge may forward this itself."""
        method, path = scope["method"], scope["path"]
        if method not in METHODS or not path.startswith("/api/") or "//" in path:
            return None  # "//": Flask's routing merges slashes with a redirect
        service, _, rest = path[5:].partition("/")
        if (service not in self.forwarding.upstreams or not rest or rest.startswith("internal/")
                or session_auth.is_open(path)):
            return None
        headers = {"QUERY_STRING": scope["query_string"].decode("latin-1")}
        for name, value in scope["headers"]:
            key = READ_HEADERS.get(name)
            if key is None:
                continue
            if key in headers:
                return None  # a repeated header: Flask joins the copies, and refuses what that makes
            headers[key] = value.decode("latin-1")
        token = session_auth.bearer_token(headers.get("HTTP_AUTHORIZATION", ""))
        identity = self.sessions.held(token) if token else None
        if identity is None:
            return None  # Flask reads Redis, answers 401, or fills the cache for the next request
        length = headers.get("CONTENT_LENGTH") or "0"
        if "HTTP_TRANSFER_ENCODING" in headers or not (length.isascii() and length.isdigit()):
            return None
        if int(length) > self.max_body:
            return None  # Flask answers 413
        return service, rest, identity, headers, int(length)

    def _door_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        failed = environ["asgi.scope"].pop(UPSTREAM_FAILED, None)
        if failed is not None:
            environ[UPSTREAM_FAILED] = failed  # proxy.forward raises it: the 503 is made by Flask
        return self.door_app(environ, start_response)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for upstream in self.forwarding.upstreams.values():
                    upstream.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _observe(self, method: str, path: str, service: str, status: int, started: tuple[float, float],
                 request_id: str, identity: auth.Identity) -> None:
        """The metrics and access log line observability gives a Flask request, with the same labels."""
        endpoint = f"/api/{service}/<path:rest>"  # the Flask door's rule
        count_request(self.access_log, self.flask_app.name, method, endpoint, path, status, started,
                      self.flask_app.config.get("ACCESS_LOG", False), request_id=request_id,
                      operator=identity.badge)


async def _body(receive: Receive) -> bytes | None:
    """The request's body, whole; None when the client disconnected first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class _Replay:
    """A receive that gives the body already read once more, for the Flask door."""

    def __init__(self, body: bytes, receive: Receive):
        self.body: bytes | None = body
        self.receive = receive

    async def __call__(self) -> dict[str, Any]:
        if self.body is None:
            return await self.receive()
        body, self.body = self.body, None
        return {"type": "http.request", "body": body, "more_body": False}


def framed(answer: Answer, path: str, request_id: str) -> tuple[list[tuple[str, str]], bytes]:
    """The answer's headers and body as the Flask door sends them (werkzeug's rules, security's headers)."""
    headers = dict(passed_back(answer))
    headers.setdefault("Content-Type", DEFAULT_CONTENT_TYPE)
    headers["Content-Length"] = str(len(answer.data))
    if "Location" in headers:
        headers["Location"] = iri_to_uri(headers["Location"])
    security.secure(headers, path)
    headers[REQUEST_ID_HEADER] = request_id
    data = answer.data
    if answer.status < 200 or answer.status in (204, 304):
        data = b""  # werkzeug sends no body here, and no length or entity headers
        del headers["Content-Length"]
        if answer.status == 304:
            listed = list(headers.items())
            remove_entity_headers(listed)
            return listed, data
    return list(headers.items()), data


class EdgeWorker(UvicornWorker):
    """gunicorn's worker for the edge: uvicorn with httptools on uvloop.

    No access log line per request (observability logs failures and counts the rest), no Server header.
    """

    CONFIG_KWARGS = {"loop": "uvloop", "http": "httptools", "lifespan": "on", "access_log": False,
                     "server_header": False}
