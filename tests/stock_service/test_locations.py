"""Well-known locations made on first use: two first uses at once make one row, and both read it."""
import threading
import time

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from common import db
from stock_service.domain import stock


def test_first_use_racing_an_uncommitted_first_use_reads_the_row_it_made(engine, clean):
    """Ours waits on the other's uncommitted insert; once it commits, ours answers that row's kind."""
    found: dict[str, str] = {}
    work = db.Unit(sessionmaker(bind=engine))
    with engine.connect() as other:
        other.execute(text("INSERT INTO stock.locations (code, kind, zone, sequence, allow_negative) "
                           "VALUES ('BK-RACE', 'basket', '', 0, false)"))
        racer = threading.Thread(target=lambda: found.update(kind=stock.ensure_location(work, "BK-RACE", "basket")))
        racer.start()
        time.sleep(0.5)  # ours is now waiting on the other's row
        assert "kind" not in found
        other.commit()
        racer.join(10)
    work.commit()
    work.close()
    assert found == {"kind": "basket"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.locations WHERE code = 'BK-RACE'")).scalar() == 1


def test_first_use_makes_the_location_and_a_second_reads_its_kind(engine, clean):
    work = db.Unit(sessionmaker(bind=engine))
    assert stock.ensure_location(work, "RETURNS", "returns") == "returns"
    assert stock.ensure_location(work, "RETURNS", "basket") == "returns"  # made once, as it was first made
    work.commit()
    work.close()
