"""Forward /api/<service>/... to the service, with the internal token and the signed identity.

Every scan goes through here, so the common case skips Flask. Two doors lead to one forward:

- `FastLane` wraps the Flask app's WSGI callable. A request it fully understands (a known service,
  a path that is not internal, a bearer token this process holds in its session cache, a body
  within the limit) it forwards itself: no request context, no routing, no before/after hooks.
  On the bench a forwarded scan cost the gateway ~1.2 ms of CPU through Flask and urllib3, and
  ~0.55 ms through this lane and `common.http.Hop`: what the gateway's own bare endpoint costs.
- Everything else (no token, a token not in memory, an internal or unknown path, a body too large,
  a service that could not answer) goes to the Flask app unchanged: `forward` below, behind
  session_auth's check and the error handlers, so every error answer is made in one place.

Both doors build the request to the service (`Forwarding.send`) and pick the headers passed back
(`passed_back`) with the same code; tests/gateway/test_fast_lane.py holds the two to the same answers.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.http import remove_entity_headers
from werkzeug.urls import iri_to_uri

from common import auth
from common.errors import NotFoundError, ServiceUnavailableError
from common.http import Answer, Hop
from common.observability import REQUEST_ID_HEADER, clocks, count_request, request_id_from
from gateway import security, session_auth

bp = Blueprint("proxy", __name__)
SERVICES = ("stock", "scan", "print")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PATH_SAFE = "/:@!$&'()*+,;=-._~"

# (header, its WSGI environ key): what a client may tell the service.
FORWARDED_REQUEST_HEADERS = (("Content-Type", "CONTENT_TYPE"), ("Idempotency-Key", "HTTP_IDEMPOTENCY_KEY"),
                             ("Accept-Language", "HTTP_ACCEPT_LANGUAGE"), ("Accept", "HTTP_ACCEPT"))
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Idempotent-Replayed", "Location", "Content-Disposition",
                              "Cache-Control")
# The fast lane hands a service's failure to Flask under this environ key, to be answered as a 503 there.
UPSTREAM_FAILED = "gateway.upstream_failed"
# What a Flask Response says when the service named no Content-Type.
DEFAULT_CONTENT_TYPE = Response().headers["Content-Type"]


class Forwarding:
    """What a forward needs, read from the settings once: a hop per service, the token, the secret."""

    def __init__(self, settings: Any):
        self.hops = {name: Hop(url, name=name, timeout=settings.http_timeout_seconds)
                     for name, url in settings.service_urls.items() if name in SERVICES}
        self.token = settings.internal_token
        self.secret = settings.identity_secret
        self.import_timeout = settings.import_timeout_seconds

    def send(self, method: str, service: str, rest: str, environ: dict[str, Any], identity: auth.Identity | None,
             request_id: str, body: bytes) -> Answer:
        """The service's answer to this request; `rest` is the path after /api/<service>/, decoded."""
        headers = {name: environ[key] for name, key in FORWARDED_REQUEST_HEADERS if key in environ}
        headers[auth.TOKEN_HEADER] = self.token
        headers[REQUEST_ID_HEADER] = request_id
        if identity is not None:
            headers.update(auth.sign(identity, self.secret))
        # The path arrives decoded: a scanned code may hold Chinese, spaces or '%'.
        target = quote(f"/api/{service}/{rest}", safe=PATH_SAFE)
        if environ.get("QUERY_STRING"):
            # gunicorn refuses a request line with spaces or control characters: the query is safe as sent.
            target += "?" + environ["QUERY_STRING"]
        # A file of 10,000 orders takes longer than a scan: a short timeout would answer 503 while the
        # service goes on and commits the import.
        timeout = self.import_timeout if rest.endswith("/import") else None  # None: the hop's own
        return self.hops[service].send(method, target, body=body if body or method != "GET" else None,
                                       headers=headers, timeout=timeout)


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
        raise failed  # the fast lane already tried: the request must not be sent twice
    forwarding: Forwarding = current_app.extensions["proxy"]
    # Internal endpoints are for services calling each other, never for a client.
    if service not in forwarding.hops or rest.startswith("internal/"):
        raise NotFoundError()
    answer = forwarding.send(request.method, service, rest, request.environ, getattr(g, "identity", None),
                             g.request_id, request.get_data())
    response = Response(answer.data, status=answer.status)
    for name, value in passed_back(answer):
        response.headers[name] = value
    return response


for _service in SERVICES:
    # One rule per service, so the request metrics are labelled by service.
    bp.add_url_rule(f"/api/{_service}/<path:rest>", endpoint=_service, view_func=forward,
                    defaults={"service": _service}, methods=METHODS)


StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class FastLane:
    """The WSGI door for the common case; anything it does not fully understand goes to Flask as it came."""

    def __init__(self, app: Flask):
        self.flask_app = app.wsgi_app
        self.config = app.config
        self.forwarding: Forwarding = app.extensions["proxy"]
        self.sessions = app.extensions["session_cache"]
        self.max_body = app.config["MAX_CONTENT_LENGTH"]
        self.access_log = logging.getLogger(f"wms.{app.name}.access")
        self.service_label = app.name

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = clocks()
        claim = self._claim(environ)
        if claim is None:
            return self.flask_app(environ, start_response)
        method, path, service, rest, identity, length = claim
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            answer = self.forwarding.send(method, service, rest, environ, identity, request_id, body)
        except ServiceUnavailableError as exc:
            environ[UPSTREAM_FAILED] = exc
            environ["HTTP_X_REQUEST_ID"] = request_id  # the 503 names the id the service was sent
            return self.flask_app(environ, start_response)
        headers, data = _framed(answer, path, request_id)
        start_response(_status_line(answer.status), headers)
        self._observe(method, path, service, answer.status, started, request_id, identity)
        return [data]

    def _claim(self, environ: dict[str, Any]) -> tuple[str, str, str, str, auth.Identity, int] | None:
        """(method, path, service, rest, operator, body length) when this lane may serve the request."""
        method = environ["REQUEST_METHOD"]
        raw_path = environ.get("PATH_INFO", "")
        if method not in METHODS or not raw_path.startswith("/api/") or "//" in raw_path:
            return None  # "//": Flask's routing merges slashes with a redirect
        try:
            path = raw_path.encode("latin-1").decode()  # as Flask decodes it
        except UnicodeError:
            return None
        service, _, rest = path[5:].partition("/")
        if (service not in self.forwarding.hops or not rest or rest.startswith("internal/")
                or session_auth.is_open(path)):
            return None
        token = session_auth.bearer_token(environ.get("HTTP_AUTHORIZATION", ""))
        identity = self.sessions.held(token) if token else None
        if identity is None:
            return None  # Flask reads Redis, answers 401, or fills the cache for the next request
        length = environ.get("CONTENT_LENGTH") or "0"
        if "HTTP_TRANSFER_ENCODING" in environ or not (length.isascii() and length.isdigit()):
            return None
        if int(length) > self.max_body:
            return None  # Flask answers 413
        return method, path, service, rest, identity, int(length)

    def _observe(self, method: str, path: str, service: str, status: int, started: tuple[float, float],
                 request_id: str, identity: auth.Identity) -> None:
        """The metrics and access log line observability gives a Flask request, with the same labels."""
        endpoint = f"/api/{service}/<path:rest>"  # the Flask door's rule
        count_request(self.access_log, self.service_label, method, endpoint, path, status, started,
                      self.config.get("ACCESS_LOG", False), request_id=request_id, operator=identity.badge)


def _framed(answer: Answer, path: str, request_id: str) -> tuple[list[tuple[str, str]], bytes]:
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


@functools.cache
def _status_line(status: int) -> str:
    return Response(status=status).status  # werkzeug's words for it, as the Flask door says them
