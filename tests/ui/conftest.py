"""Browser fixtures: Debian's chromium driven by Playwright, launched once per test worker."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from common.testing import Floor

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE = {"width": 360, "height": 640}
SMALL_PHONE = {"width": 320, "height": 533}

expect.set_options(timeout=10_000)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One chromium per test worker while it runs the UI tests; every test gets its own context.

    Package scope, not session: Playwright's sync API keeps an event loop running in the thread while
    the browser is open, and a test run after the UI tests that calls asyncio.run (bench/) would fail.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make test` installs it (make system-packages)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Handheld:
    """A phone in an operator's hand: scans as a keyboard wedge does, taps, takes screenshots."""

    def __init__(self, page: Page, context: BrowserContext, floor: Floor):
        self.page = page
        self.context = context
        self.floor = floor
        self.console_errors: list[str] = []
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console_errors.append(str(e)))

    def open(self, path: str = "/") -> None:
        self.page.goto(self.floor.url(path), wait_until="networkidle")
        expect(self.page.locator("body[data-flow]")).to_be_visible()
        # The service worker caches the shell right after the first load: let it finish, so the keys
        # of a scan are not held up behind that work.
        self.page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")

    def scan(self, code: str) -> None:
        """A scanner burst: keys a few ms apart, then Enter, wherever the focus is.

        One call types the Enter too ("\n" is the Enter key), so it follows the last key as a
        scanner's does, not after another round trip from the test.
        """
        self.page.keyboard.type(code + "\n", delay=5)

    def type_slowly(self, text: str) -> None:
        """A person typing: well over 100 ms between keys."""
        self.page.keyboard.type(text, delay=160)

    def state(self, flow: str, state: str) -> None:
        expect(self.page.locator("body")).to_have_attribute("data-flow", flow)
        expect(self.page.locator("body")).to_have_attribute("data-state", state)

    def message(self, kind: str) -> None:
        expect(self.page.locator("#message")).to_have_attribute("data-kind", kind)

    def login(self, badge: str, roles: tuple[str, ...], lang: str = "en", pin: str = "1234") -> None:
        self.floor.add_operator(badge, roles, pin=pin, lang=lang, name=f"Op {badge[-3:]}")
        self.open("/")
        self.state("login", "badge")
        self.scan(badge)
        expect(self.page.locator("#badge")).to_have_value(badge)
        self.page.locator("#pin").fill(pin)
        self.page.locator("#login").tap()
        self.state("menu", "choose")

    def task(self, name: str) -> None:
        self.page.locator(f"#task-{name}").tap()
        self.state(name, self.page.evaluate("() => document.body.dataset.state"))

    def shot(self, name: str) -> Path:
        """Save a screenshot under test-artifacts/screenshots/<lang>/<name>.png."""
        lang = self.page.evaluate("() => document.documentElement.lang") or "unknown"
        path = SCREENSHOTS / lang / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_timeout(50)
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def phones(browser: Browser, floor: Floor) -> Iterator:
    """phones(viewport=..., **context options) → a new Handheld; all are closed after the test."""
    made: list[Handheld] = []

    def make(viewport: dict[str, int] = PHONE, **options) -> Handheld:
        context = browser.new_context(viewport=viewport, has_touch=True, is_mobile=True, locale="en-US",
                                      timezone_id="Asia/Shanghai", service_workers="allow", **options)
        device = Handheld(context.new_page(), context, floor)
        made.append(device)
        return device

    yield make
    for device in made:
        device.context.close()
    errors = [e for d in made for e in d.console_errors if "Failed to load resource" not in e]
    assert not errors, errors


@pytest.fixture
def handheld(phones) -> Handheld:
    """A 360x640 touch phone pointed at the live gateway."""
    return phones()
