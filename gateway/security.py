"""Security headers on every gateway response.

The UI loads nothing from elsewhere and runs no inline script, so the policy can be strict; product
pictures may live on the shop's image host, hence images from https. The camera fallback needs
`wasm-unsafe-eval` for the ZXing WebAssembly module and camera access for this origin.
"""
from __future__ import annotations

from collections.abc import MutableMapping

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob: https:",
    "connect-src 'self'",
    "worker-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
])

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


def init_app(app: Flask) -> None:
    @app.after_request
    def _secure(response: Response) -> Response:
        secure(response.headers, request.path)
        return response


def secure(headers: MutableMapping[str, str], path: str) -> None:
    """Add the headers a response to `path` must carry, keeping any the response set itself."""
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if path.startswith("/api/"):
        # Answers carry stock and people's work: no shared cache may keep them.
        headers.setdefault("Cache-Control", "no-store")
