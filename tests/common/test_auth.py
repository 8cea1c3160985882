"""Signed identity headers: what a service trusts about the caller."""
import pytest

from common import auth
from common.errors import UnauthorizedError

OPERATOR = auth.Identity(badge="EDB_PH001", name="张伟", roles=("picker",), lang="zh-CN", device="HH-07")


def test_verify_round_trips_a_signed_identity():
    """What the gateway signs, a service reads back unchanged, Chinese name included."""
    headers = auth.sign(OPERATOR, "secret", now=1000)
    assert auth.verify(headers[auth.IDENTITY_HEADER], headers[auth.SIGNATURE_HEADER], "secret", now=1010) == OPERATOR


def test_verify_refuses_another_secret():
    """A signature made with another key is refused."""
    headers = auth.sign(OPERATOR, "other", now=1000)
    with pytest.raises(UnauthorizedError):
        auth.verify(headers[auth.IDENTITY_HEADER], headers[auth.SIGNATURE_HEADER], "secret", now=1000)


def test_verify_refuses_a_tampered_identity():
    """Changing the roles after signing breaks the signature."""
    headers = auth.sign(OPERATOR, "secret", now=1000)
    forged = auth.sign(auth.Identity(badge="EDB_PH001", roles=("admin",)), "x", now=1000)[auth.IDENTITY_HEADER]
    with pytest.raises(UnauthorizedError):
        auth.verify(forged, headers[auth.SIGNATURE_HEADER], "secret", now=1000)


def test_verify_refuses_an_old_identity():
    """A captured header stops working after the allowed skew."""
    headers = auth.sign(OPERATOR, "secret", now=1000)
    with pytest.raises(UnauthorizedError):
        auth.verify(headers[auth.IDENTITY_HEADER], headers[auth.SIGNATURE_HEADER], "secret",
                    now=1000 + auth.MAX_SKEW_SECONDS + 1)


def test_has_any_admin_holds_every_role():
    """Admin passes every role check; others only their own."""
    assert auth.Identity(badge="a", roles=("admin",)).has_any(["verifier"])
    assert not OPERATOR.has_any(["verifier", "stock_manager"])
    assert OPERATOR.has_any(["picker"])
