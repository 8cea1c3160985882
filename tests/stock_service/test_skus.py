"""SKUs, barcodes, item lookup, CSV import, disabling and reports (in-process, real PostgreSQL)."""
import time

from sqlalchemy import text

from codes.gtin import check_digit
from common.testing import assert_error
from tests.stock_service.conftest import Caller, ean13, ledger_matches_balances, ok, setup_floor, stock_up

UPC_A = "036000291452"
EAN_8 = "96385074"


def _csv(rows, header="sku,name,spec,barcode,bin"):
    return "\n".join([header, *rows]) + "\n"


def _import(api, data: bytes, partial=False):
    return api.post("/skus/import" + ("?partial=true" if partial else ""), data=data,
                    content_type="text/csv")


def _skus(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM stock.skus")).scalar()


def test_create_sku_accepts_upc_a_ean_8_and_code128(manager):
    """Valid UPC-A, EAN-8 and a Code 128 internal code are kept as the item's barcodes."""
    created = ok(manager.post("/skus", {"sku": "MUG-1", "name": "马克杯", "spec": "350ml",
                                        "barcodes": [UPC_A, EAN_8, "INT-MUG-0001"]}))
    assert created["barcodes"] == sorted([UPC_A, EAN_8, "INT-MUG-0001"])


def test_create_sku_wrong_upc_a_or_ean_8_check_digit_is_422(manager):
    """UPC-A and EAN-8 check digits are checked too."""
    for code in ("036000291453", "96385075"):
        assert_error(manager.post("/skus", {"sku": f"X-{code}", "name": "x", "barcodes": [code]}), 422,
                     "invalid_barcode")


def test_create_sku_barcode_of_another_sku_is_409(manager):
    """A barcode already used by another SKU: 409 barcode_taken naming the owner."""
    ok(manager.post("/skus", {"sku": "A", "name": "甲", "barcodes": [ean13(1)]}))
    details = assert_error(manager.post("/skus", {"sku": "B", "name": "乙", "barcodes": [ean13(1)]}), 409,
                           "barcode_taken")
    assert details == {"barcode": ean13(1), "sku": "A"}


def test_items_lookup_resolves_gs1_upc_and_internal_codes(manager):
    """GS1 with (01), raw GS1 element strings, the GTIN-14 and the SKU code all find the item."""
    setup_floor(manager)
    stock_up(manager, "S-1", 4, "A-01-01-02")
    for code in (ean13(1), f"(01)0{ean13(1)}(10)LOT7", f"010{ean13(1)}\x1d10LOT7", f"0{ean13(1)}", "S-1"):
        item = ok(manager.get("/items/lookup", query_string={"code": code}), 200)
        assert item["sku"] == "S-1", code
    assert item["on_hand"] == 4 and item["bins"] == [{"location": "A-01-01-02", "qty": 4}]
    assert set(item) >= {"sku", "name", "spec", "image_url", "barcodes", "on_hand", "bins"}
    ok(manager.post("/skus", {"sku": "U", "name": "美国货", "barcodes": [UPC_A]}))
    assert ok(manager.get("/items/lookup", query_string={"code": f"(01)00{UPC_A}"}), 200)["sku"] == "U"
    assert_error(manager.get("/items/lookup?code=6999999999999"), 404, "unknown_code")


def test_import_any_error_changes_nothing(manager, engine):
    """All or nothing: one bad row, every row reported, no SKU written."""
    ok(manager.post("/locations", {"code": "A-01-01-01", "kind": "bin", "zone": "A"}))
    data = _csv([f"T-1,T恤 红 M,纯棉,{ean13(1)},A-01-01-01", "T-2,T恤 蓝 M,纯棉,6901234567893,",
                 ",无编码,,,", f"T-3,T恤 白 M,,{ean13(3)},Z-99"]).encode()
    answer = ok(_import(manager, data), 200)
    assert answer["created"] == 0 and answer["updated"] == 0
    assert [(e["row"], e["code"]) for e in answer["errors"]] == [
        (3, "invalid_barcode"), (4, "missing_field"), (5, "unknown_location")]
    assert _skus(engine) == 0
    partial = ok(_import(manager, data, partial=True), 200)
    assert (partial["created"], len(partial["errors"])) == (1, 3)
    assert ok(manager.get("/skus/T-1"), 200)["home_bin"] == "A-01-01-01"


def test_import_utf8_bom_and_gbk_files(manager):
    """A UTF-8 file with BOM and a GBK file both import with their Chinese names intact."""
    bom = "\ufeff".encode() + _csv([f"T-1,T恤 红 M,纯棉,{ean13(1)},"]).encode()
    assert ok(_import(manager, bom), 200)["created"] == 1
    gbk = _csv([f"T-2,卫衣 灰 L,加绒,{ean13(2)},", f"T-1,T恤 红 M 新款,纯棉,{ean13(11)},"]).encode("gbk")
    answer = ok(_import(manager, gbk), 200)
    assert (answer["created"], answer["updated"], answer["errors"]) == (1, 1, [])
    assert ok(manager.get("/skus/T-2"), 200)["name"] == "卫衣 灰 L"
    assert ok(manager.get("/skus/T-1"), 200)["barcodes"] == sorted([ean13(1), ean13(11)])


def test_import_barcode_taken_by_another_sku_is_a_row_error(manager, engine):
    """A barcode owned by another SKU (in the database or earlier in the file) is that row's error."""
    ok(manager.post("/skus", {"sku": "OLD", "name": "旧", "barcodes": [ean13(1)]}))
    data = _csv([f"N-1,新,,{ean13(1)},", f"N-2,新2,,{ean13(2)},", f"N-3,新3,,{ean13(2)},"]).encode()
    answer = ok(_import(manager, data), 200)
    assert [(e["row"], e["code"]) for e in answer["errors"]] == [(2, "barcode_taken"), (4, "barcode_taken")]
    assert _skus(engine) == 1


def test_import_ten_thousand_rows_under_ten_seconds(manager, engine):
    """10,000 rows go in with bulk statements in well under 10 s."""
    rows = []
    for i in range(10_000):
        payload = f"69{i:010d}"
        rows.append(f"BULK-{i:05d},批量商品 {i},规格 {i % 7},{payload}{check_digit(payload)},")
    data = _csv(rows).encode()
    started = time.monotonic()
    answer = ok(_import(manager, data), 200)
    elapsed = time.monotonic() - started
    assert (answer["created"], answer["errors"]) == (10_000, [])
    assert elapsed < 10, elapsed
    assert _skus(engine) == 10_000


def test_import_needs_sku_and_name_columns(manager):
    """A file without the sku/name header is a 422 naming the columns."""
    details = assert_error(_import(manager, b"code,title\n1,2\n"), 422, "invalid_csv")
    assert details["columns"] == ["sku", "name"]


def test_disable_sku_writes_off_negative_and_frees_bins(service, manager, engine):
    """A SKU below zero and no longer sold shows in the report; disabling zeroes it and frees its bin."""
    setup_floor(manager)
    ok(manager.post("/locations", {"code": "NEG-OK", "kind": "bin", "zone": "A", "sequence": 99,
                                   "allow_negative": True}))
    stock_up(manager, "S-1", 1, "A-01-01-01")
    ok(manager.post("/moves", {"sku": "S-2", "qty": 2, "from": "NEG-OK", "to": "A-01-01-02"}))
    ok(manager.post("/moves", {"sku": "S-2", "qty": 2, "from": "A-01-01-02", "to": "BK-001"}))
    ok(manager.post("/internal/shipments", {"order_no": "TB1", "basket": "BK-001",
                                            "lines": [{"sku": "S-2", "qty": 2}]}))
    assert ok(manager.get("/reports/negative"), 200)["items"] == [
        {"sku": "S-2", "location": "NEG-OK", "lot": "", "qty": -2}]
    assert [r["sku"] for r in ok(manager.get("/reports/retire?idle_days=0"), 200)["items"]] == ["S-2"]
    assert [r["sku"] for r in ok(manager.get("/reports/low?threshold=5"), 200)["items"]] == ["S-1", "S-2"]
    assert_error(manager.post("/skus/S-1/disable", {}), 409, "stock_on_hand")
    clerk = Caller(service("stock", "picker", badge="EDB_PK001"))
    assert_error(clerk.post("/skus/S-2/disable", {}), 403, "forbidden")
    answer = ok(manager.post("/skus/S-2/disable", {"reason": "discontinued"}), 200)
    assert answer == {"sku": "S-2", "active": False, "freed": [{"location": "NEG-OK", "qty": 2}]}
    assert ok(manager.get("/reports/negative"), 200)["items"] == []
    assert ok(manager.get("/reports/retire?idle_days=0"), 200)["items"] == []
    ledger_matches_balances(engine)


def test_reports_low_pages_by_cursor(manager):
    """Lists answer items and next_cursor, and the cursor continues the list."""
    setup_floor(manager, skus=3)
    first = ok(manager.get("/reports/low?threshold=5&limit=2"), 200)
    assert [r["sku"] for r in first["items"]] == ["S-1", "S-2"] and first["next_cursor"] == "S-2"
    rest = ok(manager.get(f"/reports/low?threshold=5&limit=2&cursor={first['next_cursor']}"), 200)
    assert [r["sku"] for r in rest["items"]] == ["S-3"] and rest["next_cursor"] is None


def test_roles_reads_for_anyone_edits_for_stock_manager(service, manager):
    """A picker may read stock but not create locations; a receiver may receive but not move."""
    setup_floor(manager)
    picker = Caller(service("stock", "picker", badge="EDB_PK002"))
    assert ok(picker.get("/balances"), 200)["items"] == []
    assert_error(picker.post("/locations", {"code": "B-1", "kind": "bin"}), 403, "forbidden")
    receiver = Caller(service("stock", "receiver", badge="EDB_RC002"))
    assert_error(receiver.post("/moves", {"sku": "S-1", "qty": 1, "from": "A-01-01-01", "to": "A-01-01-02"}), 403,
                 "forbidden")


def test_openapi_lists_every_stock_endpoint(manager):
    """The generated OpenAPI document carries the api.md and internal paths."""
    doc = ok(manager.client.get("/api/stock/openapi.json"), 200)
    for path in ("/api/stock/skus/import", "/api/stock/items/lookup", "/api/stock/counts/{count_id}/variances",
                 "/api/stock/internal/pick-plan", "/api/stock/reports/low", "/api/stock/skus/{sku}/disable"):
        assert path in doc["paths"], path


def test_sku_import_of_what_is_not_a_sku_file_is_422_and_changes_nothing(manager, engine):
    """A body the contract fuzzing sent (a lone CR ends its header line) is refused, not a 500."""
    fuzzed = "o\r\U00097338\x84\x1aw\u1b05\U00060d9a\x90 \xa0\U000e6bf0Ç".encode()
    assert_error(_import(manager, fuzzed), 422, "invalid_csv")
    assert _skus(engine) == 0


def test_sku_import_with_lone_cr_line_endings_creates_every_row(manager, engine):
    answer = _import(manager, "sku,name\rCR-1,第一\rCR-2,第二\r".encode())
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["created"] == 2 and _skus(engine) == 2
