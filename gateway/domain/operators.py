"""Operators: created by an admin, authenticated by badge and PIN (argon2 hashes)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import any_, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.auth import ROLES
from common.errors import ConflictError, NotFoundError, UnauthorizedError
from gateway.models import Operator

# argon2id at OWASP's recommended minimum (Password Storage Cheat Sheet: 19 MiB, 2 passes, 1 lane).
# The library's defaults (64 MiB, 3 passes, 4 lanes) cost 127 ms of CPU per login here, 17 ms with
# these: at a shift start hundreds of handhelds log in on the cores that serve the first scans. A
# PIN of a few digits is kept by the login throttle, not by the hash's cost. A hash made with other
# parameters is re-hashed with these at the operator's next login (`authenticate`).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verifying against this keeps an unknown badge as slow as a wrong PIN, so timing tells nothing.
_DUMMY_HASH = _hasher.hash("0000-not-a-pin")


def hash_pin(pin: str) -> str:
    return _hasher.hash(pin)


def create(s: Session, *, badge: str, name: str, roles: list[str], pin: str, lang: str = "zh-CN") -> Operator:
    """Add an operator; a badge already in use is a 409."""
    result = s.execute(
        insert(Operator).values(badge=badge, name=name, roles=sorted(set(roles)), pin_hash=hash_pin(pin),
                                lang=lang, active=True)
        .on_conflict_do_nothing(index_elements=["badge"]).returning(Operator.badge)
    )
    if result.scalar() is None:
        raise ConflictError(code="operator_exists", details={"badge": badge})
    return get(s, badge)


def get(s: Session, badge: str) -> Operator:
    operator = s.get(Operator, badge)
    if operator is None:
        raise NotFoundError(code="unknown_operator", details={"badge": badge})
    return operator


def listing(s: Session) -> list[Operator]:
    return list(s.scalars(select(Operator).order_by(Operator.badge)))


def authenticate(s: Session, badge: str, pin: str) -> Operator:
    """The active operator with this badge and PIN, else UnauthorizedError(bad_credentials)."""
    operator = s.get(Operator, badge)
    stored = operator.pin_hash if operator is not None and operator.active else _DUMMY_HASH
    try:
        _hasher.verify(stored, pin)
    except (VerificationError, InvalidHashError):
        raise UnauthorizedError(code="bad_credentials") from None
    if operator is None or not operator.active:
        raise UnauthorizedError(code="bad_credentials")
    if _hasher.check_needs_rehash(operator.pin_hash):
        operator.pin_hash = hash_pin(pin)
    return operator


def update(s: Session, badge: str, *, lang: str | None = None, name: str | None = None,
           roles: list[str] | None = None, pin: str | None = None, active: bool | None = None) -> Operator:
    operator = get(s, badge)
    if lang is not None:
        operator.lang = lang
    if name is not None:
        operator.name = name
    if roles is not None:
        operator.roles = sorted(set(roles))
    if pin is not None:
        operator.pin_hash = hash_pin(pin)
    if active is not None:
        operator.active = active
    return operator


def ensure_bootstrap_admin(s: Session, badge: str | None, pin: str | None) -> bool:
    """Create the first admin from the environment when no admin exists; True if created."""
    if not badge or not pin:
        return False
    has_admin = s.scalar(select(Operator.badge).where(literal("admin") == any_(Operator.roles)).limit(1))
    if has_admin:
        return False
    created = s.execute(insert(Operator).values(badge=badge, name="Administrator", roles=list(ROLES), lang="zh-CN",
                                                pin_hash=hash_pin(pin), active=True)
                        .on_conflict_do_nothing(index_elements=["badge"]).returning(Operator.badge))
    return created.scalar() is not None
