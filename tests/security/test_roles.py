"""Who may call what: every path with every role through the live gateway, 403 exactly where the design says."""
from __future__ import annotations

import pytest
import requests

from common.auth import ROLES
from common.testing import assert_error
from tests.stock_service.conftest import Caller, ean13, ok, setup_floor, stock_up

pytestmark = pytest.mark.live

EVERYONE = frozenset(ROLES)
# A counter counts blind: whatever shows what a bin holds is closed to them.
SEES_STOCK = EVERYONE - {"counter"}
STOCK_MANAGER = frozenset({"stock_manager"})
RECEIVING = frozenset({"stock_manager", "receiver"})
COUNTING = frozenset({"stock_manager", "supervisor", "counter"})
DECIDING = frozenset({"stock_manager", "supervisor"})
SUPERVISOR = frozenset({"supervisor"})
ORDER_READERS = frozenset({"supervisor", "verifier", "picker"})
PICKING = frozenset({"picker", "supervisor"})
VERIFYING = frozenset({"verifier", "supervisor"})
PRINTING = frozenset({"labeler", "receiver", "stock_manager", "supervisor"})
ADMIN = frozenset({"admin"})

# (method, path) → the roles allowed (admin holds every role). The design's role table:
# stock changes are the stock manager's (receivers receive and put away), variances are decided by a
# stock manager or supervisor, counters count and see nothing of what a bin holds, orders and
# parcels belong to pickers, verifiers and supervisors, printing to whoever labels goods,
# operators to the admin.
MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/auth/me"): EVERYONE,
    ("PATCH", "/api/auth/me"): EVERYONE,
    ("POST", "/api/auth/operators"): ADMIN,
    ("GET", "/api/auth/operators"): ADMIN | SUPERVISOR,
    ("PATCH", "/api/auth/operators/{badge}"): ADMIN,
    ("POST", "/api/stock/skus"): RECEIVING,
    ("POST", "/api/stock/skus/import"): STOCK_MANAGER,
    ("GET", "/api/stock/items/lookup"): EVERYONE,
    ("GET", "/api/stock/skus/{sku}"): EVERYONE,
    ("POST", "/api/stock/skus/{sku}/disable"): STOCK_MANAGER,
    ("POST", "/api/stock/locations"): STOCK_MANAGER,
    ("GET", "/api/stock/locations"): EVERYONE,
    ("GET", "/api/stock/balances"): SEES_STOCK,
    ("GET", "/api/stock/skus/{sku}/availability"): SEES_STOCK,
    ("GET", "/api/stock/movements"): SEES_STOCK,
    ("POST", "/api/stock/moves"): STOCK_MANAGER,
    ("POST", "/api/stock/receipts"): RECEIVING,
    ("GET", "/api/stock/receipts/{receipt_id}"): EVERYONE,
    ("POST", "/api/stock/receipts/{receipt_id}/receive"): RECEIVING,
    ("POST", "/api/stock/receipts/{receipt_id}/close"): STOCK_MANAGER,
    ("GET", "/api/stock/putaway/suggest"): EVERYONE,
    ("POST", "/api/stock/putaway"): RECEIVING,
    # A short pick opens a count of its bin, so a picker may open one.
    ("POST", "/api/stock/counts"): COUNTING | {"picker"},
    ("GET", "/api/stock/counts"): EVERYONE,
    ("GET", "/api/stock/counts/{count_id}"): EVERYONE,
    ("POST", "/api/stock/counts/{count_id}/entries"): COUNTING,
    ("POST", "/api/stock/counts/{count_id}/submit"): COUNTING,
    ("GET", "/api/stock/counts/{count_id}/variances"): DECIDING,
    ("POST", "/api/stock/counts/{count_id}/lines/{line_id}/approve"): DECIDING,
    ("POST", "/api/stock/counts/{count_id}/lines/{line_id}/reject"): DECIDING,
    ("GET", "/api/stock/reports/negative"): SEES_STOCK,
    ("GET", "/api/stock/reports/low"): SEES_STOCK,
    ("GET", "/api/stock/reports/retire"): SEES_STOCK,
    ("POST", "/api/scan/orders"): SUPERVISOR,
    ("POST", "/api/scan/orders/import"): SUPERVISOR,
    ("GET", "/api/scan/orders/{order_no}"): ORDER_READERS,
    ("GET", "/api/scan/orders"): ORDER_READERS,
    ("POST", "/api/scan/orders/{order_no}/notes"): SUPERVISOR | {"verifier"},
    ("GET", "/api/scan/orders/{order_no}/notes"): ORDER_READERS,
    ("POST", "/api/scan/orders/{order_no}/cancel"): SUPERVISOR,
    ("GET", "/api/scan/orders/{order_no}/notes/{note_id}"): ORDER_READERS,
    ("POST", "/api/scan/picks"): PICKING,
    ("GET", "/api/scan/picks/{pick_id}"): PICKING,
    ("POST", "/api/scan/picks/{pick_id}/scan"): PICKING,
    ("POST", "/api/scan/picks/{pick_id}/short"): PICKING,
    ("POST", "/api/scan/picks/{pick_id}/complete"): PICKING,
    ("POST", "/api/scan/verifications"): VERIFYING,
    ("GET", "/api/scan/verifications/{verification_id}"): VERIFYING,
    ("POST", "/api/scan/verifications/{verification_id}/scan"): VERIFYING,
    ("POST", "/api/scan/verifications/{verification_id}/complete"): VERIFYING,
    ("POST", "/api/scan/verifications/{verification_id}/short"): VERIFYING,
    # Returns arriving back: the supervisor handles them, the receiver takes the goods in.
    ("POST", "/api/scan/returns"): SUPERVISOR | {"receiver"},
    ("GET", "/api/scan/stats/operators"): SUPERVISOR,
    ("GET", "/api/scan/audit"): SUPERVISOR,
    ("GET", "/api/scan/shipments"): SUPERVISOR,
    ("POST", "/api/scan/shipments/redrive"): SUPERVISOR,
    ("GET", "/api/scan/codes/recognize"): EVERYONE,
    ("POST", "/api/print/printers"): SUPERVISOR,
    ("GET", "/api/print/printers"): PRINTING,
    ("GET", "/api/print/printers/{name}"): PRINTING,
    ("GET", "/api/print/printers/{name}/status"): PRINTING,
    ("POST", "/api/print/printers/{name}/pause"): SUPERVISOR,
    ("POST", "/api/print/printers/{name}/resume"): SUPERVISOR,
    ("POST", "/api/print/printers/{name}/move"): SUPERVISOR,
    ("POST", "/api/print/jobs"): PRINTING,
    ("POST", "/api/print/batches"): PRINTING,
    ("GET", "/api/print/jobs"): PRINTING,
    ("GET", "/api/print/jobs/{job_id}"): PRINTING,
    ("POST", "/api/print/jobs/{job_id}/cancel"): PRINTING,
    ("POST", "/api/print/jobs/{job_id}/reprint"): PRINTING,
    ("GET", "/api/print/jobs/{job_id}/zpl"): PRINTING,
    ("GET", "/api/print/jobs/{job_id}/preview.png"): PRINTING,
    ("POST", "/api/print/preview"): PRINTING,
}
# Paths every caller may use and that change the caller's own session: tested in tests/gateway.
SESSION_PATHS = {("POST", "/api/auth/login"), ("POST", "/api/auth/logout")}
# Ids that exist nowhere: an allowed caller gets a 404 or 422, a refused one the 403 first.
PATH_VALUES = {"badge": "EDB_NOBODY", "sku": "NO-SUCH-SKU", "receipt_id": "999999", "count_id": "999999",
               "line_id": "999999", "order_no": "TB-NONE", "note_id": "999999", "pick_id": "999999",
               "verification_id": "999999", "name": "no-such-printer", "job_id": "999999"}
RAW_BODIES = {"/api/stock/skus/import": "text/csv", "/api/scan/orders/import": "text/csv"}


def _url(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    return path


def _call(session: requests.Session, base: str, method: str, path: str) -> requests.Response:
    if path in RAW_BODIES:
        return session.request(method, base + _url(path), data=b"", headers={"Content-Type": RAW_BODIES[path]},
                               timeout=15)
    body = {} if method in ("POST", "PATCH") else None
    return session.request(method, base + _url(path), json=body, timeout=15)


def test_role_matrix_covers_every_client_path(live):
    """Every operation the gateway documents for clients has an expected row in the matrix."""
    doc = requests.get(live.url() + "/api/openapi.json", timeout=10).json()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if "/internal/" not in p}
    assert documented - SESSION_PATHS == set(MATRIX)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_every_path_403_exactly_where_designed(floor, role):
    """Each role is refused (403 forbidden) exactly on the paths it may not use, and let through elsewhere."""
    session = floor.login(role)
    wrong = []
    for (method, path), allowed in sorted(MATRIX.items()):
        answer = _call(session, floor.base, method, path)
        may = role == "admin" or role in allowed
        refused = answer.status_code == 403
        if may == refused or answer.status_code in (401,) or answer.status_code >= 500:
            wrong.append((method, path, answer.status_code, answer.text[:120]))
        elif refused:
            assert_error(answer, 403, "forbidden")
    assert wrong == []


@pytest.fixture
def stockroom(floor):
    """A stock manager, a bin with 10 units of S-1 and a submitted count of it with a variance."""
    manager = Caller(floor.login("stock_manager", badge="EDB_SM700"), floor.base)
    setup_floor(manager)
    stock_up(manager, "S-1", 10, "A-01-01-01")
    count = ok(manager.post("/counts", {"locations": ["A-01-01-01"]}))
    counter = Caller(floor.login("counter", badge="EDB_CT701"), floor.base)
    ok(counter.post(f"/counts/{count['id']}/entries", {"location": "A-01-01-01", "code": ean13(1), "qty": 9}))
    ok(counter.post(f"/counts/{count['id']}/submit", {}), 200)
    line = ok(manager.get(f"/counts/{count['id']}/variances"), 200)["items"][0]
    return {"manager": manager, "counter": counter, "count": count, "line": line, "floor": floor}


def _balances(manager: Caller) -> list:
    return ok(manager.get("/balances?sku=S-1"), 200)["items"]


def test_approve_variance_picker_refused_and_nothing_moves(stockroom):
    """A picker (and a counter, and a verifier) cannot approve a real variance; the line stays pending."""
    count, line, manager = stockroom["count"], stockroom["line"], stockroom["manager"]
    before = _balances(manager)
    for role in ("picker", "counter", "verifier"):
        caller = Caller(stockroom["floor"].login(role), stockroom["floor"].base)
        answer = caller.post(f"/counts/{count['id']}/lines/{line['line_id']}/approve", {"reason": "lost"})
        assert_error(answer, 403, "forbidden")
    assert _balances(manager) == before
    pending = ok(manager.get(f"/counts/{count['id']}/variances"), 200)["items"][0]
    assert pending["state"] == "pending" and pending["line_id"] == line["line_id"]


def test_moves_verifier_cannot_edit_stock(stockroom):
    """A verifier's valid move, putaway, location and count adjustment are refused; balances unchanged."""
    manager, floor = stockroom["manager"], stockroom["floor"]
    verifier = Caller(floor.login("verifier"), floor.base)
    before = _balances(manager)
    attempts = [("/moves", {"sku": "S-1", "qty": 1, "from": "A-01-01-01", "to": "A-01-01-02", "reason": "slot"}),
                ("/putaway", {"code": ean13(1), "qty": 1, "to": "A-01-01-02"}),
                ("/locations", {"code": "A-09-09-09", "kind": "bin", "zone": "A", "sequence": 990}),
                ("/receipts", {"ref": "PO-VERIFIER", "lines": [{"sku": "S-1", "qty": 1}]})]
    for path, body in attempts:
        assert_error(verifier.post(path, body), 403, "forbidden")
    assert _balances(manager) == before
    assert ok(manager.post("/moves", attempts[0][1])) and _balances(manager) != before


def test_counts_counter_never_sees_expected_quantities(stockroom):
    """A counter gets no expected quantity anywhere: count, variances, balances, lookup, reports, ledger."""
    counter, count = stockroom["counter"], stockroom["count"]
    shown = ok(counter.get(f"/counts/{count['id']}"), 200)
    assert "expected" not in str(shown) and "variance" not in str(shown)
    for path in (f"/counts/{count['id']}/variances", "/balances?location=A-01-01-01", "/movements?sku=S-1",
                 "/skus/S-1/availability", "/reports/low?threshold=50", "/reports/negative"):
        assert_error(counter.get(path), 403, "forbidden")
    looked = ok(counter.get(f"/items/lookup?code={ean13(1)}"), 200)
    assert looked["sku"] == "S-1" and "on_hand" not in looked and "bins" not in looked
    full = ok(stockroom["manager"].get(f"/items/lookup?code={ean13(1)}"), 200)
    assert full["on_hand"] == 10 and full["bins"] == [{"location": "A-01-01-01", "qty": 10}]


def test_operators_only_admin_manages(floor, engine):
    """Only an admin adds or changes operators; a supervisor or stock manager is refused and nothing is stored."""
    new = {"badge": "EDB_NEW01", "name": "王芳", "roles": ["admin"], "pin": "2468"}
    for role in ("supervisor", "stock_manager", "picker"):
        session = floor.login(role)
        assert_error(session.post(floor.url("/api/auth/operators"), json=new, timeout=10), 403, "forbidden")
        assert_error(session.patch(floor.url(f"/api/auth/operators/{session.badge}"), json={"roles": ["admin"]},
                                   timeout=10), 403, "forbidden")
        assert session.get(floor.url("/api/auth/me"), timeout=10).json()["roles"] == [role]
    admin = floor.login("admin")
    assert admin.post(floor.url("/api/auth/operators"), json=new, timeout=10).status_code == 201
