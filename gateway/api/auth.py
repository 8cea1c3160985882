"""Log in by badge and PIN, log out, who am I, and the operators an admin manages.

Screens: login → (menu of the operator's roles); a 429 keeps the login screen locked.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, request

from common import redis
from common.auth import Identity, current
from common.db import transaction
from common.endpoint import Api, Page
from common.errors import UnauthorizedError
from gateway import session_auth
from gateway.domain import operators, sessions
from gateway.schemas import LoginIn, LoginOut, MePatch, OperatorIn, OperatorOut, OperatorPatch

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
api = Api(bp, "auth")


def _identity(op: operators.Operator, device: str) -> Identity:
    return Identity(badge=op.badge, name=op.name, roles=tuple(op.roles), lang=op.lang, device=device)


@api.route("POST", "/login", body=LoginIn, response=LoginOut, idempotent=False, errors=(401, 429))
def login(body: dict) -> dict:
    """Exchange a badge and PIN for a session token. Leads to: the operator's menu."""
    settings = current_app.config["SETTINGS"]
    r = redis.client()
    device = body["device"] or request.headers.get("X-Device", "")
    sessions.check_throttle(r, body["badge"], device, max_badge=settings.login_max_failures,
                            max_device=settings.device_max_failures)
    try:
        with transaction() as s:
            op = operators.authenticate(s, body["badge"], body["pin"])
    except UnauthorizedError:
        sessions.record_failure(r, body["badge"], device, settings.login_window_seconds)
        raise
    sessions.clear_failures(r, body["badge"])
    identity = _identity(op, device)
    token = sessions.open_session(r, identity, settings.session_ttl_seconds)
    session_auth.remember(r, token, identity)
    return {"token": token, "operator": op, "expires_in": settings.session_ttl_seconds}


@api.route("POST", "/logout", idempotent=False)
def logout() -> dict:
    """End this session; the token stops working at once. Leads to: login."""
    session_auth.forget(sessions.close_session(redis.client(), g.token, current().badge))
    return {"status": "logged_out"}


@api.route("GET", "/me", response=OperatorOut)
def me() -> Identity:
    """The operator behind the token."""
    return current()


@api.route("PATCH", "/me", body=MePatch, response=OperatorOut)
def set_language(body: dict) -> operators.Operator:
    """Switch the operator's language; it is stored and follows them to any handheld."""
    with transaction() as s:
        op = operators.update(s, current().badge, lang=body["lang"])
    session_auth.forget(sessions.refresh_identity(redis.client(), _identity(op, current().device)))
    return op


@api.route("POST", "/operators", body=OperatorIn, response=OperatorOut, status=201, roles=("admin",))
def create_operator(body: dict) -> operators.Operator:
    """Add a person to the floor with their badge, roles, PIN and language."""
    with transaction() as s:
        return operators.create(s, **body)


@api.route("GET", "/operators", response=OperatorOut, page=True, roles=("admin", "supervisor"))
def list_operators():
    """Everyone who can log in (and who no longer can)."""
    with transaction() as s:
        return Page(operators.listing(s))


@api.route("PATCH", "/operators/<badge>", body=OperatorPatch, response=OperatorOut, roles=("admin",))
def update_operator(badge: str, body: dict) -> operators.Operator:
    """Change roles, PIN, language or deactivate; their open sessions end."""
    with transaction() as s:
        op = operators.update(s, badge, **body)
    session_auth.forget(sessions.close_all(redis.client(), badge))
    return op
