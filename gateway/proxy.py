"""Forward /api/<service>/... to the service, with the internal token and the signed identity.

This is on every scan's path, so it stays lean: one keep-alive pool per process, settings read
once, no extra round trip to check a token (the session lookup already happened), bytes passed
through untouched.
"""
from __future__ import annotations

import requests
from flask import Blueprint, Response, current_app, g, request

from common import auth
from common.errors import NotFoundError, ServiceUnavailableError
from common.http import pooled_session
from common.observability import REQUEST_ID_HEADER

bp = Blueprint("proxy", __name__)

FORWARDED_REQUEST_HEADERS = ("Content-Type", "Idempotency-Key", "Accept-Language", "Accept")
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Idempotent-Replayed", "Location", "Content-Disposition",
                              "Cache-Control")


def init_app(app) -> None:  # type: ignore[no-untyped-def]
    settings = app.config["SETTINGS"]
    app.extensions["proxy"] = {
        "session": pooled_session(pool_size=64),
        "urls": dict(settings.service_urls),
        "token": settings.internal_token,
        "secret": settings.identity_secret,
        "timeout": settings.http_timeout_seconds,
        "import_timeout": settings.import_timeout_seconds,
    }
    app.register_blueprint(bp)


@bp.route("/api/<any(stock, scan, print):service>/<path:rest>",
          methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def forward(service: str, rest: str) -> Response:
    """Pass the request to its service and its answer back, byte for byte."""
    cfg = current_app.extensions["proxy"]
    base = cfg["urls"].get(service)
    # Internal endpoints are for services calling each other, never for a client.
    if base is None or rest.startswith("internal/"):
        raise NotFoundError()
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    headers[auth.TOKEN_HEADER] = cfg["token"]
    headers[REQUEST_ID_HEADER] = g.request_id
    identity = getattr(g, "identity", None)
    if identity is not None:
        headers.update(auth.sign(identity, cfg["secret"]))
    url = f"{base}/api/{service}/{rest}"
    # A file of 10,000 orders takes longer than a scan: a short timeout would answer 503 while the
    # service goes on and commits the import.
    timeout = cfg["import_timeout"] if rest.endswith("/import") else cfg["timeout"]
    try:
        upstream = cfg["session"].request(request.method, url, params=request.query_string or None,
                                          data=request.get_data(), headers=headers,
                                          timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise ServiceUnavailableError(details={"service": service, "reason": type(exc).__name__}) from exc
    response = Response(upstream.content, status=upstream.status_code)
    for name in FORWARDED_RESPONSE_HEADERS:
        if name in upstream.headers:
            response.headers[name] = upstream.headers[name]
    return response
