"""Forward /api/<service>/... to the service, with the internal token and the signed identity.

Two doors lead to one forward:

- the edge (gateway/edge.py) forwards the common case itself, on the event loop: a known service,
  a path that is not internal, a bearer token this process holds in its session cache, a body
  within the limit;
- everything else goes to the Flask app: `forward` below, behind session_auth's check and the
  error handlers, so every error answer is made in one place.

Both build the request to the service (`Forwarding.outgoing`) and pick the headers passed back
(`passed_back`) with the same code; tests/gateway/test_edge.py holds the two to the same answers.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, g, request

from common import auth
from common.errors import NotFoundError
from common.http import Answer, Hop
from common.observability import REQUEST_ID_HEADER
from gateway.upstream import Upstream

bp = Blueprint("proxy", __name__)
SERVICES = ("stock", "scan", "print")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PATH_SAFE = "/:@!$&'()*+,;=-._~"

# (header, its WSGI environ key): what a client may tell the service.
FORWARDED_REQUEST_HEADERS = (("Content-Type", "CONTENT_TYPE"), ("Idempotency-Key", "HTTP_IDEMPOTENCY_KEY"),
                             ("Accept-Language", "HTTP_ACCEPT_LANGUAGE"), ("Accept", "HTTP_ACCEPT"))
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Idempotent-Replayed", "Location", "Content-Disposition",
                              "Cache-Control")
# The edge hands a service's failure to Flask under this environ key, to be answered as a 503 there.
UPSTREAM_FAILED = "gateway.upstream_failed"


class Outgoing(NamedTuple):
    """The request a service is sent: everything but the connection it goes on."""

    method: str
    service: str
    target: str
    headers: dict[str, str]
    body: bytes | None
    timeout: float | None  # None: the connection's own


class Forwarding:
    """What a forward needs, read from the settings once: a hop per service, the token, the secret.

    `hops` are the Flask door's (a thread's blocking connection), `upstreams` the edge's (on the event loop).
    """

    def __init__(self, settings: Any):
        urls = {name: url for name, url in settings.service_urls.items() if name in SERVICES}
        timeout = settings.http_timeout_seconds
        self.hops = {name: Hop(url, name=name, timeout=timeout) for name, url in urls.items()}
        self.upstreams = {name: Upstream(url, name=name, timeout=timeout) for name, url in urls.items()}
        self.token = settings.internal_token
        self.secret = settings.identity_secret
        self.import_timeout = settings.import_timeout_seconds

    def outgoing(self, method: str, service: str, rest: str, environ: Mapping[str, Any],
                 identity: auth.Identity | None, request_id: str, body: bytes) -> Outgoing:
        """This request as the service is sent it; `rest` is the path after /api/<service>/, decoded.

        `environ` holds the client's headers under their WSGI names (the edge passes only these).
        """
        headers = {name: environ[key] for name, key in FORWARDED_REQUEST_HEADERS if key in environ}
        headers[auth.TOKEN_HEADER] = self.token
        headers[REQUEST_ID_HEADER] = request_id
        if identity is not None:
            headers.update(auth.sign(identity, self.secret))
        # The path arrives decoded: a scanned code may hold Chinese, spaces or '%'.
        target = quote(f"/api/{service}/{rest}", safe=PATH_SAFE)
        if environ.get("QUERY_STRING"):
            # The server refused a request line with spaces or control characters: the query is safe as sent.
            target += "?" + environ["QUERY_STRING"]
        # A file of 10,000 orders takes longer than a scan: a short timeout would answer 503 while the
        # service goes on and commits the import.
        timeout = self.import_timeout if rest.endswith("/import") else None
        return Outgoing(method, service, target, headers, body if body or method != "GET" else None, timeout)

    def send(self, out: Outgoing) -> Answer:
        """The service's answer, on this thread's connection (the Flask door)."""
        return self.hops[out.service].send(out.method, out.target, body=out.body, headers=out.headers,
                                           timeout=out.timeout)

    async def send_async(self, out: Outgoing) -> Answer:
        """The service's answer, on the event loop (the edge)."""
        return await self.upstreams[out.service].send(out.method, out.target, body=out.body, headers=out.headers,
                                                      timeout=out.timeout)


def passed_back(answer: Answer) -> list[tuple[str, str]]:
    """The service's headers the client may see."""
    return [(name, answer.headers[name.lower()]) for name in FORWARDED_RESPONSE_HEADERS
            if name.lower() in answer.headers]


def init_app(app: Flask) -> None:
    app.extensions["proxy"] = Forwarding(app.config["SETTINGS"])
    app.register_blueprint(bp)


def forward(service: str, rest: str) -> Response:
    """The Flask door: pass the request to its service and its answer back, byte for byte."""
    failed = request.environ.pop(UPSTREAM_FAILED, None)
    if failed is not None:
        raise failed  # the edge already tried: the request must not be sent twice
    forwarding: Forwarding = current_app.extensions["proxy"]
    # Internal endpoints are for services calling each other, never for a client.
    if service not in forwarding.hops or rest.startswith("internal/"):
        raise NotFoundError()
    answer = forwarding.send(forwarding.outgoing(request.method, service, rest, request.environ,
                                                 getattr(g, "identity", None), g.request_id, request.get_data()))
    response = Response(answer.data, status=answer.status)
    for name, value in passed_back(answer):
        response.headers[name] = value
    return response


for _service in SERVICES:
    # One rule per service, so the request metrics are labelled by service.
    bp.add_url_rule(f"/api/{_service}/<path:rest>", endpoint=_service, view_func=forward,
                    defaults={"service": _service}, methods=METHODS)
