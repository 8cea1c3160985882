"""Every handheld screen in both languages: a screenshot, an axe-core check and the glove-size rules."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import PHONE, SMALL_PHONE
from tests.ui.stockroom import ITEMS, ORDER, SF, post, stock_up

pytestmark = pytest.mark.live
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
BARCODE = {sku: v[1] for sku, v in ITEMS.items()}
BIN = {sku: v[2] for sku, v in ITEMS.items()}
ROLES = ("picker", "verifier", "receiver", "counter", "labeler")

MEASURE = """() => {
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0
      && getComputedStyle(el).visibility !== 'hidden'; };
  const small = [...document.querySelectorAll('main button, main input, main select, footer button, footer input')]
    .filter(visible).filter(el => el.getBoundingClientRect().height < 47.5)
    .map(el => el.id || el.outerHTML.slice(0, 60));
  const mains = [...document.querySelectorAll('button.main')].filter(visible)
    .filter(el => el.getBoundingClientRect().height < 63.5).map(el => el.id);
  const tinyText = [...document.querySelectorAll('main p, main td, main li, main label')].filter(visible)
    .filter(el => parseFloat(getComputedStyle(el).fontSize) < 16).map(el => el.textContent.slice(0, 30));
  return {small, mains, tinyText, overflow: document.documentElement.scrollWidth > window.innerWidth,
          body: parseFloat(getComputedStyle(document.body).fontSize)};
}"""


class Walk:
    """Goes through the screens, checking each one it stops at."""

    def __init__(self, device, lang: str):
        self.device = device
        self.lang = lang
        self.seen: list[str] = []
        self.problems: list[str] = []

    def check(self, name: str) -> None:
        page = self.device.page
        page.wait_for_timeout(1600)  # let the feedback flash fade so the screen itself is seen
        self.device.shot(name)
        self.seen.append(name)
        sizes = page.evaluate(MEASURE)
        if sizes["small"] or sizes["mains"] or sizes["tinyText"] or sizes["overflow"] or sizes["body"] < 18:
            self.problems.append(f"{name}: {sizes}")
        result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r => r.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))""")
        self.problems.extend(f"{name}: axe {v}" for v in result)


@pytest.mark.parametrize(("lang", "viewport"), [("en", PHONE), ("zh-CN", SMALL_PHONE)])
def test_every_screen_screenshot_axe_and_sizes(phones, floor, lang, viewport):
    """Each screen: saved screenshot, no serious/critical axe violation, targets >= 48 px, main 64 px, text >= 18 px."""
    manager = stock_up(floor)
    post(manager, floor, "/api/scan/orders", ORDER, 201)
    post(manager, floor, "/api/print/printers", {"name": "spool-s", "uri": "file:///tmp", "dpi": 203,
                                                 "width_mm": 60, "height_mm": 40}, 201)
    receipt = post(manager, floor, "/api/stock/receipts", {"ref": "PO-S", "lines": [{"sku": "MUG-01", "qty": 1}]})
    post(manager, floor, f"/api/stock/receipts/{receipt['id']}/receive", {"code": BARCODE["MUG-01"], "qty": 1})
    device = phones(viewport=viewport, bypass_csp=True)
    page = device.page
    page.add_init_script(AXE)
    walk = Walk(device, lang)
    device.open("/")
    if lang != "en":
        page.locator("#lang").tap()
    walk.check("login")
    device.login(f"EDB_ALL{lang[:2].upper()}", ROLES, lang=lang)
    walk.check("menu")

    device.task("pick")
    walk.check("pick-scan-basket")
    device.scan("BK-400")
    device.state("pick", "scan_bin")
    walk.check("pick-scan-bin")
    device.scan(BIN["MUG-01"])
    device.state("pick", "scan_item")
    walk.check("pick-scan-item")
    page.locator("#short").tap()
    walk.check("pick-short")
    page.locator("#short-back").tap()
    device.scan(BARCODE["MUG-01"])
    device.state("pick", "scan_bin")
    device.scan(BIN["TS-001-RED-M"])
    device.state("pick", "scan_item")
    device.scan(BARCODE["TS-001-RED-M"])
    expect(page.locator("#qty-left")).to_have_text("1")
    device.scan(BARCODE["TS-001-RED-M"])
    device.state("pick", "complete")
    walk.check("pick-complete")
    page.locator("#complete").tap()
    device.state("pick", "done")
    walk.check("pick-done")

    page.locator("#home").tap()
    device.task("verify")
    walk.check("verify-scan-waybill")
    device.scan(SF)
    device.state("verify", "read_notes")
    walk.check("verify-read-notes")
    page.locator("#notes-ack").tap()
    device.scan("9999999999994")
    device.message("error")
    walk.check("verify-scan-item-wrong")
    device.scan(BARCODE["MUG-01"])
    device.scan(BARCODE["TS-001-RED-M"])
    device.scan(BARCODE["TS-001-RED-M"])
    device.state("verify", "complete")
    walk.check("verify-complete")
    page.locator("#verify-complete").tap()
    device.state("verify", "done")
    walk.check("verify-done")

    page.locator("#home").tap()
    device.task("putaway")
    walk.check("putaway-scan-item")
    device.scan(BARCODE["MUG-01"])
    device.state("putaway", "scan_bin")
    walk.check("putaway-scan-bin")

    page.locator("#home").tap()
    device.task("count")
    walk.check("count-scan-bin")
    device.scan(BIN["TS-001-RED-M"])
    device.state("count", "scan_items")
    device.scan(BARCODE["TS-001-RED-M"])
    expect(page.locator("#count-lines td.num")).to_have_text("1")
    walk.check("count-scan-items")
    page.locator("#count-submit").tap()
    device.state("count", "done")
    walk.check("count-done")

    page.locator("#home").tap()
    device.task("lookup")
    walk.check("lookup-scan")
    device.scan(BARCODE["TS-001-RED-M"])
    device.state("lookup", "item")
    walk.check("lookup-item")

    page.locator("#home").tap()
    device.task("print")
    expect(page.locator("#print-printer option")).to_have_count(1)
    device.scan(BARCODE["MUG-01"])
    expect(page.locator("#print-go")).to_be_enabled()
    walk.check("print-label")
    page.locator("#print-go").tap()
    device.state("print", "job")
    walk.check("print-job")

    assert len(walk.seen) == 22
    assert not walk.problems, "\n".join(walk.problems)
