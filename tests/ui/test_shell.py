"""The handheld shell in a real browser: login, the wedge scanner, feedback, the offline outbox."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import text

pytestmark = pytest.mark.live


def test_login_badge_scan_and_pin_opens_menu_for_roles(handheld):
    """A scanned badge plus PIN logs in; the menu offers only the operator's tasks."""
    handheld.login("EDB_PH101", ("picker",))
    expect(handheld.page.locator("#task-pick")).to_be_visible()
    expect(handheld.page.locator("#task-lookup")).to_be_visible()
    expect(handheld.page.locator("#task-verify")).to_have_count(0)
    expect(handheld.page.locator("#who")).to_contain_text("EDB_PH101")
    token = handheld.page.evaluate("() => sessionStorage.getItem('wms.token')")
    assert token and handheld.page.evaluate("() => document.cookie") == ""


def test_login_wrong_pin_shows_server_error_and_stays(handheld):
    """A wrong PIN stays on the login screen with the gateway's bad_credentials message in red."""
    handheld.floor.add_operator("EDB_PH102", ("picker",), pin="1234")
    handheld.open("/")
    handheld.scan("EDB_PH102")
    handheld.page.locator("#pin").fill("0000")
    handheld.page.locator("#login").tap()
    handheld.message("error")
    handheld.state("login", "badge")
    assert handheld.page.evaluate("() => sessionStorage.getItem('wms.token')") is None


def test_language_switch_is_stored_for_the_operator(handheld, engine):
    """The language toggle relabels the screen and PATCHes the operator's language."""
    handheld.login("EDB_PH103", ("picker",), lang="en")
    expect(handheld.page.locator("h1")).to_have_text("Tasks")
    handheld.page.locator("#lang").tap()
    expect(handheld.page.locator("h1")).to_have_text("作业")
    expect(handheld.page.locator("html")).to_have_attribute("lang", "zh-CN")
    with engine.connect() as conn:
        lang = conn.execute(text("SELECT lang FROM gateway.operators WHERE badge = 'EDB_PH103'")).scalar()
    assert lang == "zh-CN"


def test_scanner_burst_is_taken_out_of_the_field_typing_stays(handheld):
    """A burst landing in the PIN field is a scan (badge), slow typing there stays the PIN."""
    handheld.open("/")
    pin = handheld.page.locator("#pin")
    pin.focus()
    handheld.type_slowly("4321")
    expect(pin).to_have_value("4321")
    handheld.scan("EDB_PH104")
    expect(handheld.page.locator("#badge")).to_have_value("EDB_PH104")
    expect(handheld.page.locator("#pin")).to_have_value("")
    handheld.message("ok")


def test_slow_typing_in_another_field_then_enter_is_not_a_scan(handheld):
    """Typing by hand in a field and pressing Enter is not taken for a scan."""
    handheld.open("/")
    badge = handheld.page.locator("#badge")
    badge.focus()
    handheld.type_slowly("EDB")
    handheld.page.keyboard.press("Enter")
    expect(badge).to_have_value("EDB")
    expect(handheld.page.locator("#message")).not_to_have_attribute("data-kind", "ok")


@pytest.mark.parametrize("pieces", [("EDB_", "PH130"), ("EDB_", "P", "H131")], ids=["one stall", "two stalls"])
def test_burst_with_stalls_is_still_one_scan(handheld, pieces):
    """A busy handheld's scanner may stall once mid-code, or on two keys running: still one scan, not
    typing. Three slow gaps in a row are typing (the PIN test above)."""
    handheld.open("/")
    handheld.page.locator("#pin").focus()  # not the scan field, which keeps all it was typed
    for piece in pieces[:-1]:
        handheld.page.keyboard.type(piece, delay=5)
        handheld.page.wait_for_timeout(250)
    handheld.scan(pieces[-1])
    expect(handheld.page.locator("#badge")).to_have_value("".join(pieces))
    expect(handheld.page.locator("#pin")).to_have_value("")
    handheld.message("ok")


def test_scan_with_focus_on_a_button_is_not_lost(handheld):
    """Keys arriving while a button has the focus are still read as one scan."""
    handheld.open("/")
    handheld.page.locator("#lang").focus()
    handheld.scan("EDB_PH105")
    expect(handheld.page.locator("#badge")).to_have_value("EDB_PH105")


def test_aim_prefix_is_stripped_and_gs_kept(handheld):
    """]C1 and friends are stripped and reported as the symbology; the GS separator survives."""
    handheld.open("/")
    handheld.scan("]C0EDB_PH106")
    expect(handheld.page.locator("#badge")).to_have_value("EDB_PH106")
    parsed = handheld.page.evaluate(
        "() => import('/ui/js/scanner.js').then(m => ["
        "m.parseScan(']d20106901234567892\\u001d10LOT7'), m.parseScan(']E06901234567892'),"
        "m.parseScan('6901234567892')])")
    assert parsed[0] == {"code": "0106901234567892\x1d10LOT7", "symbology": "d2", "gs1": True}
    assert parsed[1] == {"code": "6901234567892", "symbology": "E0", "gs1": False}
    assert parsed[2] == {"code": "6901234567892", "symbology": None, "gs1": False}


def test_repeat_of_same_code_within_window_is_ignored(handheld):
    """The same badge read twice within 800 ms is a double read: an amber warning, not a second scan.

    The page's clock stands still while the keys arrive, as a scanner's would seem to: on a loaded
    machine the browser's keys can come more than 100 ms apart, which is no scanner's burst.
    """
    handheld.open("/")
    clock = handheld.page.clock
    clock.pause_at(handheld.page.evaluate("Date.now()") + 1_000)
    handheld.scan("EDB_PH107")
    handheld.scan("EDB_PH107")
    handheld.message("warn")
    expect(handheld.page.locator("#badge")).to_have_value("EDB_PH107")
    clock.run_for(900)
    handheld.scan("EDB_PH107")
    handheld.message("ok")


def test_feedback_flash_text_and_aria_live(handheld):
    """A scan flashes the whole screen, writes a big line and says it in an aria-live region."""
    handheld.open("/")
    handheld.scan("EDB_PH108")
    flash = handheld.page.locator("#flash")
    expect(flash).to_have_attribute("data-kind", "ok")
    box = flash.bounding_box()
    assert box and box["width"] >= 360 and box["height"] >= 640
    expect(handheld.page.locator("#live-polite")).to_contain_text("EDB_PH108")
    expect(flash).to_be_hidden(timeout=3000)
    expect(handheld.page.locator("#message")).to_contain_text("EDB_PH108")


def test_scan_field_keeps_focus_and_opens_no_keyboard(handheld):
    """After a tap the scan field takes the focus back; it asks for no soft keyboard."""
    handheld.login("EDB_PH109", ("picker",))
    expect(handheld.page.locator("#scan")).to_have_attribute("inputmode", "none")
    handheld.page.locator("#lang").tap()
    expect(handheld.page.locator("#scan")).to_be_focused()


def test_outbox_keeps_posts_offline_and_replays_in_order_once(handheld, engine):
    """Two POSTs made offline wait in IndexedDB, show a counter, and reach the server once each, in order."""
    handheld.login("EDB_SM110", ("stock_manager",))
    page = handheld.page
    handheld.context.set_offline(True)
    queued = page.evaluate("""async () => {
        const outbox = await import('/ui/js/outbox.js');
        const a = await outbox.send('/api/stock/skus', {sku: 'OFF-1', name: 'first', barcodes: ['6901234567892']});
        const b = await outbox.send('/api/stock/skus', {sku: 'OFF-2', name: 'second', barcodes: []});
        return [a, b, (await outbox.entries()).map(e => [e.body.sku, e.key.length])];
    }""")
    assert queued[0] == queued[1] == {"queued": True}
    assert queued[2] == [["OFF-1", 36], ["OFF-2", 36]]
    expect(page.locator("#outbox-count")).to_have_attribute("data-count", "2")
    expect(page.locator("#outbox-count")).to_be_visible()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.skus")).scalar() == 0
    handheld.context.set_offline(False)
    expect(page.locator("#outbox-count")).to_have_attribute("data-count", "0", timeout=15_000)
    expect(page.locator("#outbox-count")).to_be_hidden()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT sku FROM stock.skus ORDER BY created_at")).scalars().all()
    assert rows == ["OFF-1", "OFF-2"]


def test_outbox_answer_lost_after_server_acted_is_not_doubled(handheld, engine):
    """The server creates the SKU but the answer never arrives: the replay with the same key creates nothing more."""
    handheld.login("EDB_SM111", ("stock_manager",))
    page = handheld.page
    reached = []

    def lose_answer(route):
        reached.append(route.request.headers.get("idempotency-key"))
        route.fetch()
        route.abort("connectionreset")

    page.route("**/api/stock/skus", lose_answer, times=1)
    first = page.evaluate("""() => import('/ui/js/outbox.js').then(o =>
        o.send('/api/stock/skus', {sku: 'LOST-1', name: 'lost answer', barcodes: []}))""")
    assert first == {"queued": True}
    expect(page.locator("#outbox-count")).to_have_attribute("data-count", "0", timeout=15_000)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.skus WHERE sku = 'LOST-1'")).scalar() == 1
    assert len(reached) == 1 and len(reached[0]) == 36


def test_service_worker_serves_the_shell_offline(handheld):
    """Once the service worker is active, the app shell loads with the network gone."""
    handheld.open("/")
    handheld.page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    handheld.page.reload(wait_until="networkidle")  # now controlled by the worker, which caches what it serves
    assert handheld.page.evaluate("() => navigator.serviceWorker.controller !== null")
    handheld.context.set_offline(True)
    handheld.page.reload()
    handheld.state("login", "badge")
    handheld.scan("EDB_PH120")
    expect(handheld.page.locator("#badge")).to_have_value("EDB_PH120")


def test_camera_fallback_reads_a_label_with_the_self_hosted_wasm(handheld, floor):
    """The barcode-detector polyfill, with ZXing's WASM served by the gateway, reads an EAN-13 label image."""
    handheld.login("EDB_TM121", ("labeler",))
    requests_seen: list[str] = []
    handheld.page.on("request", lambda r: requests_seen.append(r.url))
    codes = handheld.page.evaluate("""async () => {
        const camera = await import('/ui/js/camera.js');
        const found = await camera.detector();
        const answer = await fetch('/api/print/preview', {method: 'POST', headers: {
            'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID(),
            Authorization: 'Bearer ' + sessionStorage.getItem('wms.token')},
          body: JSON.stringify({template: 'sku', dpi: 203, width_mm: 60, height_mm: 40,
            data: {sku: 'MUG-01', name: 'Mug', spec: '', barcode: '6901234567809'}})});
        if (!answer.ok) return ['preview ' + answer.status + ' ' + await answer.text()];
        const image = await createImageBitmap(await answer.blob());
        return (await found.detect(image)).map(c => c.rawValue);
    }""")
    assert "6901234567809" in codes, codes
    assert any(url.endswith("/ui/vendor/zxing_reader.wasm") for url in requests_seen)
    assert all(url.startswith(floor.base) for url in requests_seen)
