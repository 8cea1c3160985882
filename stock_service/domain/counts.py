"""Blind cycle counts: counters never see the expected quantity; variances are approved one by one.

The expected quantity of a (bin, SKU) is the balance at the bin's first scan (the snapshot) plus
every movement on that bin and SKU written after it, so a pick during the count is no variance.
A variance over the threshold is recounted by a different person; only an approval writes stock
(one `adjust` movement); a rejection leaves it untouched.

An entry is a counter's every scan, so it runs as plain SQL on the unit's psycopg cursor: loading
and flushing the Count, CountBin and CountLine objects cost several times the statements. Two
statements per entry (lock the count and resolve the code; add to the line), three on a bin's
first scan (lock and resolve; claim the bin and lock its balances; freeze them with the entry).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common import db
from common.errors import ConflictError, InvalidInputError, NotFoundError
from stock_service.domain import barcodes, ledger, paging
from stock_service.domain.ledger import Move
from stock_service.models import Balance, Count, CountBin, CountLine, Location

REASONS = ("lost", "damaged", "found", "mis_pick", "receiving_error", "other")
STATES = ("open", "recount", "submitted", "closed")


def open_count(s: Session, actor: Any, *, locations: list[str] | None = None,
               skus_: list[str] | None = None) -> Count:
    """Open a count of some bins, or of every bin holding some SKUs."""
    if bool(locations) == bool(skus_):
        raise InvalidInputError(details={"locations": "give either locations or skus"})
    if locations:
        for index, code in enumerate(locations):
            ledger.location(s, code, f"locations.{index}")
        bins = list(dict.fromkeys(locations))
    else:
        for index, code in enumerate(skus_):
            ledger.sku(s, code, f"skus.{index}")
        bins = list(s.scalars(select(Balance.location).join(Location, Location.code == Balance.location)
                              .where(Balance.sku.in_(skus_), Balance.qty != 0, Location.kind == "bin")
                              .group_by(Balance.location).order_by(Balance.location)))
        if not bins:
            raise ConflictError(code="nothing_to_count", details={"skus": skus_})
    count = Count(state="open", locations=bins, skus=list(dict.fromkeys(skus_)) if skus_ else None,
                  created_by=actor.badge)
    s.add(count)
    s.flush()
    return count


def get(s: Session, count_id: int, lock: bool = False) -> Count:
    stmt = select(Count).where(Count.id == count_id)
    count = s.scalar(stmt.with_for_update() if lock else stmt)
    if count is None:
        raise NotFoundError(code="unknown_count", details={"id": count_id})
    return count


def list_counts(s: Session, state: str | None, limit: int, cursor: str | None):
    stmt = select(Count)
    if state:
        stmt = stmt.where(Count.state == state)
    return paging.page(s, stmt, Count.id, limit, cursor)


def _snapshot(s: Session, count: Count, location: str) -> None:
    """Freeze the bin's expected quantities at its first scan (after in-flight movements on it commit)."""
    if s.get(CountBin, (count.id, location)) is not None:
        return
    stmt = select(Balance).where(Balance.location == location).order_by(Balance.sku, Balance.lot)
    rows = s.scalars(stmt.with_for_update().execution_options(populate_existing=True)).all()
    mark = ledger.last_movement_id(s)
    s.add(CountBin(count_id=count.id, location=location, snapshot_movement_id=mark))
    per_sku: dict[str, int] = {}
    for b in rows:
        if count.skus is None or b.sku in count.skus:
            per_sku[b.sku] = per_sku.get(b.sku, 0) + b.qty
    for sku, qty in per_sku.items():
        if qty != 0:
            s.add(CountLine(count_id=count.id, location=location, sku=sku, snapshot_qty=qty, counted=0,
                            state="open"))
    s.flush()


# The count locked (entries of one count wait for each other), whether its bin was seen, and the SKU the
# code names as barcodes.resolve finds it: the owner of a barcode in any GTIN form, else the SKU of that code.
# The bin test reads this statement's snapshot, taken before the lock was granted: a bin claimed by the
# entry we waited for reads as unseen, and _CLAIM finds it taken. A bin seen is never unseen again.
_LOCK = f"""
SELECT c.state, c.locations, c.skus,
       EXISTS (SELECT FROM stock.count_bins b WHERE b.count_id = c.id AND b.location = %(location)s),
       item.sku, item.name
FROM stock.counts c
LEFT JOIN stock.skus item ON item.sku = {barcodes.CODE_TO_SKU}
WHERE c.id = %(count_id)s
FOR UPDATE OF c
"""  # noqa: S608 - a constant fragment; the values are parameters
# A bin's first scan claims it (its mark is set by _SNAPSHOT) and locks its balance rows in (sku, lot) order,
# as the ledger does, so the movements in flight on the bin commit first. Nothing is locked when another
# entry claimed it first.
_CLAIM = """
WITH made AS (
  INSERT INTO stock.count_bins (count_id, location, snapshot_movement_id) VALUES (%(count_id)s, %(location)s, 0)
  ON CONFLICT DO NOTHING RETURNING location),
locked AS (
  SELECT b.id FROM stock.balances b WHERE b.location = %(location)s AND EXISTS (SELECT FROM made)
  ORDER BY b.sku, b.lot FOR UPDATE OF b)
SELECT EXISTS (SELECT FROM made), (SELECT count(*) FROM locked)
"""
# Then, in a statement of its own so that it sees what those movements wrote: the ledger's position, one line
# per SKU with a non-zero quantity (of the count's SKUs when it names some), and the scanned one's entry.
# The scanned SKU's line comes last when the bin held none of it.
_SNAPSHOT = """
WITH mark AS (
  UPDATE stock.count_bins SET snapshot_movement_id = (SELECT coalesce(max(id), 0) FROM stock.movements)
  WHERE count_id = %(count_id)s AND location = %(location)s),
held AS (
  SELECT sku, sum(qty) AS qty FROM stock.balances
  WHERE location = %(location)s AND (%(skus)s::text[] IS NULL OR sku = ANY(%(skus)s::text[]))
  GROUP BY sku HAVING sum(qty) <> 0),
lines AS (
  INSERT INTO stock.count_lines (count_id, location, sku, snapshot_qty, counted, counted_by, state)
  SELECT %(count_id)s, %(location)s, sku, coalesce(held.qty, 0), CASE WHEN sku = %(sku)s THEN %(qty)s ELSE 0 END,
         CASE WHEN sku = %(sku)s THEN %(badge)s END, 'open'
  FROM held FULL JOIN (VALUES (%(sku)s::text)) AS scanned(sku) USING (sku)
  ORDER BY held.sku IS NULL, sku
  RETURNING id, sku, counted)
SELECT id, counted FROM lines WHERE sku = %(sku)s
"""
# A scan of a bin already seen: add to its line, made when the bin held none of the SKU.
_ADD = """
INSERT INTO stock.count_lines AS l (count_id, location, sku, snapshot_qty, counted, counted_by, state)
VALUES (%(count_id)s, %(location)s, %(sku)s, 0, %(qty)s, %(badge)s, 'open')
ON CONFLICT (count_id, location, sku) DO UPDATE
SET counted = l.counted + EXCLUDED.counted, counted_by = coalesce(nullif(l.counted_by, ''), EXCLUDED.counted_by)
RETURNING id, counted
"""
_RECOUNT = """
UPDATE stock.count_lines SET recounted = coalesce(recounted, 0) + %(qty)s, recounted_by = %(badge)s
WHERE count_id = %(count_id)s AND location = %(location)s AND sku = %(sku)s AND state = 'recount'
  AND counted_by IS DISTINCT FROM %(badge)s
RETURNING id, recounted
"""
# Why a recount entry changed nothing: no line in recount, or the line's first counter scanning it again.
_LINE = ("SELECT state, counted_by FROM stock.count_lines "
         "WHERE count_id = %(count_id)s AND location = %(location)s AND sku = %(sku)s")


def enter(rows: db.Rows, actor: Any, count_id: int, *, location: str, code: str, qty: int) -> dict[str, Any]:
    """A counter's scan of units in a bin; the answer never carries the expected quantity."""
    if isinstance(rows, Session):
        rows.flush()  # the caller's pending rows first: the statements below read the tables
    cur = db.cursor(rows)
    params = {"count_id": count_id, "location": location, "forms": barcodes.candidates(code), "code": code}
    found = cur.execute(_LOCK, params).fetchone()
    if found is None:
        raise NotFoundError(code="unknown_count", details={"id": count_id})
    state, locations, count_skus, seen, sku, name = found
    if state not in ("open", "recount"):
        raise ConflictError(code="count_not_open", details={"id": count_id, "state": state})
    if location not in locations:
        raise ConflictError(code="location_not_in_count", details={"location": location})
    if sku is None:
        raise NotFoundError(code="unknown_code", details={"code": code})
    if count_skus is not None and sku not in count_skus:
        raise ConflictError(code="sku_not_in_count", details={"code": code, "sku": sku})
    params = {"count_id": count_id, "location": location, "sku": sku, "qty": qty, "badge": actor.badge}
    if state == "open":
        if not seen and cur.execute(_CLAIM, params).fetchone()[0]:
            line_id, counted = cur.execute(_SNAPSHOT, params | {"skus": count_skus}).fetchone()
        else:
            line_id, counted = cur.execute(_ADD, params).fetchone()
    else:
        done = cur.execute(_RECOUNT, params).fetchone()
        if done is None:
            line = cur.execute(_LINE, params).fetchone()
            if line is None or line[0] != "recount":
                raise ConflictError(code="not_in_recount", details={"location": location, "sku": sku})
            raise ConflictError(code="recount_needs_another_counter",
                                details={"location": location, "sku": sku, "counted_by": line[1]})
        line_id, counted = done
    if isinstance(rows, Session):
        for stale in [obj for obj in rows.identity_map.values() if isinstance(obj, (Count, CountBin, CountLine))]:
            rows.expire(stale)  # objects loaded earlier no longer say what the rows hold
    return {"id": line_id, "count_id": count_id, "location": location, "sku": sku, "name": name, "qty": qty,
            "counted": counted}


# Every line's expected quantity in one statement: its snapshot plus the movements on its bin and SKU
# written after the bin's mark (a statement per line made a count of a busy bin cost one per SKU).
_EXPECTED = """
SELECT l.id, l.snapshot_qty + coalesce((
         SELECT sum(CASE WHEN m.to_location = l.location THEN m.qty ELSE -m.qty END) FROM stock.movements m
         WHERE m.id > b.snapshot_movement_id AND m.sku = l.sku
           AND (m.to_location = l.location OR m.from_location = l.location)), 0)
FROM stock.count_lines l
JOIN stock.count_bins b ON b.count_id = l.count_id AND b.location = l.location
WHERE l.id = ANY(%(ids)s::bigint[])
"""


def _expected(s: Session, lines: list[CountLine]) -> dict[int, int]:
    """The snapshot plus the movements on its bin and SKU written after it, per line id."""
    return dict(db.cursor(s).execute(_EXPECTED, {"ids": [line.id for line in lines]}).fetchall())


def submit(s: Session, actor: Any, count_id: int, threshold: int) -> dict[str, Any]:
    """Compare counted with expected; big variances go back for a recount by someone else."""
    count = get(s, count_id, lock=True)
    if count.state == "open":
        for location in count.locations:
            _snapshot(s, count, location)
        lines = s.scalars(select(CountLine).where(CountLine.count_id == count.id, CountLine.state == "open")
                          .order_by(CountLine.id)).all()
        expected = _expected(s, lines)
        for line in lines:
            line.expected = expected[line.id]
            variance = line.counted - line.expected
            line.state = "ok" if variance == 0 else "recount" if abs(variance) > threshold else "pending"
    elif count.state == "recount":
        lines = s.scalars(select(CountLine).where(CountLine.count_id == count.id, CountLine.state == "recount")
                          .order_by(CountLine.id)).all()
        expected = _expected(s, lines)
        for line in lines:
            if line.recounted is None:
                # Submitting a recount with no scan of a line says "none found here", by the submitter.
                if actor.badge == line.counted_by:
                    raise ConflictError(code="recount_needs_another_counter", details={
                        "location": line.location, "sku": line.sku, "counted_by": line.counted_by})
                line.recounted, line.recounted_by = 0, actor.badge
            line.expected = expected[line.id]
            line.state = "ok" if line.recounted == line.expected else "pending"
    else:
        raise ConflictError(code="count_not_open", details={"id": count_id, "state": count.state})
    recount = s.scalars(select(CountLine).where(CountLine.count_id == count.id, CountLine.state == "recount")
                        .order_by(CountLine.id)).all()
    count.state = "recount" if recount else "submitted"
    _close_when_decided(s, count)
    s.flush()
    pending = s.scalar(select(func.count()).select_from(CountLine).where(CountLine.count_id == count.id,
                                                                        CountLine.state == "pending"))
    # The answer says "submitted" even when nothing waits for a decision and the count is closed at once.
    return {"id": count.id, "state": "recount" if recount else "submitted", "closed": count.state == "closed",
            "pending": pending, "recount": [{"location": ln.location, "sku": ln.sku} for ln in recount]}


def _close_when_decided(s: Session, count: Count) -> None:
    if count.state != "submitted":
        return
    undecided = s.scalar(select(func.count()).select_from(CountLine).where(
        CountLine.count_id == count.id, CountLine.state.in_(("open", "recount", "pending"))))
    if not undecided:
        count.state = "closed"


def final_count(line: CountLine) -> int:
    return line.recounted if line.recounted is not None else line.counted


def variance_of(line: CountLine) -> dict[str, Any]:
    counted = final_count(line)
    expected = line.expected
    return {"line_id": line.id, "count_id": line.count_id, "location": line.location, "sku": line.sku,
            "expected": expected, "counted": counted,
            "variance": None if expected is None else counted - expected, "state": line.state,
            "counted_by": line.counted_by, "recounted_by": line.recounted_by, "reason": line.reason,
            "note": line.note, "decided_by": line.decided_by, "adjustment_id": line.adjustment_id}


def variances(s: Session, count_id: int, limit: int, cursor: str | None):
    get(s, count_id)
    rows, next_cursor = paging.page(s, select(CountLine).where(CountLine.count_id == count_id), CountLine.id,
                                    limit, cursor)
    return [variance_of(line) for line in rows], next_cursor


def _pending_line(s: Session, count_id: int, line_id: int) -> tuple[Count, CountLine]:
    count = get(s, count_id, lock=True)
    line = s.scalar(select(CountLine).where(CountLine.id == line_id, CountLine.count_id == count_id)
                    .with_for_update())
    if line is None:
        raise NotFoundError(code="unknown_count_line", details={"line_id": line_id})
    if line.state != "pending":
        raise ConflictError(code="line_not_pending", details={"line_id": line_id, "state": line.state})
    return count, line


def approve(s: Session, actor: Any, key: str | None, count_id: int, line_id: int, *, reason: str,
            note: str = "") -> Any:
    """Accept a variance: exactly one adjustment movement brings the bin to what was counted."""
    count, line = _pending_line(s, count_id, line_id)
    variance = final_count(line) - line.expected
    text = f"{reason}: {note}" if note else reason
    reference = f"count:{count.id}:line:{line.id}"
    if variance > 0:
        move = Move("adjust", line.sku, variance, None, line.location, reason=text[:200], reference=reference)
    else:
        move = Move("adjust", line.sku, -variance, line.location, None, reason=text[:200], reference=reference)
    movement = ledger.apply(s, actor, [move], key)[0]
    line.state, line.reason, line.note, line.decided_by = "approved", reason, note, actor.badge
    line.adjustment_id = movement.id
    _close_when_decided(s, count)
    s.flush()
    return movement


def reject(s: Session, actor: Any, count_id: int, line_id: int, *, note: str = "") -> dict[str, Any]:
    """Refuse a variance: nothing moves."""
    count, line = _pending_line(s, count_id, line_id)
    line.state, line.note, line.decided_by = "rejected", note, actor.badge
    _close_when_decided(s, count)
    s.flush()
    return variance_of(line)
