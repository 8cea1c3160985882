"""The handheld UI and the supervisor pages, served by the gateway as static files.

Everything is plain ES modules loaded from this origin (no build step, no CDN); the service worker
is served from the root so that its scope covers the whole app shell.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Response, send_from_directory

STATIC = Path(__file__).parent / "static"

# Browsers compile WebAssembly by streaming only when it is served with its own type.
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/manifest+json", ".webmanifest")

bp = Blueprint("ui", __name__)


def _fresh(response: Response) -> Response:
    """The shell must be revalidated on every load so a new release reaches the handhelds."""
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def handheld() -> Response:
    """The handheld app shell: login, then the scenario screens."""
    return _fresh(send_from_directory(STATIC, "index.html"))


@bp.get("/supervisor")
def supervisor() -> Response:
    """The supervisor's desktop pages: work per person, audit, intercepts, printing, variances, stock."""
    return _fresh(send_from_directory(STATIC, "supervisor.html"))


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker that keeps the app shell available when the Wi-Fi drops."""
    response = _fresh(send_from_directory(STATIC, "sw.js"))
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """Lets the handheld install the app full-screen on its home screen."""
    return _fresh(send_from_directory(STATIC, "manifest.webmanifest"))


@bp.get("/ui/<path:name>")
def asset(name: str) -> Response:
    """Scripts, styles and vendored libraries of the UI (send_from_directory refuses paths outside)."""
    return _fresh(send_from_directory(STATIC, name))
