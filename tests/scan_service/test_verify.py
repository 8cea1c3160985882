"""Verification with stock_service away: waybill first, notes first, item scans, ship, outbox."""
import threading

import pytest
from sqlalchemy import text

from common.testing import assert_error, wait_for
from tests.scan_service.conftest import count, order, post


@pytest.fixture
def desk(scan):
    """A supervisor who imports orders and a verifier at the packing table."""
    return scan(), scan("verifier", badge="EDB_YH001")


def _open(verifier, waybill="SF1234567890123"):
    answer = post(verifier, "/api/scan/verifications", {"waybill": waybill})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_post_verifications_loads_parcel_with_buyer_notes_first(desk):
    """The waybill finds the order; the buyer's request leads the notes and raises an alert."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order(seller_note="送贴纸", buyer_note="不要放发票"))
    body = _open(verifier, "sf1234567890123")
    assert body["waybill"] == "SF1234567890123"
    assert [n["kind"] for n in body["notes"]] == ["buyer", "seller"]
    assert body["alerts"][0] == {"code": "buyer_note", "order_no": "TB20261122001", "text": "不要放发票"}
    assert sorted((ln["sku"], ln["expected"], ln["scanned"]) for ln in body["lines"]) == [
        ("MUG-01", 1, 0), ("TS-001-RED-M", 2, 0)]


def test_post_verifications_refusals(desk, engine):
    """Unknown waybill 404; intercepted, unpaid and shipped parcels 409, each changing nothing."""
    supervisor, verifier = desk
    assert_error(post(verifier, "/api/scan/verifications", {"waybill": "SF9999999999999"}), 404, "unknown_waybill")
    post(supervisor, "/api/scan/orders", order())
    post(supervisor, "/api/scan/orders/TB20261122001/cancel", {"reason": "refund"})
    details = assert_error(post(verifier, "/api/scan/verifications", {"waybill": "SF1234567890123"}), 409,
                           "order_intercepted")
    assert details["order_no"] == "TB20261122001"
    post(supervisor, "/api/scan/orders", order("TB2", waybill="YT1234567890123", paid=False))
    assert_error(post(verifier, "/api/scan/verifications", {"waybill": "YT1234567890123"}), 409, "order_unpaid")
    assert count(engine, "SELECT count(*) FROM scan.verifications") == 0
    assert_error(post(verifier, "/api/scan/verifications", {"waybill": ""}), 422, "invalid_input")
    assert_error(post(scan_as_picker(verifier), "/api/scan/verifications", {"waybill": "YT1234567890123"}), 403,
                 "forbidden")


def scan_as_picker(client):
    return client.as_("EDB_PH001", "picker")


def test_post_verifications_unpaid_with_allowing_note_opens(desk):
    """An unpaid order whose note says 允许未付款发货 may be verified (domain rule 4)."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order(paid=False))
    post(supervisor, "/api/scan/orders/TB20261122001/notes", {"text": "客户已确认，允许未付款发货"})
    body = _open(verifier)
    assert {"code": "unpaid_allowed", "order_no": "TB20261122001"} in body["alerts"]


def test_post_verification_scan_wrong_item_changes_no_count(desk):
    """A wrong item is a red row: result wrong_item or unknown_code, no line counted."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order())
    vid = _open(verifier)["id"]
    for code, result in (("6901234567892", "wrong_item"), ("BK-017", "wrong_item"), ("!!", "unknown_code")):
        answer = post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": code}).get_json()
        assert answer["result"] == result, answer
        assert all(line["scanned"] == 0 for line in answer["lines"])
        assert answer["message"]


def test_post_verification_scan_counts_and_over_qty(desk):
    """Items count one by one or with qty; beyond the expected count is over_qty and counts nothing."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order())
    vid = _open(verifier)["id"]
    one = post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "TS-001-RED-M"}).get_json()
    assert one["result"] == "ok" and one["line"]["scanned"] == 1 and one["complete"] is False
    over = post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "TS-001-RED-M", "qty": 2}).get_json()
    assert over["result"] == "over_qty" and over["line"]["scanned"] == 1
    assert_error(post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "MUG-01", "qty": 0}), 422,
                 "invalid_input")
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "TS-001-RED-M"})
    last = post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "]C0MUG-01"}).get_json()
    assert last["result"] == "ok" and last["complete"] is True and last["next_state"] == "complete"


def test_post_verification_complete_lines_missing_then_ships_via_outbox(desk, engine):
    """Missing lines answer 409 with them in details; complete ships and writes one outbox row."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order())
    vid = _open(verifier)["id"]
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "TS-001-RED-M", "qty": 2})
    details = assert_error(post(verifier, f"/api/scan/verifications/{vid}/complete"), 409, "lines_missing")
    assert details["lines"] == [{"sku": "MUG-01", "name": "MUG-01", "expected": 1, "scanned": 0, "missing": 1}]
    assert count(engine, "SELECT count(*) FROM scan.shipment_outbox") == 0
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "MUG-01"})
    done = post(verifier, f"/api/scan/verifications/{vid}/complete")
    assert done.status_code == 200 and done.get_json()["state"] == "shipped"
    assert count(engine, "SELECT count(*) FROM scan.shipment_outbox WHERE state = 'pending'") == 1
    assert supervisor.get("/api/scan/orders/TB20261122001").get_json()["state"] == "shipped"
    assert_error(post(verifier, "/api/scan/verifications", {"waybill": "SF1234567890123"}), 409, "already_shipped")
    assert_error(post(supervisor, "/api/scan/orders/TB20261122001/cancel", {"reason": "refund"}), 409,
                 "already_shipped")


def test_post_verification_merged_parcel_needs_every_order_item(desk, engine):
    """A merged parcel expects the union of its orders' lines and ships them all together."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order(lines=[{"sku": "MUG-01", "qty": 1}]))
    post(supervisor, "/api/scan/orders", order("TB20261122002", waybill=None, merge_into="TB20261122001",
                                               lines=[{"sku": "MUG-01", "qty": 1}, {"sku": "CAP-9", "qty": 1}]))
    body = _open(verifier)
    assert [o["order_no"] for o in body["orders"]] == ["TB20261122001", "TB20261122002"]
    assert sorted((ln["sku"], ln["expected"]) for ln in body["lines"]) == [("CAP-9", 1), ("MUG-01", 2)]
    vid = body["id"]
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "MUG-01", "qty": 2})
    details = assert_error(post(verifier, f"/api/scan/verifications/{vid}/complete"), 409, "lines_missing")
    assert [line["sku"] for line in details["lines"]] == ["CAP-9"]
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "CAP-9"})
    assert post(verifier, f"/api/scan/verifications/{vid}/complete").get_json()["state"] == "shipped"
    assert count(engine, "SELECT count(*) FROM scan.orders WHERE state = 'shipped'") == 2
    assert count(engine, "SELECT count(*) FROM scan.shipment_outbox") == 2


def test_post_verification_intercept_while_verifying_blocks_complete(desk):
    """A refund arriving mid-check stops the parcel at complete."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order(lines=[{"sku": "MUG-01", "qty": 1}]))
    vid = _open(verifier)["id"]
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "MUG-01"})
    post(supervisor, "/api/scan/orders/TB20261122001/cancel", {"reason": "changed"})
    assert_error(post(verifier, f"/api/scan/verifications/{vid}/complete"), 409, "order_intercepted")


def test_post_verification_short_sends_order_to_short(desk):
    """A shortage at the table sends the order to `short`, recorded in its timeline."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order())
    vid = _open(verifier)["id"]
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "TS-001-RED-M"})
    assert_error(post(verifier, f"/api/scan/verifications/{vid}/short", {"sku": "TS-001-RED-M", "qty": 2}), 409,
                 "over_qty")
    answer = post(verifier, f"/api/scan/verifications/{vid}/short", {"sku": "TS-001-RED-M", "qty": 1})
    assert answer.status_code == 200 and answer.get_json()["state"] == "short"
    body = supervisor.get("/api/scan/orders/TB20261122001").get_json()
    assert body["state"] == "short"
    assert "verify_short" in [e["kind"] for e in body["events"]]


def test_post_verification_scan_replay_counts_once(desk, engine):
    """The same scan with its Idempotency-Key counts once and is replayed."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order())
    vid = _open(verifier)["id"]
    first = post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "TS-001-RED-M"}, key="scan-1")
    again = post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "TS-001-RED-M"}, key="scan-1")
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert count(engine, "SELECT scanned FROM scan.verification_lines WHERE sku = 'TS-001-RED-M'") == 1
    assert count(engine, "SELECT count(*) FROM scan.events WHERE kind = 'verify_scan'") == 1


def test_post_verification_complete_two_verifiers_race_ships_once(desk, engine):
    """Two verifiers with the same parcel completing at once: one ships, the other gets 409."""
    supervisor, verifier = desk
    other = verifier.as_("EDB_YH002", "verifier")
    post(supervisor, "/api/scan/orders", order(lines=[{"sku": "MUG-01", "qty": 1}]))
    ids = []
    for client in (verifier, other):
        vid = _open(client)["id"]
        post(client, f"/api/scan/verifications/{vid}/scan", {"code": "MUG-01"})
        ids.append(vid)
    answers = []
    barrier = threading.Barrier(2)

    def finish(client, vid):
        barrier.wait()
        answers.append(post(client, f"/api/scan/verifications/{vid}/complete"))

    threads = [threading.Thread(target=finish, args=pair) for pair in zip((verifier, other), ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert count(engine, "SELECT count(*) FROM scan.shipment_outbox") == 1
    assert count(engine, "SELECT count(*) FROM scan.events WHERE kind = 'shipped'") == 1


def test_post_verifications_intercepted_message_in_chinese(scan_app, scan):
    """A Chinese-speaking verifier gets the intercept alarm in Chinese."""
    from common.testing import ServiceClient

    supervisor = scan()
    post(supervisor, "/api/scan/orders", order())
    post(supervisor, "/api/scan/orders/TB20261122001/cancel", {"reason": "refund"})
    verifier = ServiceClient(scan_app, "EDB_YH001", ("verifier",), lang="zh-CN")
    answer = post(verifier, "/api/scan/verifications", {"waybill": "SF1234567890123"})
    assert_error(answer, 409, "order_intercepted")
    assert "拦截" in answer.get_json()["error"]["message"]


def test_get_codes_recognize_says_what_was_read(scan):
    """The recognizer over HTTP: a GS1 DataMatrix, a waybill, a bin; no code is 422."""
    client = scan("verifier")
    gs1 = client.get("/api/scan/codes/recognize", query_string={"code": "]d201069012345678921724123110ABC"})
    assert gs1.get_json()["kind"] == "item" and gs1.get_json()["lot"] == "ABC"
    waybill = client.get("/api/scan/codes/recognize", query_string={"code": "73100012345678", "expect": "waybill"})
    assert waybill.get_json()["carrier"] == "ZTO"
    assert client.get("/api/scan/codes/recognize?code=A-01-02-03").get_json()["kind"] == "bin"
    assert_error(client.get("/api/scan/codes/recognize"), 422, "invalid_input")


def test_post_verification_complete_enqueues_one_shipping_job(desk, redis_conn):
    """After commit one job with a fixed id waits on the shipping queue; re-driving adds no second one."""
    from rq import Queue

    from scan_service import jobs

    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order(lines=[{"sku": "MUG-01", "qty": 1}]))
    vid = _open(verifier)["id"]
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "MUG-01"})
    post(verifier, f"/api/scan/verifications/{vid}/complete", key="done-1")
    post(verifier, f"/api/scan/verifications/{vid}/complete", key="done-1")
    queue = Queue(jobs.SHIPPING_QUEUE, connection=redis_conn)
    assert queue.job_ids == [jobs.job_id(1)]
    assert jobs.enqueue_shipment(redis_conn, 1) is None
    answer = post(supervisor, "/api/scan/shipments/redrive", {})
    assert answer.get_json() == {"pending": 1, "enqueued": 0}
    assert queue.job_ids == [jobs.job_id(1)]
    assert_error(post(verifier, "/api/scan/shipments/redrive", {}), 403, "forbidden")


def test_post_verification_locks_a_merged_parcel_in_order_number_order(desk, engine):
    """As an import and a completion do: the same orders locked in another order could deadlock.

    The main order (…009) sorts after the merged one (…002): the verifier waiting for …002 must
    not hold …009 meanwhile.
    """
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order("TB20261122009", lines=[{"sku": "MUG-01", "qty": 1}]))
    post(supervisor, "/api/scan/orders", order("TB20261122002", waybill=None, merge_into="TB20261122009",
                                               lines=[{"sku": "CAP-9", "qty": 1}]))
    holder = engine.connect()
    holder.execute(text("SELECT 1 FROM scan.orders WHERE order_no = 'TB20261122002' FOR UPDATE"))
    opened: list = []
    opener = threading.Thread(target=lambda: opened.append(_open(verifier)))
    opener.start()
    try:
        wait_for(lambda: count(engine, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND datname = current_database()"))
        with engine.connect() as probe:
            probe.execute(text("SELECT 1 FROM scan.orders WHERE order_no = 'TB20261122009' FOR UPDATE NOWAIT"))
            probe.rollback()
    finally:
        holder.commit()
        holder.close()
        opener.join()
    assert [o["order_no"] for o in opened[0]["orders"]] == ["TB20261122009", "TB20261122002"]


def test_post_verification_times_are_the_database_clock_and_complete_twice_ships_once(desk, engine):
    """Opening stamps verified_at, completing stamps shipped_at and completed_at; a repeated complete
    answers shipped again and queues nothing more, and an outbox row already there for the order is kept."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order(lines=[{"sku": "MUG-01", "qty": 1}]))
    post(supervisor, "/api/scan/orders", order("TB20261122002", waybill=None, merge_into="TB20261122001",
                                               lines=[{"sku": "CAP-9", "qty": 1}]))
    vid = _open(verifier)["id"]
    assert count(engine, "SELECT count(*) FROM scan.orders WHERE verified_at IS NOT NULL") == 2
    # A row left for the second order (a delivery queued before a crash, say) is the one used.
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO scan.shipment_outbox (order_no, lines, identity, state) "
                          "VALUES ('TB20261122002', '[]', '{}', 'pending')"))
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "MUG-01"})
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "CAP-9"})
    first = post(verifier, f"/api/scan/verifications/{vid}/complete")
    again = post(verifier, f"/api/scan/verifications/{vid}/complete")
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json() == {"id": vid, "state": "shipped",
                                                    "orders": ["TB20261122001", "TB20261122002"]}
    assert count(engine, "SELECT count(*) FROM scan.shipment_outbox") == 2
    assert count(engine, "SELECT count(*) FROM scan.shipment_outbox WHERE lines = '[]'") == 1
    assert count(engine, "SELECT count(*) FROM scan.orders WHERE state = 'shipped' AND shipped_at >= verified_at") == 2
    assert count(engine, "SELECT count(*) FROM scan.verifications WHERE completed_at IS NOT NULL") == 1
    assert count(engine, "SELECT count(*) FROM scan.events WHERE kind = 'shipped'") == 2


def test_post_verification_complete_finds_the_basket_of_a_picked_order_that_does_not_name_it(desk, engine):
    """An order picked before orders kept their basket: its shipment leaves from its latest pick's basket."""
    supervisor, verifier = desk
    post(supervisor, "/api/scan/orders", order(lines=[{"sku": "MUG-01", "qty": 1}]))
    with engine.begin() as conn:
        for basket in ("BK-001", "BK-002"):
            conn.execute(text("INSERT INTO scan.picks (basket, picker, picker_name, state, orders) "
                              "VALUES (:basket, 'EDB_PH001', '', 'picked', '[\"TB20261122001\"]')"), {"basket": basket})
        conn.execute(text("UPDATE scan.orders SET state = 'picked', picked_at = now(), basket = NULL"))
    vid = _open(verifier)["id"]
    post(verifier, f"/api/scan/verifications/{vid}/scan", {"code": "MUG-01"})
    assert post(verifier, f"/api/scan/verifications/{vid}/complete").status_code == 200
    assert count(engine, "SELECT count(*) FROM scan.shipment_outbox WHERE basket = 'BK-002'") == 1
