"""The internal client: identity and request id carried, errors passed on, no unsafe retries."""
import pytest

from common.auth import Identity
from common.errors import ServiceUnavailableError
from common.http import ServiceClient, ServiceError
from common.testing import TEST_SECRETS, free_port

pytestmark = pytest.mark.live
STOCK_MANAGER = Identity(badge="EDB_KG001", name="杨帆", roles=("stock_manager",), device="svc")


def client(url):
    return ServiceClient(url, internal_token=TEST_SECRETS["INTERNAL_TOKEN"],
                         identity_secret=TEST_SECRETS["IDENTITY_SECRET"], timeout=3)


def test_request_as_identity_creates_and_reads(live, clean):
    """A sibling service calls as the operator who caused the call."""
    stock = client(live.url("stock"))
    created = stock.request("POST", "/api/stock/skus", STOCK_MANAGER, json={"sku": "BAG-1", "name": "袋子"},
                            idempotency_key="k-1")
    assert created["sku"] == "BAG-1"
    assert stock.request("GET", "/api/stock/skus/BAG-1", STOCK_MANAGER)["name"] == "袋子"


def test_request_error_keeps_code_and_status(live, clean):
    """The other service's error code and status reach the caller unchanged."""
    with pytest.raises(ServiceError) as exc:
        client(live.url("stock")).request("GET", "/api/stock/skus/NOPE", STOCK_MANAGER)
    assert exc.value.status == 404 and exc.value.code == "unknown_sku"


def test_request_refused_role_is_403(live, clean):
    """The identity's roles are checked by the service called."""
    picker = Identity(badge="EDB_PH001", roles=("picker",))
    with pytest.raises(ServiceError) as exc:
        client(live.url("stock")).request("POST", "/api/stock/skus", picker, json={"sku": "X", "name": "x"})
    assert exc.value.status == 403


def test_request_to_a_dead_service_is_503():
    """Nobody listening: a ServiceUnavailableError the caller can turn into a clear 503."""
    with pytest.raises(ServiceUnavailableError):
        client(f"http://127.0.0.1:{free_port()}").request("GET", "/api/stock/skus/A", STOCK_MANAGER)
