"""Orders: idempotent import, updates before picking, notes append-only, intercepts, listing."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from common.testing import assert_error
from tests.scan_service.conftest import count, order, post


def test_post_orders_new_then_same_is_200(scan, engine):
    """The same order twice: 201 then 200, one order, one set of lines."""
    supervisor = scan()
    first = post(supervisor, "/api/scan/orders", order(buyer_note="请用纸箱包装"))
    assert first.status_code == 201, first.get_json()
    again = post(supervisor, "/api/scan/orders", order(buyer_note="请用纸箱包装"))
    assert again.status_code == 200
    assert again.get_json()["state"] == "printed"
    assert count(engine, "SELECT count(*) FROM scan.orders") == 1
    assert count(engine, "SELECT count(*) FROM scan.order_lines") == 2
    assert count(engine, "SELECT count(*) FROM scan.order_notes") == 1


def test_post_orders_changed_before_picking_updates_and_appends_note(scan, engine):
    """A changed order before picking is updated; the changed note is appended, the old one kept."""
    supervisor = scan()
    post(supervisor, "/api/scan/orders", order(buyer_note="红色"))
    changed = post(supervisor, "/api/scan/orders", order(lines=[{"sku": "MUG-01", "qty": 3}], buyer_note="改成蓝色"))
    assert changed.status_code == 200
    body = changed.get_json()
    assert body["lines"] == [{"sku": "MUG-01", "qty": 3, "returned": 0}]
    assert [n["text"] for n in body["notes"]] == ["红色", "改成蓝色"]


def test_post_orders_changed_after_picking_is_order_locked(scan, engine):
    """Once picking started, a different content answers 409 order_locked and changes nothing."""
    supervisor = scan()
    post(supervisor, "/api/scan/orders", order())
    with engine.begin() as conn:
        conn.execute(text("UPDATE scan.orders SET state = 'picking'"))
    details = assert_error(post(supervisor, "/api/scan/orders", order(lines=[{"sku": "MUG-01", "qty": 9}])),
                           409, "order_locked")
    assert details["order_no"] == "TB20261122001"
    assert count(engine, "SELECT qty FROM scan.order_lines WHERE sku = 'MUG-01'") == 1
    assert post(supervisor, "/api/scan/orders", order()).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"lines": [{"sku": "A", "qty": 0}]}, "lines"),
    ({"lines": [{"sku": "A", "qty": 1.5}]}, "lines"),
    ({"lines": []}, "lines"),
    ({"paid": "yes"}, "paid"),
    ({"paid": 1}, "paid"),
    ({"waybill_no": "SF" + "1" * 70}, "waybill_no"),
    ({"lines": [{"sku": "A", "qty": "2"}]}, "lines"),
    ({"colour": "red"}, "colour"),
    ({"order_no": "x" * 65}, "order_no"),
    ({"buyer_note": "bad\x00note"}, "buyer_note"),
])
def test_post_orders_bad_input_is_422_and_changes_nothing(scan, engine, body, field):
    """Bad fields answer 422 naming the field; no order is written."""
    details = assert_error(post(scan(), "/api/scan/orders", order() | body), 422, "invalid_input")
    assert field in details["fields"]
    assert count(engine, "SELECT count(*) FROM scan.orders") == 0


def test_post_orders_wrong_role_is_403(scan, engine):
    """A picker cannot import orders."""
    assert_error(post(scan("picker"), "/api/scan/orders", order()), 403, "forbidden")
    assert count(engine, "SELECT count(*) FROM scan.orders") == 0


def test_post_orders_merge_into_takes_main_waybill(scan):
    """A merged order ships under the main order's waybill."""
    supervisor = scan()
    post(supervisor, "/api/scan/orders", order())
    merged = post(supervisor, "/api/scan/orders", order("TB20261122002", waybill=None, merge_into="TB20261122001"))
    assert merged.status_code == 201
    assert merged.get_json()["waybill_no"] == "SF1234567890123"
    assert_error(post(supervisor, "/api/scan/orders", order("TB3", waybill=None, merge_into="NOPE")), 422,
                 "invalid_input")


def test_order_notes_refuse_update_and_delete_in_the_database(scan, engine):
    """The trigger refuses UPDATE and DELETE on notes even for direct SQL; TRUNCATE still works."""
    post(scan(), "/api/scan/orders", order(buyer_note="不要放发票"))
    for statement in ("UPDATE scan.order_notes SET text = 'x'", "DELETE FROM scan.order_notes"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert count(engine, "SELECT count(*) FROM scan.order_notes WHERE text = '不要放发票'") == 1
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE scan.order_notes"))
    assert count(engine, "SELECT count(*) FROM scan.order_notes") == 0


def test_post_order_notes_appends_and_edit_is_405(scan):
    """A note is appended (201); PUT and DELETE on it answer 405."""
    supervisor = scan()
    post(supervisor, "/api/scan/orders", order())
    note = post(supervisor, "/api/scan/orders/TB20261122001/notes", {"text": "客户要求加急"})
    assert note.status_code == 201
    note_id = note.get_json()["id"]
    for method in ("PUT", "DELETE", "PATCH"):
        answer = supervisor.request(method, f"/api/scan/orders/TB20261122001/notes/{note_id}", json={"text": "x"})
        assert_error(answer, 405, "method_not_allowed")
    assert_error(post(supervisor, "/api/scan/orders/NOPE/notes", {"text": "x"}), 404, "unknown_order")
    assert_error(post(supervisor, "/api/scan/orders/TB20261122001/notes", {"text": ""}), 422, "invalid_input")


def test_get_order_shows_notes_buyer_first_and_timeline(scan):
    """The order page lists the buyer's request first and the import in its timeline."""
    supervisor = scan()
    post(supervisor, "/api/scan/orders", order(seller_note="赠品：贴纸"))
    post(supervisor, "/api/scan/orders/TB20261122001/notes", {"text": "仓库备注"})
    post(supervisor, "/api/scan/orders", order(seller_note="赠品：贴纸", buyer_note="周末送达"))
    body = supervisor.get("/api/scan/orders/TB20261122001").get_json()
    assert [n["kind"] for n in body["notes"]] == ["buyer", "seller", "note"]
    kinds = [e["kind"] for e in body["events"]]
    assert kinds[0] == "imported" and "note" in kinds and "updated" in kinds
    assert body["events"][0]["operator"] == "EDB_ZG001" and body["events"][0]["device"] == "HH-TEST"
    assert_error(supervisor.get("/api/scan/orders/NOPE"), 404, "unknown_order")


def test_post_cancel_intercepts_printed_order(scan):
    """Refund after print: the order becomes intercepted, and the timeline says who stopped it."""
    supervisor = scan()
    post(supervisor, "/api/scan/orders", order())
    answer = post(supervisor, "/api/scan/orders/TB20261122001/cancel", {"reason": "refund"})
    assert answer.status_code == 200
    assert answer.get_json()["state"] == "intercepted"
    events = supervisor.get("/api/scan/orders/TB20261122001").get_json()["events"]
    assert events[-1]["kind"] == "intercepted"
    assert_error(post(supervisor, "/api/scan/orders/TB20261122001/cancel", {"reason": "nope"}), 422, "invalid_input")


def test_get_orders_filters_and_pages(scan):
    """The list filters by waybill and state and pages with a cursor."""
    supervisor = scan()
    for n in range(5):
        post(supervisor, "/api/scan/orders", order(f"TB00{n}", waybill=f"SF12345678901{n}"))
    post(supervisor, "/api/scan/orders/TB001/cancel", {"reason": "changed"})
    page = supervisor.get("/api/scan/orders?limit=2").get_json()
    assert [o["order_no"] for o in page["items"]] == ["TB000", "TB001"]
    rest = supervisor.get(f"/api/scan/orders?limit=10&cursor={page['next_cursor']}").get_json()
    assert [o["order_no"] for o in rest["items"]] == ["TB002", "TB003", "TB004"] and rest["next_cursor"] is None
    intercepted = supervisor.get("/api/scan/orders?state=intercepted").get_json()["items"]
    assert [o["order_no"] for o in intercepted] == ["TB001"]
    by_waybill = supervisor.get("/api/scan/orders?waybill=sf123456789013").get_json()["items"]
    assert [o["order_no"] for o in by_waybill] == ["TB003"]


def test_post_orders_import_csv(scan, engine):
    """CSV rows group into orders; a second identical file changes nothing."""
    csv_text = ("order_no,shop,waybill_no,carrier,paid,buyer_note,seller_note,sku,qty,merge_into\n"
                "TB1,店,SF1234567890123,SF,true,轻放,,TS-001-RED-M,2,\n"
                "TB1,店,SF1234567890123,SF,true,轻放,,MUG-01,1,\n"
                "TB2,店,YT1234567890123,YTO,false,允许未付款发货,,MUG-01,1,\n")
    supervisor = scan()
    first = supervisor.post("/api/scan/orders/import", data=csv_text.encode(), content_type="text/csv",
                            headers={"Idempotency-Key": "csv-1"})
    assert first.get_json() == {"created": 2, "updated": 0, "unchanged": 0, "errors": []}
    again = supervisor.post("/api/scan/orders/import", data=csv_text.encode(), content_type="text/csv")
    assert again.get_json()["unchanged"] == 2
    assert count(engine, "SELECT count(*) FROM scan.order_lines") == 3


@pytest.mark.parametrize("encode", [lambda t: t.encode("gbk"), lambda t: b"\xef\xbb\xbf" + t.encode()],
                         ids=["gbk", "utf8-bom"])
def test_post_orders_import_csv_gbk_and_bom(scan, engine, encode):
    """Files saved by Excel (UTF-8 with a BOM) or a Chinese ERP (GBK) import the same."""
    csv_text = "order_no,shop,buyer_note,sku,qty\nTB1,天猫店,请轻放,MUG-01,1\n"
    answer = scan().post("/api/scan/orders/import", data=encode(csv_text), content_type="text/csv").get_json()
    assert answer["created"] == 1, answer
    assert count(engine, "SELECT count(*) FROM scan.orders WHERE shop = '天猫店'") == 1


def test_post_orders_import_csv_undecodable_is_422(scan, engine):
    """Bytes that are neither UTF-8 nor GBK are refused and nothing is imported."""
    answer = scan().post("/api/scan/orders/import", data=b"order_no,sku,qty\n\xff\xfe\xff,MUG-01,1\n",
                         content_type="text/csv")
    assert_error(answer, 422, "invalid_csv")
    assert count(engine, "SELECT count(*) FROM scan.orders") == 0


def test_post_orders_import_csv_with_bad_row_changes_nothing(scan, engine):
    """One bad row refuses the whole file unless ?partial=true."""
    csv_text = ("order_no,sku,qty\nTB1,MUG-01,1\nTB2,MUG-01,-3\n")
    supervisor = scan()
    answer = supervisor.post("/api/scan/orders/import", data=csv_text.encode(), content_type="text/csv").get_json()
    assert answer["created"] == 0 and answer["errors"][0]["row"] == 3
    assert count(engine, "SELECT count(*) FROM scan.orders") == 0
    partial = supervisor.post("/api/scan/orders/import?partial=true", data=csv_text.encode(),
                              content_type="text/csv").get_json()
    assert partial["created"] == 1
    assert count(engine, "SELECT count(*) FROM scan.orders") == 1


def test_openapi_lists_every_scan_endpoint(scan):
    """The OpenAPI document is generated from the same schemas and names every api.md path."""
    paths = scan().get("/api/scan/openapi.json").get_json()["paths"]
    for path in ("/api/scan/orders", "/api/scan/orders/import", "/api/scan/orders/{order_no}",
                 "/api/scan/orders/{order_no}/notes", "/api/scan/orders/{order_no}/cancel", "/api/scan/picks",
                 "/api/scan/picks/{pick_id}/scan", "/api/scan/picks/{pick_id}/short",
                 "/api/scan/picks/{pick_id}/complete", "/api/scan/verifications",
                 "/api/scan/verifications/{verification_id}/scan", "/api/scan/verifications/{verification_id}/complete",
                 "/api/scan/verifications/{verification_id}/short", "/api/scan/returns", "/api/scan/stats/operators",
                 "/api/scan/audit"):
        assert path in paths, path


def test_post_orders_merge_into_picked_parcel_is_order_locked(scan, engine):
    """An order cannot join a parcel whose picking has started: 409 order_locked, nothing written."""
    supervisor = scan()
    post(supervisor, "/api/scan/orders", order())
    with engine.begin() as conn:
        conn.execute(text("UPDATE scan.orders SET state = 'picking'"))
    assert_error(post(supervisor, "/api/scan/orders", order("TB2", waybill=None, merge_into="TB20261122001")), 409,
                 "order_locked")
    assert count(engine, "SELECT count(*) FROM scan.orders") == 1
