"""The supervisor's desktop pages over the live gateway: they read api.md's endpoints and act on them."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.ui.conftest import ROOT
from tests.ui.stockroom import ITEMS, ORDER, get, on_hand, post, stock_up

pytestmark = pytest.mark.live
BARCODE = {sku: v[1] for sku, v in ITEMS.items()}
BIN = {sku: v[2] for sku, v in ITEMS.items()}


@pytest.fixture
def desk(browser: Browser, floor):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                                  timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


def login(page, floor, badge: str) -> None:
    page.goto(floor.url("/supervisor#work"))
    page.locator("#sup-badge").fill(badge)
    page.locator("#sup-pin").fill("1234")
    page.locator("#sup-login").click()
    expect(page.locator("body")).to_have_attribute("data-loaded", "work")


def test_supervisor_pages_show_work_audit_intercepts_and_decide_variance(desk, floor):
    """Work per person, audit, intercepts, operators and stock reports load; a variance is approved with a reason."""
    manager = stock_up(floor)
    post(manager, floor, "/api/scan/orders", ORDER, 201)
    picker = floor.login("picker", badge="EDB_PH500")
    pick = post(picker, floor, "/api/scan/picks", {"basket": "BK-500", "orders": [ORDER["order_no"]]}, 201)
    post(picker, floor, f"/api/scan/picks/{pick['id']}/scan", {"code": BIN["MUG-01"]})
    post(picker, floor, f"/api/scan/picks/{pick['id']}/scan", {"code": BARCODE["MUG-01"]})
    counter = floor.login("counter", badge="EDB_PD500")
    count = post(counter, floor, "/api/stock/counts", {"locations": [BIN["TS-001-RED-M"]]}, 201)
    post(counter, floor, f"/api/stock/counts/{count['id']}/entries",
         {"location": BIN["TS-001-RED-M"], "code": BARCODE["TS-001-RED-M"], "qty": 9}, 201)
    assert post(counter, floor, f"/api/stock/counts/{count['id']}/submit", {})["state"] == "submitted"
    floor.add_operator("EDB_ZG500", ("supervisor", "stock_manager"), pin="1234", name="Boss")

    login(desk, floor, "EDB_ZG500")
    expect(desk.locator("#stats")).to_contain_text("EDB_PH500")
    expect(desk.locator(".chart .bar-row:not(.axis)")).to_have_count(1)
    # The one item picked stands in the hour it was scanned, on the warehouse's clock.
    expect(desk.locator('.chart .bar-row:not(.axis) .hour[title$="  1"]')).to_have_count(1)
    desk.screenshot(path=str(_shot("supervisor-work")))
    for section, selector in [("audit", "#audit-totals"), ("intercepts", "main"), ("operators", "#operators"),
                              ("stock", "#negative, main .empty"), ("printing", "main")]:
        desk.goto(floor.url(f"/supervisor#{section}"))
        expect(desk.locator("body")).to_have_attribute("data-loaded", section)
        expect(desk.locator(selector).first).to_be_visible()
        desk.screenshot(path=str(_shot(f"supervisor-{section}")))
    expect(desk.locator("#status")).to_be_empty()
    desk.goto(floor.url("/supervisor#operators"))
    expect(desk.locator("#operators")).to_contain_text("EDB_PD500")

    desk.goto(floor.url("/supervisor#variances"))
    table = desk.locator(f"#variances-{count['id']}")
    expect(table).to_contain_text(BIN["TS-001-RED-M"])
    desk.screenshot(path=str(_shot("supervisor-variances")))
    table.locator("select").select_option("lost")
    table.locator("input").fill("not found on the shelf")
    table.get_by_role("button", name="Approve").click()
    expect(desk.locator("#status")).to_have_text("Done")
    assert on_hand(manager, floor, "TS-001-RED-M")[BIN["TS-001-RED-M"]] == 9
    lines = get(manager, floor, f"/api/stock/counts/{count['id']}/variances")["items"]
    assert [ln["state"] for ln in lines] == ["approved"]


def test_supervisor_pauses_and_resumes_a_printer(desk, floor, tmp_path):
    """The printing page pauses and resumes a printer through the print service."""
    boss = floor.login("supervisor", badge="EDB_ZG501")
    post(boss, floor, "/api/print/printers", {"name": "spool-p", "uri": f"file://{tmp_path}", "dpi": 203,
                                              "width_mm": 60, "height_mm": 40}, 201)
    floor.add_operator("EDB_ZG502", ("supervisor",), pin="1234", name="Boss")
    login(desk, floor, "EDB_ZG502")
    desk.goto(floor.url("/supervisor#printing"))
    expect(desk.locator("#printers")).to_contain_text("spool-p")
    desk.locator("#printers").get_by_role("button", name="Pause").click()
    expect(desk.locator("#printers").get_by_role("button", name="Resume")).to_be_visible()
    assert get(boss, floor, "/api/print/printers/spool-p")["state"] == "paused"
    desk.locator("#printers").get_by_role("button", name="Resume").click()
    expect(desk.locator("#printers").get_by_role("button", name="Pause")).to_be_visible()
    assert get(boss, floor, "/api/print/printers/spool-p")["state"] != "paused"


def _shot(name: str):
    path = ROOT / "test-artifacts" / "screenshots" / "supervisor" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_supervisor_pages_speak_chinese(browser: Browser, floor):
    """With Chinese chosen, table headers and audit titles are Chinese too."""
    floor.add_operator("EDB_ZG503", ("supervisor",), pin="1234", name="主管")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    page = context.new_page()
    try:
        login(page, floor, "EDB_ZG503")
        page.goto(floor.url("/supervisor#operators"))
        expect(page.locator("#operators thead")).to_contain_text("工牌")
        page.goto(floor.url("/supervisor#audit"))
        expect(page.locator("body")).to_have_attribute("data-loaded", "audit")
        expect(page.locator("main")).to_contain_text("已验货未发货")
        expect(page.locator("#audit-totals")).to_contain_text("已发货")
        page.screenshot(path=str(_shot("supervisor-audit-zh-CN")))
    finally:
        context.close()
