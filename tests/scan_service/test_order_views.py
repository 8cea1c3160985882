"""The order page and list, read as plain rows, answer what the ORM-made answers (the import's) say."""
from datetime import date, timedelta

from tests.scan_service.conftest import order, post


def test_list_and_page_answer_the_order_as_its_import_does(scan):
    supervisor = scan()
    imported = post(supervisor, "/api/scan/orders", order(buyer_note="轻放", seller_note="送贴纸")).get_json()
    listed = supervisor.get("/api/scan/orders?waybill=SF1234567890123").get_json()["items"]
    assert listed == [imported]
    page = supervisor.get("/api/scan/orders/TB20261122001").get_json()
    assert {k: v for k, v in page.items() if k != "events"} == imported
    assert [n["kind"] for n in page["notes"]] == ["buyer", "seller"]
    assert [(line["sku"], line["qty"], line["returned"]) for line in page["lines"]] == [
        ("TS-001-RED-M", 2, 0), ("MUG-01", 1, 0)]


def test_list_by_text_strips_wildcards_and_matches_order_waybill_or_shop(scan):
    supervisor = scan()
    post(supervisor, "/api/scan/orders", order("TB100", waybill="SF1000000000001", shop="天猫旗舰店"))
    post(supervisor, "/api/scan/orders", order("JD200", waybill="YT2000000000002", shop="京东自营"))

    def found(q: str) -> list[str]:
        return [o["order_no"] for o in supervisor.get("/api/scan/orders", query_string={"q": q}).get_json()["items"]]

    assert found("tb1") == ["TB100"]
    assert found("yt2000") == ["JD200"]
    assert found("京东") == ["JD200"]
    assert found("%") == ["JD200", "TB100"]  # a typed wildcard is dropped, not obeyed
    assert found("T_1") == []


def test_list_by_import_day_on_the_warehouse_clock(scan):
    supervisor = scan()
    post(supervisor, "/api/scan/orders", order())
    today = date.today()
    on_day = {str(d): [o["order_no"] for o in supervisor.get(f"/api/scan/orders?date={d}").get_json()["items"]]
              for d in (today - timedelta(days=1), today, today + timedelta(days=1))}
    # The import happened today in UTC; on the warehouse's clock it is today or, near midnight, a day off.
    assert sorted(no for found in on_day.values() for no in found) == ["TB20261122001"]


def test_unknown_order_page_is_404(scan):
    answer = scan().get("/api/scan/orders/NOPE")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "unknown_order"
    assert answer.get_json()["error"]["details"] == {"order_no": "NOPE"}
