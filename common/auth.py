"""Who is calling: the gateway's internal token and its signed identity headers.

The gateway (and a service calling another) adds `X-Internal-Token` and `X-Identity` (base64url
JSON of the operator) signed with HMAC-SHA256 in `X-Identity-Signature`. A service accepts a
request only with both; the signature carries a timestamp so a captured header ages out.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from flask import Flask, current_app, g, request

from common.errors import ForbiddenError, UnauthorizedError

TOKEN_HEADER = "X-Internal-Token"  # noqa: S105 - a header name, not a secret
IDENTITY_HEADER = "X-Identity"
SIGNATURE_HEADER = "X-Identity-Signature"
MAX_SKEW_SECONDS = 300
PUBLIC_PATHS = frozenset({"/healthz", "/metrics", "/openapi.json"})

ROLES = ("picker", "verifier", "receiver", "labeler", "counter", "stock_manager", "supervisor", "admin")


@dataclass(frozen=True)
class Identity:
    badge: str
    name: str = ""
    roles: tuple[str, ...] = field(default_factory=tuple)
    lang: str = "zh-CN"
    device: str = ""

    def has_any(self, roles: Iterable[str]) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)

    def as_dict(self) -> dict[str, Any]:
        return {"badge": self.badge, "name": self.name, "roles": list(self.roles),
                "lang": self.lang, "device": self.device}


def sign(identity: Identity, secret: str, now: float | None = None) -> dict[str, str]:
    """The headers that carry an identity from one service to another."""
    payload = identity.as_dict() | {"t": int(now if now is not None else time.time())}
    encoded = base64.urlsafe_b64encode(orjson.dumps(payload)).decode()
    return {IDENTITY_HEADER: encoded, SIGNATURE_HEADER: _mac(secret, encoded)}


def verify(encoded: str, signature: str, secret: str, now: float | None = None) -> Identity:
    """Check the signature and age of an identity header; raise UnauthorizedError otherwise."""
    if not hmac.compare_digest(_mac(secret, encoded), signature):
        raise UnauthorizedError(code="bad_signature")
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(encoded.encode()))
        issued = int(payload["t"])
        identity = Identity(badge=str(payload["badge"]), name=str(payload.get("name", "")),
                            roles=tuple(payload.get("roles", ())), lang=str(payload.get("lang", "zh-CN")),
                            device=str(payload.get("device", "")))
    except (ValueError, KeyError, TypeError) as exc:
        raise UnauthorizedError(code="bad_identity") from exc
    current = now if now is not None else time.time()
    if abs(current - issued) > MAX_SKEW_SECONDS:
        raise UnauthorizedError(code="identity_expired")
    return identity


def _mac(secret: str, encoded: str) -> str:
    return hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).hexdigest()


def current() -> Identity:
    """The operator of this request (set by the service's before_request)."""
    identity = getattr(g, "identity", None)
    if identity is None:
        raise UnauthorizedError()
    return identity


def check_roles(roles: Iterable[str]) -> None:
    """Refuse the call with 403 unless the operator holds one of `roles` (admin holds all)."""
    roles = tuple(roles)
    if roles and not current().has_any(roles):
        raise ForbiddenError(details={"required_roles": list(roles)})


def init_service(app: Flask) -> None:
    """Make a service refuse any call that did not come through the gateway (or a sibling)."""

    @app.before_request
    def _authenticate() -> None:
        if request.path in PUBLIC_PATHS or request.path.endswith("/openapi.json"):
            return
        settings = current_app.config["SETTINGS"]
        token = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), settings.internal_token.encode()):
            raise UnauthorizedError(code="unauthorized", details={"reason": "internal token missing or wrong"})
        encoded = request.headers.get(IDENTITY_HEADER)
        signature = request.headers.get(SIGNATURE_HEADER)
        if not encoded or not signature:
            raise UnauthorizedError(details={"reason": "identity missing"})
        g.identity = verify(encoded, signature, settings.identity_secret)
