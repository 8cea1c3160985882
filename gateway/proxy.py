"""Forward /api/<service>/... to the service, with the internal token and the signed identity.

This is on every scan's path, so it stays lean: one keep-alive pool per process, settings read
once, no extra round trip to check a token (the session lookup already happened), bytes passed
through untouched.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, request

from common import auth
from common.errors import NotFoundError
from common.http import Upstream
from common.observability import REQUEST_ID_HEADER

bp = Blueprint("proxy", __name__)
PATH_SAFE = "/:@!$&'()*+,;=-._~"

FORWARDED_REQUEST_HEADERS = ("Content-Type", "Idempotency-Key", "Accept-Language", "Accept")
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Idempotent-Replayed", "Location", "Content-Disposition",
                              "Cache-Control")


def init_app(app) -> None:  # type: ignore[no-untyped-def]
    settings = app.config["SETTINGS"]
    app.extensions["proxy"] = {
        "upstreams": {name: Upstream(url, name=name, pool_size=64, timeout=settings.http_timeout_seconds)
                      for name, url in settings.service_urls.items()},
        "token": settings.internal_token,
        "secret": settings.identity_secret,
        "import_timeout": settings.import_timeout_seconds,
    }
    app.register_blueprint(bp)


@bp.route("/api/<any(stock, scan, print):service>/<path:rest>",
          methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def forward(service: str, rest: str) -> Response:
    """Pass the request to its service and its answer back, byte for byte."""
    cfg = current_app.extensions["proxy"]
    upstream = cfg["upstreams"].get(service)
    # Internal endpoints are for services calling each other, never for a client.
    if upstream is None or rest.startswith("internal/"):
        raise NotFoundError()
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    headers[auth.TOKEN_HEADER] = cfg["token"]
    headers[REQUEST_ID_HEADER] = g.request_id
    identity = getattr(g, "identity", None)
    if identity is not None:
        headers.update(auth.sign(identity, cfg["secret"]))
    # Flask hands `rest` over decoded: a scanned code may hold Chinese, spaces or '%'.
    path = quote(f"/api/{service}/{rest}", safe=PATH_SAFE)
    if request.query_string:
        path += "?" + request.query_string.decode("latin-1")
    # A file of 10,000 orders takes longer than a scan: a short timeout would answer 503 while the
    # service goes on and commits the import.
    timeout = cfg["import_timeout"] if rest.endswith("/import") else None  # None: the upstream's own
    body = request.get_data()
    answer = upstream.send(request.method, path, body=body if body or request.method != "GET" else None,
                           headers=headers, timeout=timeout)
    response = Response(answer.data, status=answer.status)
    for name in FORWARDED_RESPONSE_HEADERS:
        value = answer.headers.get(name)
        if value is not None:
            response.headers[name] = value
    return response
