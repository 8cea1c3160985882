"""Picking's refusals, answered before any stock moves (stock_service away for these)."""
from common.testing import assert_error
from tests.scan_service.conftest import count, order, post


def test_post_picks_refusals_change_nothing(scan, engine):
    """Bad basket 422, unknown order 404, intercepted 409, nothing waiting 409, wrong role 403."""
    supervisor, picker = scan(), scan("picker", badge="EDB_PH001")
    assert_error(post(picker, "/api/scan/picks", {"basket": "A-01-02-03"}), 422, "invalid_input")
    assert_error(post(picker, "/api/scan/picks", {"basket": "BK-017"}), 409, "no_waiting_orders")
    assert_error(post(picker, "/api/scan/picks", {"basket": "BK-017", "orders": ["NOPE"]}), 404, "unknown_order")
    post(supervisor, "/api/scan/orders", order())
    post(supervisor, "/api/scan/orders/TB20261122001/cancel", {"reason": "refund"})
    assert_error(post(picker, "/api/scan/picks", {"basket": "BK-017", "orders": ["SF1234567890123"]}), 409,
                 "order_intercepted")
    assert_error(post(scan("verifier"), "/api/scan/picks", {"basket": "BK-017"}), 403, "forbidden")
    assert_error(post(picker, "/api/scan/picks", {"basket": "BK-017", "picker": "BK-001"}), 422,
                 "invalid_picker_badge")
    assert_error(post(picker, "/api/scan/picks", {"basket": "BK-017", "extra": 1}), 422, "invalid_input")
    assert count(engine, "SELECT count(*) FROM scan.picks") == 0


def test_post_picks_stock_unavailable_is_503_and_order_waits(scan, engine):
    """With stock_service away a pick cannot allocate: 503, the order stays printed."""
    post(scan(), "/api/scan/orders", order())
    assert_error(post(scan("picker"), "/api/scan/picks", {"basket": "BK-017"}), 503, "service_unavailable")
    assert count(engine, "SELECT count(*) FROM scan.orders WHERE state = 'printed'") == 1
    assert count(engine, "SELECT count(*) FROM scan.picks") == 0


def test_post_pick_steps_unknown_pick_is_404(scan):
    """Scan, short and complete on a pick that does not exist answer 404 unknown_pick."""
    picker = scan("picker")
    assert_error(post(picker, "/api/scan/picks/999/scan", {"code": "A-01-01-01"}), 404, "unknown_pick")
    assert_error(post(picker, "/api/scan/picks/999/short", {"location": "A-01-01-01", "sku": "X", "qty": 1}), 404,
                 "unknown_pick")
    assert_error(post(picker, "/api/scan/picks/999/complete"), 404, "unknown_pick")
    assert_error(post(picker, "/api/scan/picks/999/scan", {"code": ""}), 422, "invalid_input")


def test_post_returns_refusals(scan):
    """Returns of an order not shipped 409, unknown waybill 404, both references 422."""
    supervisor = scan()
    post(supervisor, "/api/scan/orders", order())
    line = [{"sku": "MUG-01", "qty": 1}]
    assert_error(post(supervisor, "/api/scan/returns", {"order_no": "TB20261122001", "lines": line,
                                                         "condition": "ok"}), 409, "order_not_shipped")
    assert_error(post(supervisor, "/api/scan/returns", {"waybill": "SF0000000000000", "lines": line,
                                                         "condition": "ok"}), 404, "unknown_waybill")
    assert_error(post(supervisor, "/api/scan/returns", {"waybill": "SF1234567890123", "order_no": "TB20261122001",
                                                         "lines": line, "condition": "ok"}), 422, "invalid_input")
    assert_error(post(supervisor, "/api/scan/returns", {"order_no": "TB20261122001", "lines": line,
                                                         "condition": "wet"}), 422, "invalid_input")
