"""PostgreSQL restarted while handhelds scan: a clear 503, then service again, no half-written movement."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import text

from common.testing import assert_error
from tests.faults.conftest import ledger_matches_balances
from tests.scan_service.floorkit import call, ok, on_hand, stock_up

# One xdist worker runs the whole faults suite: a second copy of its stack would only cost time.
pytestmark = [pytest.mark.live, pytest.mark.xdist_group("faults")]
HANDHELDS = 4
HOME, SPARE = "A-01-01-01", "A-09-01-01"


def test_faults_postgres_restart_mid_scans_503_then_ok_ledger_whole(fresh, floor):
    """Moves scanned on four handhelds across a PostgreSQL restart: failures are 503 JSON, retries land once."""
    stock_up(floor)
    manager = floor.login("stock_manager", badge="EDB_KG001")
    ok(call(manager, floor, "POST", "/api/stock/locations", {"code": SPARE, "kind": "bin", "zone": "A",
                                                             "sequence": 1090}))
    stop = threading.Event()
    statuses: Counter = Counter()
    refused: list = []
    done: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def move(http, key: str, source: str, target: str) -> None:
        """One scanned move, re-sent with the same key until it lands, as the handheld does."""
        body = {"sku": "MUG-01", "qty": 1, "from": source, "to": target}
        deadline = time.monotonic() + 30
        while True:
            answer = call(http, floor, "POST", "/api/stock/moves", body, key=key)
            with lock:
                statuses[answer.status_code] += 1
            if answer.status_code == 201:
                with lock:
                    done.append(key)
                return
            with lock:
                refused.append(answer)
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.1)

    def handheld(http) -> None:
        try:
            i = 0
            while not stop.is_set():
                # Out to the spare bin and back: a unit is never moved that is not there.
                move(http, f"{http.badge}-{i}-out", HOME, SPARE)
                move(http, f"{http.badge}-{i}-back", SPARE, HOME)
                i += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    sessions = [floor.login("stock_manager", badge=f"EDB_KG10{n}", device=f"HH-{n:02d}") for n in range(HANDHELDS)]
    threads = [threading.Thread(target=handheld, args=(http,)) for http in sessions]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    fresh.restart_postgres()
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert refused, "no request met the restart: the fault was not exercised"
    for answer in refused:
        assert_error(answer, 503, "database_unavailable")
    assert set(statuses) == {201, 503}
    with fresh.engine.connect() as conn:
        moves = conn.execute(text(
            "SELECT idempotency_key, count(*) FROM stock.movements WHERE type = 'move' GROUP BY 1")).all()
    assert sorted(key for key, _ in moves) == sorted(done), "a move lost or invented"
    assert all(n == 1 for _, n in moves), "a move written twice"
    assert ledger_matches_balances(fresh.engine) == []
    assert on_hand(manager, floor, "MUG-01") == {HOME: 10}
