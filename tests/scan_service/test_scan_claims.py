"""A scan reads its pick (or check) unlocked and claims the version it read; every other change moves it."""
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from common import db
from common.testing import statements, wait_for
from scan_service.domain import picking, scanrows, verify
from tests.scan_service.conftest import count, post

ITEM = "6901234567892"  # TS-1's barcode, in the walk and in the check


def pick_scan(client, walk: int, code: str):
    return post(client, f"/api/scan/picks/{walk}/scan", {"code": code})


def check_scan(client, check: int, code: str):
    return post(client, f"/api/scan/verifications/{check}/scan", {"code": code, "qty": 1})


def version(engine, table: str, id_: int) -> int:
    return count(engine, f"SELECT version FROM scan.{table} WHERE id = :id", id=id_)  # noqa: S608 - fixed names


def test_a_scan_is_one_read_and_one_write(scan, engine, walk, check):
    """No lock, no BEGIN, no COMMIT: the walk read, then its counts, journal line and key as one statement."""
    picker, verifier = scan("picker", badge="EDB_PH001"), scan("verifier", badge="EDB_YH001")
    assert pick_scan(picker, walk, "A-01-01-01").get_json()["result"] == "ok"
    with statements() as sent:
        assert pick_scan(picker, walk, ITEM).get_json()["result"] == "ok"
        assert check_scan(verifier, check, ITEM).get_json()["result"] == "ok"
    assert len(sent) == 4
    assert count(engine, "SELECT picked FROM scan.pick_tasks WHERE pick_id = :id AND seq = 1", id=walk) == 1
    assert count(engine, "SELECT scanned FROM scan.verification_lines WHERE verification_id = :id AND sku = 'TS-1'",
                 id=check) == 1
    assert (version(engine, "picks", walk), version(engine, "verifications", check)) == (2, 1)


@pytest.mark.parametrize(("kind", "table", "rival_write"), [
    ("pick", "picks", "UPDATE scan.pick_tasks SET picked = 3 WHERE pick_id = %(id)s AND seq = 1"),
    ("check", "verifications",
     "UPDATE scan.verification_lines SET scanned = 3 WHERE verification_id = %(id)s AND sku = 'TS-1'"),
])
def test_a_scan_that_lost_its_claim_runs_again_on_what_the_rival_left(scan, engine, walk, check, kind, table,
                                                                      rival_write):
    """A rival counts all three units while the scan waits to claim: the scan is refused, not counted a fourth
    time, and its first try's journal line is gone with its claim."""
    if kind == "pick":
        client, id_, send = scan("picker", badge="EDB_PH001"), walk, pick_scan
        send(client, id_, "A-01-01-01")
    else:
        client, id_, send = scan("verifier", badge="EDB_YH001"), check, check_scan
    rival = engine.raw_connection()
    try:
        rows = rival.cursor()
        rows.execute(f"SELECT 1 FROM scan.{table} WHERE id = %(id)s FOR UPDATE", {"id": id_})  # noqa: S608
        with ThreadPoolExecutor(1) as pool:
            scanning = pool.submit(send, client, id_, ITEM)
            wait_for(lambda: _waiting_to_claim(engine, kind))  # read unlocked, now blocked on its claim
            rows.execute(rival_write, {"id": id_})
            rows.execute(f"UPDATE scan.{table} SET version = version + 1 WHERE id = %(id)s", {"id": id_})  # noqa: S608
            rival.commit()
            answer = scanning.result(timeout=20)
    finally:
        rival.close()
    assert answer.status_code == 200 and answer.get_json()["result"] == "over_qty"
    counted = ("SELECT picked FROM scan.pick_tasks WHERE pick_id = :id AND seq = 1" if kind == "pick" else
               "SELECT scanned FROM scan.verification_lines WHERE verification_id = :id AND sku = 'TS-1'")
    assert count(engine, counted, id=id_) == 3
    with engine.connect() as conn:
        results = conn.execute(text(f"SELECT result FROM scan.events WHERE {kind if kind == 'pick' else 'verification'}"
                                    "_id = :id AND code = :code"), {"id": id_, "code": ITEM}).scalars().all()
    assert results == ["over_qty"]


def _waiting_to_claim(engine, kind: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND query LIKE :claim"), {"claim": f"%claim_{kind}%"}).scalar() > 0


def test_every_change_to_a_pick_moves_its_version(engine, walk):
    """A shortage (the ORM) and a completion move it, so a scan that read before either claims in vain."""
    sessions = sessionmaker(bind=engine)
    with db.standalone(sessions) as s:
        picking.get(s, walk, lock=True).tasks[0].short = 1
    assert version(engine, "picks", walk) == 1
    with db.standalone(sessions) as s:
        scanrows.close_pick(s, walk, "short", {})
    assert version(engine, "picks", walk) == 2
    with db.standalone(sessions) as s:
        assert picking.get(s, walk).version == 2  # a read alone moves nothing


def test_every_change_to_a_check_moves_its_version(engine, check):
    sessions = sessionmaker(bind=engine)
    with db.standalone(sessions) as s:
        verify.get(s, check, lock=True).state = "short"
    assert version(engine, "verifications", check) == 1
    with db.standalone(sessions) as s:
        scanrows.ship_check(s, scanrows.read_check(s, check), [])
    assert version(engine, "verifications", check) == 2
