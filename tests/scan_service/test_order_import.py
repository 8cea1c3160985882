"""The order file import: thousands of orders in a few statements, the same rules as one order."""
from __future__ import annotations

import threading

from sqlalchemy import event, text

from common import i18n
from common.testing import ServiceClient, assert_error, wait_for
from tests.scan_service.conftest import count, order, post

HEADER = "order_no,shop,waybill_no,carrier,paid,buyer_note,seller_note,sku,qty,merge_into\n"


def rows(order_no: str, lines=(("TS-001-RED-M", 2), ("MUG-01", 1)), waybill: str = "", buyer_note: str = "",
         merge_into: str = "", carrier: str = "SF") -> str:
    """The CSV rows of one order, one per line, every row repeating the order's fields as ERPs do."""
    return "".join(f"{order_no},天猫旗舰店,{waybill},{carrier},true,{buyer_note},,{sku},{qty},{merge_into}\n"
                   for sku, qty in lines)


def file_of(count_: int, start: int = 0, qty: int = 1) -> str:
    """`count_` orders of three lines each (a SKU twice: merged into one line of qty + 1)."""
    return HEADER + "".join(
        rows(f"TB{n:06d}", [(f"SKU-{n % 97:03d}", qty), (f"SKU-{n % 89 + 100:03d}", 2), (f"SKU-{n % 97:03d}", 1)],
             waybill=f"SF{n:013d}", buyer_note="轻放" if n % 2 else "") for n in range(start, start + count_))


def send(client, csv_text: str, partial: bool = False):
    path = "/api/scan/orders/import" + ("?partial=true" if partial else "")
    answer = client.post(path, data=csv_text.encode(), content_type="text/csv")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_import_of_thousands_of_orders_is_a_few_statements(scan, scan_app, engine):
    """3,000 orders (9,000 rows) go in with a fixed number of statements; again: unchanged, nothing written."""
    supervisor = scan()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    db = scan_app.extensions["db_engine"]
    event.listen(db, "before_cursor_execute", seen)
    try:
        first = send(supervisor, file_of(3000))
        written = len(statements)
        again = send(supervisor, file_of(3000))
    finally:
        event.remove(db, "before_cursor_execute", seen)
    assert first == {"created": 3000, "updated": 0, "unchanged": 0, "errors": []}
    assert again == {"created": 0, "updated": 0, "unchanged": 3000, "errors": []}
    assert written < 20, statements
    assert len(statements) - written < 10, statements[written:]
    assert count(engine, "SELECT count(*) FROM scan.orders") == 3000
    assert count(engine, "SELECT count(*) FROM scan.order_lines") == 6000
    assert count(engine, "SELECT sum(qty) FROM scan.order_lines") == 3000 * 4
    assert count(engine, "SELECT count(*) FROM scan.order_notes WHERE text = '轻放'") == 1500
    assert count(engine, "SELECT count(*) FROM scan.events WHERE kind = 'imported'") == 3000
    order_page = supervisor.get("/api/scan/orders/TB000007").get_json()
    assert [(ln["sku"], ln["qty"]) for ln in order_page["lines"]] == [("SKU-007", 2), ("SKU-107", 2)]
    assert order_page["waybill_no"] == "SF0000000000007"
    assert order_page["events"][0]["detail"] == {"waybill_no": "SF0000000000007",
                                                 "lines": [{"sku": "SKU-007", "qty": 2}, {"sku": "SKU-107", "qty": 2}]}


def test_import_updates_only_what_changed_and_appends_changed_notes(scan, engine):
    """Changed orders are updated (lines replaced, one `updated` event); the rest unchanged; notes appended."""
    supervisor = scan()
    send(supervisor, file_of(1000))
    changed = file_of(1000).replace("TB000010,天猫旗舰店,SF0000000000010,SF,true,,",
                                    "TB000010,天猫旗舰店,SF0000000000010,SF,true,改成蓝色,")
    changed = changed.replace("TB000011,天猫旗舰店,SF0000000000011,SF,true,轻放,,SKU-011,1",
                              "TB000011,天猫旗舰店,SF0000000000011,SF,true,轻放,,SKU-011,5")
    answer = send(supervisor, changed)
    assert answer == {"created": 0, "updated": 2, "unchanged": 998, "errors": []}
    assert count(engine, "SELECT count(*) FROM scan.events WHERE kind = 'updated'") == 2
    assert count(engine, "SELECT count(*) FROM scan.order_lines") == 2000
    ten = supervisor.get("/api/scan/orders/TB000010").get_json()
    assert [n["text"] for n in ten["notes"]] == ["改成蓝色"]
    eleven = supervisor.get("/api/scan/orders/TB000011").get_json()
    assert [(ln["sku"], ln["qty"]) for ln in eleven["lines"]] == [("SKU-011", 10), ("SKU-111", 2)]
    # The same buyer note again is not appended a second time (domain rule 1: appended only when changed).
    assert [n["text"] for n in eleven["notes"]] == ["轻放"]
    assert eleven["events"][-1]["kind"] == "updated"
    assert eleven["events"][-1]["detail"]["lines"] == [{"sku": "SKU-011", "qty": 10}, {"sku": "SKU-111", "qty": 2}]
    renote = changed.replace("SF0000000000011,SF,true,轻放,", "SF0000000000011,SF,true,周末送达,")
    assert send(supervisor, renote)["updated"] == 1
    notes = supervisor.get("/api/scan/orders/TB000011").get_json()["notes"]
    assert [n["text"] for n in notes] == ["轻放", "周末送达"]


def test_import_with_bad_rows_writes_nothing_unless_partial(scan, engine):
    """Bad qty, a bad field, a locked order: all reported by row; nothing written; partial keeps the rest."""
    supervisor = scan()
    send(supervisor, HEADER + rows("LOCKED1", waybill="SF9000000000001"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE scan.orders SET state = 'picking'"))
    csv_text = (file_of(500) + rows("BADQTY", lines=[("MUG-01", "x")]) + rows("BADQTY2", lines=[("MUG-01", "0")])
                + rows("LOCKED1", waybill="SF9000000000001", lines=[("MUG-01", 7)])
                + rows("LONG", carrier="C" * 40))
    refused = send(supervisor, csv_text)
    assert (refused["created"], refused["updated"], refused["unchanged"]) == (0, 0, 0)
    assert [(e["row"], e["order_no"], e["code"]) for e in refused["errors"]] == [
        (1502, "BADQTY", "invalid_input"), (1503, "BADQTY2", "invalid_input"), (1504, "LOCKED1", "order_locked"),
        (1505, "LONG", "invalid_input")]
    assert "carrier" in refused["errors"][3]["message"]
    assert count(engine, "SELECT count(*) FROM scan.orders") == 1
    assert count(engine, "SELECT count(*) FROM scan.events") == 1
    partial = send(supervisor, csv_text, partial=True)
    assert (partial["created"], partial["updated"], len(partial["errors"])) == (500, 0, 4)
    assert count(engine, "SELECT count(*) FROM scan.orders") == 501
    assert count(engine, "SELECT qty FROM scan.order_lines WHERE order_no = 'LOCKED1' AND sku = 'MUG-01'") == 1


def test_refused_rows_speak_the_operators_language_and_name_the_field(scan_app, engine, clean):
    """A Chinese supervisor reads each refused row in Chinese, never an English sentence or a bare code;
    the details name the cell to fix."""
    supervisor = ServiceClient(scan_app, "EDB_ZG002", ("supervisor",), lang="zh-CN")
    send(supervisor, HEADER + rows("LOCKED1", waybill="SF9000000000001"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE scan.orders SET state = 'picking'"))
    csv_text = (HEADER + rows("BADQTY", lines=[("MUG-01", "x")]) + rows("LONG", carrier="C" * 40)
                + rows("LOCKED1", waybill="SF9000000000001", lines=[("MUG-01", 7)]))
    errors = {e["order_no"]: e for e in send(supervisor, csv_text)["errors"]}
    assert errors["BADQTY"]["details"] == {"fields": {"qty": ["Not a whole number."]}}
    assert list(errors["LONG"]["details"]["fields"]) == ["carrier"]
    assert errors["LOCKED1"]["details"]["order_no"] == "LOCKED1"
    for error in errors.values():
        assert error["message"] == i18n.message(error["code"], "zh-CN")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    english = send(ServiceClient(scan_app, "EDB_ZG003", ("supervisor",), lang="en"), csv_text)["errors"]
    assert [e["message"] for e in english][:2] == ["qty: Not a whole number.",
                                                  "carrier: Longer than maximum length 32."]


def test_import_merge_into_a_main_order_anywhere_in_the_file(scan, engine):
    """A merged order may come before or after its main order in the file; it takes the main's waybill."""
    supervisor = scan()
    csv_text = (HEADER + rows("KID1", merge_into="MAIN1") + rows("MAIN1", waybill="sf1111111111111")
                + rows("KID2", merge_into="MAIN1", waybill="SF1111111111111"))
    assert send(supervisor, csv_text) == {"created": 3, "updated": 0, "unchanged": 0, "errors": []}
    parcel = supervisor.get("/api/scan/orders?waybill=SF1111111111111").get_json()["items"]
    assert sorted((o["order_no"], o["merge_into"]) for o in parcel) == [
        ("KID1", "MAIN1"), ("KID2", "MAIN1"), ("MAIN1", None)]
    assert {o["carrier"] for o in parcel} == {"SF"}
    assert send(supervisor, csv_text)["unchanged"] == 3


def test_import_merge_into_refusals(scan, engine):
    """Itself, unknown, a merged order, another waybill, a main picking already: each refused by row."""
    supervisor = scan()
    send(supervisor, HEADER + rows("PICKING", waybill="SF2222222222222") + rows("OLDKID", merge_into="PICKING"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE scan.orders SET state = 'picking' WHERE order_no = 'PICKING'"))
    csv_text = (HEADER + rows("SELF", merge_into="SELF") + rows("LOST", merge_into="NOPE")
                + rows("KIDKID", merge_into="KID") + rows("KID", merge_into="MAIN")
                + rows("MAIN", waybill="SF3333333333333")
                + rows("OTHER", merge_into="MAIN", waybill="SF4444444444444") + rows("LATE", merge_into="PICKING")
                + rows("VIAOLD", merge_into="OLDKID"))
    answer = send(supervisor, csv_text, partial=True)
    assert (answer["created"], answer["updated"], answer["unchanged"]) == (2, 0, 0)
    assert [(e["order_no"], e["code"]) for e in answer["errors"]] == [
        ("SELF", "invalid_input"), ("LOST", "invalid_input"), ("KIDKID", "invalid_input"),
        ("OTHER", "invalid_input"), ("LATE", "order_locked"), ("VIAOLD", "invalid_input")]
    assert count(engine, "SELECT count(*) FROM scan.orders WHERE order_no IN ('KID', 'MAIN')") == 2
    # The same rules answer a single order, with the field that is wrong.
    details = assert_error(post(supervisor, "/api/scan/orders", order("X1", waybill=None, merge_into="KID")), 422,
                           "invalid_input")
    assert details["fields"] == {"merge_into": ["That order is itself merged."]}
    details = assert_error(post(supervisor, "/api/scan/orders", order("X2", waybill=None, merge_into="PICKING")),
                           409, "order_locked")
    assert details == {"order_no": "PICKING", "state": "picking"}


def test_two_imports_of_overlapping_files_racing(scan, engine):
    """Two files sharing 600 orders, sent at once, one with other quantities: every order once, its lines
    from exactly one file, one `imported` event each and one `updated` for each shared order."""
    answers = race(scan, file_of(1200), file_of(1200, start=600, qty=4))
    assert sum(a["created"] for a in answers) == 1800
    assert sum(a["updated"] for a in answers) == 600 and sum(a["unchanged"] for a in answers) == 0
    assert count(engine, "SELECT count(*) FROM scan.orders") == 1800
    assert count(engine, "SELECT count(*) FROM scan.order_lines") == 3600
    assert count(engine, "SELECT count(*) FROM scan.events WHERE kind = 'imported'") == 1800
    assert count(engine, "SELECT count(DISTINCT order_no) FROM scan.events WHERE kind = 'imported'") == 1800
    assert count(engine, "SELECT count(*) FROM scan.events WHERE kind = 'updated'") == 600
    assert count(engine, "SELECT count(*) FROM scan.order_notes") == 900
    # Each shared order holds the lines of the file that came last, never a mix of both.
    mixed = count(engine, """
        SELECT count(*) FROM (SELECT order_no FROM scan.order_lines WHERE order_no BETWEEN 'TB000600' AND 'TB001199'
                              GROUP BY order_no HAVING sum(qty) NOT IN (4, 7)) AS odd""")
    assert mixed == 0
    latest = count(engine, """
        SELECT count(*) FROM scan.orders o JOIN LATERAL (
            SELECT detail FROM scan.events e WHERE e.order_no = o.order_no ORDER BY e.id DESC LIMIT 1) last ON true
        WHERE (SELECT sum(qty) FROM scan.order_lines l WHERE l.order_no = o.order_no)
              = (SELECT sum((x->>'qty')::int) FROM jsonb_array_elements(last.detail->'lines') x)""")
    assert latest == 1800


def race(scan, *files: str) -> list[dict]:
    """Send the files at the same moment, each from its own client; the answers in finishing order."""
    start = threading.Barrier(len(files))
    answers: list[dict] = []

    def send_when_ready(csv_text: str) -> None:
        client = scan()
        start.wait()
        answers.append(send(client, csv_text))

    threads = [threading.Thread(target=send_when_ready, args=(f,)) for f in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == len(files)
    return answers


def test_two_imports_of_one_changed_file_racing_update_once(scan, engine):
    """The same changed file twice at once: one updates each order, the other then finds it unchanged;
    the new note is appended once and each order gets one `updated` event."""
    supervisor = scan()
    send(supervisor, file_of(1000))
    changed = file_of(1000, qty=3).replace(",true,,", ",true,加急,")
    answers = race(scan, changed, changed)
    assert sorted((a["updated"], a["unchanged"]) for a in answers) == [(0, 1000), (1000, 0)]
    assert count(engine, "SELECT count(*) FROM scan.events WHERE kind = 'updated'") == 1000
    assert count(engine, "SELECT count(*) FROM scan.order_notes WHERE text = '加急'") == 500
    assert count(engine, "SELECT count(*) FROM scan.order_lines") == 2000
    assert count(engine, "SELECT sum(qty) FROM scan.order_lines") == 1000 * 6
    assert count(engine, "SELECT count(*) FROM scan.orders WHERE updated_at > created_at") == 1000


def test_import_waits_for_an_order_another_import_is_inserting(scan, engine):
    """An order inserted by another transaction after our lock: we wait, then count it as known (updated)."""
    other = engine.connect()
    other.execute(text("INSERT INTO scan.orders (order_no, shop, paid, state, content_hash, allocated) "
                       "VALUES ('TB000005', '', true, 'printed', 'from-the-other-import', false)"))
    answers: list[dict] = []
    importer = threading.Thread(target=lambda: answers.append(send(scan(), file_of(10))))
    importer.start()
    try:
        wait_for(lambda: count(engine, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND datname = current_database() AND query LIKE 'INSERT INTO scan.orders%'"))
        other.commit()
    finally:
        other.close()
        importer.join()
    assert answers == [{"created": 9, "updated": 1, "unchanged": 0, "errors": []}]
    assert count(engine, "SELECT count(*) FROM scan.order_lines WHERE order_no = 'TB000005'") == 2
    assert count(engine, "SELECT count(*) FROM scan.events WHERE order_no = 'TB000005' AND kind = 'updated'") == 1


def test_post_orders_racing_for_one_new_order(scan, engine):
    """The same new order sent twice at once: one 201, one 200, one order with its lines once."""
    start = threading.Barrier(2)
    statuses: list[int] = []

    def send_when_ready() -> None:
        client = scan()
        start.wait()
        statuses.append(post(client, "/api/scan/orders", order()).status_code)

    threads = [threading.Thread(target=send_when_ready) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 201]
    assert count(engine, "SELECT count(*) FROM scan.order_lines") == 2
    assert count(engine, "SELECT count(*) FROM scan.events WHERE kind = 'imported'") == 1


def test_load_orders_answers_as_the_order_schema():
    """The file loader's shortcuts answer exactly what OrderIn answers, faults and all."""
    from marshmallow import ValidationError

    from scan_service.schemas.orders import OrderIn, load_orders

    base = order("TB1", waybill="sf123")
    line_faults = [[{"sku": "MUG-01", "qty": True}], [{"sku": "MUG-01", "qty": 1.0}], [{"sku": "MUG-01", "qty": "1"}],
                   [{"sku": "MUG-01", "qty": 1}] * 501, [], [{"sku": "MUG\x00", "qty": 1}],
                   [{"sku": "MUG-01", "qty": 1, "x": 1}], [{"sku": {"a": 1}, "qty": 1}], ["MUG-01"]]
    header_changes = [{"order_no": "TB2"}, {"colour": "red"}, {"paid": "true"}, {"shop": None},
                      {"buyer_note": "多\n行"}, {"carrier": "C" * 33}, {"order_no": " TB3"},
                      {"merge_into": "TB9", "waybill_no": None}, {"lines": [{"sku": "MUG-01", "qty": 1}]}]
    variants = [base, {k: v for k, v in base.items() if k != "order_no"},
                *(base | {"lines": lines} for lines in line_faults), *(base | change for change in header_changes)]
    expected = []
    for body in variants:
        try:
            expected.append(OrderIn().load(body))
        except ValidationError as exc:
            expected.append(exc.normalized_messages())
    answered = [a.normalized_messages() if isinstance(a, ValidationError) else a for a in load_orders(variants)]
    assert answered == expected
    assert sum(isinstance(a, dict) and "lines" in a and "order_no" in a for a in answered) >= 5


# A body the contract fuzzing sent: a lone CR ends the header line, the rest is not a CSV row.
FUZZED = "o\r\U00097338\x84\x1aw\u1b05\U00060d9a\x90 \xa0\U000e6bf0Ç".encode()


def test_csv_import_of_what_is_not_an_order_file_is_422_and_changes_nothing(scan, engine):
    answer = scan().post("/api/scan/orders/import", data=FUZZED, content_type="text/csv",
                         headers={"Idempotency-Key": "fuzz-1"})
    assert_error(answer, 422, "invalid_input")
    assert count(engine, "SELECT count(*) FROM scan.orders") == 0


def test_csv_import_with_lone_cr_line_endings_reads_every_row(scan, engine):
    csv_text = "order_no,sku,qty,waybill_no\rTB-CR1,MUG-01,1,SF1234567890123\rTB-CR2,MUG-01,2,SF1234567890124\r"
    answer = scan().post("/api/scan/orders/import", data=csv_text.encode(), content_type="text/csv",
                         headers={"Idempotency-Key": "cr-1"})
    assert answer.get_json() == {"created": 2, "updated": 0, "unchanged": 0, "errors": []}
    assert count(engine, "SELECT count(*) FROM scan.orders") == 2
