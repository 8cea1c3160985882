"""Blind cycle counts: counters never see the expected quantity; variances are approved one by one.

The expected quantity of a (bin, SKU) is the balance at the bin's first scan (the snapshot) plus
every movement on that bin and SKU written after it, so a pick during the count is no variance.
A variance over the threshold is recounted by a different person; only an approval writes stock
(one `adjust` movement); a rejection leaves it untouched.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from common.errors import ConflictError, InvalidInputError, NotFoundError
from stock_service.domain import ledger, paging, skus
from stock_service.domain.ledger import Move
from stock_service.models import Balance, Count, CountBin, CountLine, Location, Movement

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


def _line(s: Session, count_id: int, location: str, sku: str) -> CountLine | None:
    return s.scalar(select(CountLine).where(CountLine.count_id == count_id, CountLine.location == location,
                                            CountLine.sku == sku))


def enter(s: Session, actor: Any, count_id: int, *, location: str, code: str, qty: int) -> dict[str, Any]:
    """A counter's scan of units in a bin; the answer never carries the expected quantity."""
    count = get(s, count_id, lock=True)
    if count.state not in ("open", "recount"):
        raise ConflictError(code="count_not_open", details={"id": count_id, "state": count.state})
    if location not in count.locations:
        raise ConflictError(code="location_not_in_count", details={"location": location})
    item = skus.by_code(s, code)
    if count.skus is not None and item.sku not in count.skus:
        raise ConflictError(code="sku_not_in_count", details={"code": code, "sku": item.sku})
    if count.state == "open":
        _snapshot(s, count, location)
        line = _line(s, count.id, location, item.sku)
        if line is None:
            line = CountLine(count_id=count.id, location=location, sku=item.sku, snapshot_qty=0, counted=0,
                             state="open")
            s.add(line)
        line.counted += qty
        line.counted_by = line.counted_by or actor.badge
    else:
        line = _line(s, count.id, location, item.sku)
        if line is None or line.state != "recount":
            raise ConflictError(code="not_in_recount", details={"location": location, "sku": item.sku})
        if actor.badge == line.counted_by:
            raise ConflictError(code="recount_needs_another_counter",
                                details={"location": location, "sku": item.sku, "counted_by": line.counted_by})
        line.recounted = (line.recounted or 0) + qty
        line.recounted_by = actor.badge
    s.flush()
    return {"id": line.id, "count_id": count.id, "location": location, "sku": item.sku, "name": item.name,
            "qty": qty, "counted": line.recounted if count.state == "recount" else line.counted}


def _expected(s: Session, count_id: int, line: CountLine) -> int:
    """The snapshot plus the movements on this bin and SKU written after it."""
    mark = s.scalar(select(CountBin.snapshot_movement_id).where(CountBin.count_id == count_id,
                                                               CountBin.location == line.location))
    delta = s.scalar(select(func.coalesce(func.sum(case(
        (Movement.to_location == line.location, Movement.qty), else_=-Movement.qty)), 0))
        .where(Movement.id > mark, Movement.sku == line.sku,
               (Movement.to_location == line.location) | (Movement.from_location == line.location)))
    return line.snapshot_qty + delta


def submit(s: Session, actor: Any, count_id: int, threshold: int) -> dict[str, Any]:
    """Compare counted with expected; big variances go back for a recount by someone else."""
    count = get(s, count_id, lock=True)
    if count.state == "open":
        for location in count.locations:
            _snapshot(s, count, location)
        lines = s.scalars(select(CountLine).where(CountLine.count_id == count.id, CountLine.state == "open")
                          .order_by(CountLine.id)).all()
        for line in lines:
            line.expected = _expected(s, count.id, line)
            variance = line.counted - line.expected
            line.state = "ok" if variance == 0 else "recount" if abs(variance) > threshold else "pending"
    elif count.state == "recount":
        lines = s.scalars(select(CountLine).where(CountLine.count_id == count.id, CountLine.state == "recount")
                          .order_by(CountLine.id)).all()
        for line in lines:
            if line.recounted is None:
                # Submitting a recount with no scan of a line says "none found here", by the submitter.
                if actor.badge == line.counted_by:
                    raise ConflictError(code="recount_needs_another_counter", details={
                        "location": line.location, "sku": line.sku, "counted_by": line.counted_by})
                line.recounted, line.recounted_by = 0, actor.badge
            line.expected = _expected(s, count.id, line)
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
