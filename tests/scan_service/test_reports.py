"""Per-person stats and the end-of-day audit, on the warehouse's clock (Asia/Shanghai)."""
from datetime import date

from sqlalchemy import text

from common.testing import assert_error
from scan_service.domain.journal import day_window
from tests.scan_service.conftest import order, post


def _ship(supervisor, verifier, order_no, waybill, sku="MUG-01", qty=1):
    post(supervisor, "/api/scan/orders", order(order_no, waybill=waybill, lines=[{"sku": sku, "qty": qty}]))
    vid = post(verifier, "/api/scan/verifications", {"waybill": waybill}).get_json()["id"]
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "]E06901234567892"})  # a red row
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": sku, "qty": qty})
    assert post(verifier, f"/api/scan/verifications/{vid}/complete").status_code == 200
    return vid


def _move(engine, order_no, vid, at):
    """Put an order's whole history at one instant (the day boundary is what is under test)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE scan.events SET at = :at WHERE order_no = :o OR verification_id = :v"),
                     {"at": at, "o": order_no, "v": vid})
        conn.execute(text("UPDATE scan.orders SET created_at = :at, verified_at = :at, shipped_at = :at "
                          "WHERE order_no = :o"), {"at": at, "o": order_no})


def test_day_window_is_the_warehouse_midnight():
    """A Shanghai day runs from 16:00 UTC the day before to 16:00 UTC."""
    start, end = day_window(date(2026, 11, 22), "Asia/Shanghai")
    assert start.isoformat() == "2026-11-22T00:00:00+08:00" and (end - start).days == 1


def test_get_stats_operators_split_at_local_midnight(scan, engine):
    """Work at 23:30 and 00:30 Shanghai time counts on two different days, once each."""
    supervisor, verifier = scan(), scan("verifier", badge="EDB_YH001")
    late = _ship(supervisor, verifier, "TB-LATE", "SF1234567890001", qty=2)
    early = _ship(supervisor, verifier, "TB-EARLY", "SF1234567890002", qty=3)
    _move(engine, "TB-LATE", late, "2026-11-22T15:30:00+00:00")   # 23:30 on the 22nd in Shanghai
    _move(engine, "TB-EARLY", early, "2026-11-22T16:30:00+00:00")  # 00:30 on the 23rd in Shanghai
    day1 = supervisor.get("/api/scan/stats/operators?date=2026-11-22").get_json()
    day2 = supervisor.get("/api/scan/stats/operators?date=2026-11-23").get_json()
    row1 = {r["badge"]: r for r in day1["items"]}["EDB_YH001"]
    row2 = {r["badge"]: r for r in day2["items"]}["EDB_YH001"]
    assert (row1["verifications"], row1["items_verified"], row1["wrong_scans"]) == (1, 2, 1)
    assert (row2["verifications"], row2["items_verified"], row2["wrong_scans"]) == (1, 3, 1)
    assert row1["first_scan_at"].startswith("2026-11-22T15:30") and row1["items_per_hour"] > 0
    assert row1["hours"] == [{"hour": 23, "items": 2}] and row2["hours"] == [{"hour": 0, "items": 3}]
    assert day1["next_cursor"] is None
    audit1 = supervisor.get("/api/scan/audit?date=2026-11-22").get_json()
    audit2 = supervisor.get("/api/scan/audit?date=2026-11-23").get_json()
    assert audit1["totals"] == audit2["totals"] == {"imported": 1, "picked": 0, "verified": 1, "shipped": 1}


def test_get_audit_lists_each_exception(scan, engine):
    """Verified-not-shipped, printed-without-waybill and intercepted orders are listed; totals add up."""
    supervisor, verifier = scan(), scan("verifier", badge="EDB_YH001")
    post(supervisor, "/api/scan/orders", order("TB-OPEN", waybill="SF1234567890011"))
    post(verifier, "/api/scan/verifications", {"waybill": "SF1234567890011"})
    post(supervisor, "/api/scan/orders", order("TB-NOWB", waybill=None))
    post(supervisor, "/api/scan/orders", order("TB-STOP", waybill="SF1234567890012"))
    post(supervisor, "/api/scan/orders/TB-STOP/cancel", {"reason": "refund"})
    with engine.begin() as conn:
        conn.execute(text("UPDATE scan.orders SET created_at = '2026-11-22T02:00:00+00:00', "
                          "verified_at = CASE WHEN verified_at IS NULL THEN NULL "
                          "ELSE timestamptz '2026-11-22T03:00:00+00:00' END, "
                          "intercepted_at = CASE WHEN intercepted_at IS NULL THEN NULL "
                          "ELSE timestamptz '2026-11-22T04:00:00+00:00' END"))
    audit = supervisor.get("/api/scan/audit?date=2026-11-22").get_json()
    assert [o["order_no"] for o in audit["verified_not_shipped"]] == ["TB-OPEN"]
    assert [o["order_no"] for o in audit["printed_without_waybill"]] == ["TB-NOWB"]
    assert [o["order_no"] for o in audit["intercepted_open"]] == ["TB-STOP"]
    assert audit["shipped_not_verified"] == [] and audit["picked_not_verified"] == []
    assert audit["totals"]["imported"] == 3
    assert supervisor.get("/api/scan/audit?date=2026-11-21").get_json()["intercepted_open"] == []


def test_get_stats_and_audit_need_a_date_and_a_supervisor(scan):
    """No date or a bad one is 422; a picker gets 403."""
    supervisor = scan()
    assert_error(supervisor.get("/api/scan/stats/operators"), 422, "invalid_input")
    assert_error(supervisor.get("/api/scan/audit?date=2026-13-01"), 422, "invalid_input")
    assert_error(scan("picker").get("/api/scan/audit?date=2026-11-22"), 403, "forbidden")
