"""SIGTERM is a goodbye, not a kill: gunicorn finishes its in-flight requests, the worker its running job."""
from __future__ import annotations

import signal
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import text

from common.testing import wait_for
from tests.faults.conftest import signal_tree
from tests.faults.test_shipping_faults import outbox
from tests.print_service.fake_printer import FakePrinter
from tests.scan_service.floorkit import call, movements, ok, stock_up
from tests.scan_service.test_flow_live import ORDER, SF, pick_all, verify_all

# One xdist worker runs the whole faults suite: a second copy of its stack would only cost time.
pytestmark = [pytest.mark.live, pytest.mark.xdist_group("faults")]


def waiting_on_lock(engine, application: str) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app AND wait_event_type = 'Lock'"),
            {"app": application}).scalar())


@pytest.mark.parametrize("service", ["stock", "gateway"])
def test_faults_sigterm_gunicorn_finishes_in_flight_request(fresh, floor, service):
    """A request held up in stock_service when its (or the gateway's) gunicorn gets SIGTERM still answers 201."""
    manager = floor.login("stock_manager", badge="EDB_KG001")
    answers: list[requests.Response] = []
    with fresh.engine.connect() as blocker:
        # Hold the SKU table so the request is mid-flight, inside stock_service, when the signal comes.
        blocker.execute(text("LOCK TABLE stock.skus IN SHARE ROW EXCLUSIVE MODE"))
        thread = threading.Thread(target=lambda: answers.append(call(
            manager, floor, "POST", "/api/stock/skus", {"sku": "SLOW-1", "name": "慢"})))
        thread.start()
        wait_for(lambda: answers or waiting_on_lock(fresh.engine, "stock"), 10)
        assert not answers, answers[0].text
        proc = fresh.live.procs[service]
        proc.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert proc.poll() is None, "gunicorn left before its request finished"
        blocker.rollback()
    thread.join(timeout=20)
    [answer] = answers
    assert answer.status_code == 201, answer.text
    assert proc.wait(timeout=20) == 0
    with fresh.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.skus WHERE sku = 'SLOW-1'")).scalar() == 1


def test_faults_sigterm_worker_finishes_running_delivery(fresh, floor, workers):
    """SIGTERM to the worker while a shipment delivery waits on stock_service: the delivery finishes, once."""
    stock_up(floor)
    supervisor = floor.login("supervisor", badge="EDB_ZG001")
    picker, verifier = floor.login("picker", badge="EDB_PH001"), floor.login("verifier", badge="EDB_YH001")
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick_all(floor, picker, [SF])
    check = verify_all(floor, verifier)
    ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"))
    stock_pid = fresh.live.procs["stock"].pid
    signal_tree(stock_pid, signal.SIGSTOP)
    try:
        [worker] = workers.start(1)
        wait_for(lambda: fresh.redis.zcard("rq:wip:shipping"), 20)
        time.sleep(0.5)
        worker.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert worker.poll() is None, "the worker left its running job"
    finally:
        signal_tree(stock_pid, signal.SIGCONT)
    assert worker.wait(timeout=30) == 0
    [delivered] = outbox(supervisor, floor, "delivered")
    assert delivered["attempts"] == 1 and not outbox(supervisor, floor, "pending")
    assert sum(m["qty"] for m in movements(supervisor, floor, "MUG-01", "ship")) == 1


def test_faults_sigterm_worker_finishes_label_being_sent(floor, workers):
    """SIGTERM to the worker while a printer is slow to answer: the label is sent once before it exits."""
    boss, labeler = floor.login("supervisor"), floor.login("labeler")
    printer = FakePrinter()
    try:
        printer.answer_delay = 60
        made = boss.post(floor.url("/api/print/printers"), json={"name": "zebra-slow", "uri": printer.uri}, timeout=10)
        assert made.status_code == 201, made.text
        workers.env["PRINT_SOCKET_TIMEOUT"] = "30"
        [worker] = workers.start(1)
        job = labeler.post(floor.url("/api/print/jobs"), headers={"Idempotency-Key": str(uuid.uuid4())},
                           json={"printer": "zebra-slow", "template": "location", "data": {"code": "A-11-01"}},
                           timeout=10).json()
        wait_for(lambda: printer.status_queries, 20)
        worker.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert worker.poll() is None, "the worker left its running job"
        printer.answer_delay = 0
        assert worker.wait(timeout=30) == 0
        sent = labeler.get(floor.url(f"/api/print/jobs/{job['id']}"), timeout=10).json()
        zpl = labeler.get(floor.url(f"/api/print/jobs/{job['id']}/zpl"), timeout=10).content
        assert (sent["state"], sent["attempts"]) == ("sent", 1)
        assert printer.labels() == [zpl]
    finally:
        printer.close()
