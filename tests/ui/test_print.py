"""Printing a label from the handheld until a printer has it (a file spool printer in a tmp dir)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from rq import SimpleWorker

from print_service import jobs
from tests.ui.stockroom import post

pytestmark = pytest.mark.live


def test_print_location_label_reaches_the_printer(handheld, floor, redis_conn, tmp_path):
    """A labeler scans a bin, asks two copies, prints; the job's state follows until the spool has the ZPL."""
    spool = tmp_path / "spool"
    spool.mkdir()
    boss = floor.login("supervisor", badge="EDB_ZG300")
    post(boss, floor, "/api/print/printers", {"name": "spool-1", "uri": f"file://{spool}", "dpi": 203,
                                              "width_mm": 60, "height_mm": 40, "location": "receiving"}, 201)
    handheld.login("EDB_TM301", ("labeler",))
    handheld.task("print")
    page = handheld.page
    expect(page.locator("#print-printer option")).to_have_count(1)
    page.locator("#print-template").select_option("location")
    handheld.scan("A-09-01-01")
    expect(page.locator("#print-data")).to_contain_text("A-09-01-01")
    page.locator("#print-copies").fill("2")
    handheld.shot("print-label")
    page.locator("#print-go").tap()
    handheld.state("print", "job")
    expect(page.locator("#job-state")).to_have_attribute("data-state", "queued")
    # The print worker, run here until its queue is empty; the page keeps polling the job meanwhile.
    SimpleWorker(jobs.printer_queues(redis_conn), connection=redis_conn).work(burst=True)
    expect(page.locator("#job-state")).to_have_attribute("data-state", "sent", timeout=15_000)
    handheld.shot("print-job")
    files = [p for p in spool.iterdir() if not p.name.startswith(".")]
    assert len(files) == 1
    zpl = files[0].read_bytes()
    assert b"A-09-01-01" in zpl and b"^PQ2" in zpl
