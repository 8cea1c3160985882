"""Locations, balances, availability, the movements list and free moves between locations."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from common import db
from common.errors import ConflictError, InvalidInputError
from stock_service.domain import ledger, paging, skus
from stock_service.domain.ledger import Move
from stock_service.models import AllocationLine, Balance, Location, Movement, Receipt, ReceiptLine

KINDS = ("bin", "staging", "basket", "returns", "intercept")
RECEIVING = "RECEIVING"
RETURNS = "RETURNS"
INTERCEPT = "INTERCEPT"


def create_location(s: Session, *, code: str, kind: str, zone: str = "", sequence: int = 0,
                    allow_negative: bool = False) -> Location:
    if s.get(Location, code) is not None:
        raise ConflictError(code="location_exists", details={"code": code})
    place = Location(code=code, kind=kind, zone=zone, sequence=sequence, allow_negative=allow_negative)
    s.add(place)
    s.flush()
    return place


# Made on first use and its kind read, in one statement on the unit's cursor: every pick into a
# basket asks this. A racing first use makes one row; the other waits for it, and reads it with a
# second statement, since the first's snapshot was taken before that row committed.
_ENSURE = """
WITH made AS (
  INSERT INTO stock.locations (code, kind, zone, sequence, allow_negative)
  VALUES (%(code)s, %(kind)s, '', 0, false) ON CONFLICT (code) DO NOTHING RETURNING kind)
SELECT kind FROM made UNION ALL SELECT kind FROM stock.locations WHERE code = %(code)s
"""


def ensure_location(rows: db.Rows, code: str, kind: str) -> str:
    """A well-known location (the receiving area, the returns shelf, a basket) created on first use; its kind."""
    found = db.cursor(rows).execute(_ENSURE, {"code": code, "kind": kind}).fetchone()
    return found[0] if found is not None else ledger.kind_of(rows, code)


def first_of_kind(s: Session, kind: str, default: str) -> str:
    """The location of a kind the floor uses by default (lowest code), created when there is none."""
    code = s.scalar(select(Location.code).where(Location.kind == kind).order_by(Location.code).limit(1))
    if code is None:
        ensure_location(s, default, kind)
    return code or default


def list_locations(s: Session, kind: str | None, limit: int, cursor: str | None):
    stmt = select(Location)
    if kind:
        stmt = stmt.where(Location.kind == kind)
    # Paged by walking order is not unique; code order is, and the list is for set-up screens.
    rows = list(s.scalars(stmt.where(Location.code > (cursor or "")).order_by(Location.code).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].code if more and rows else None)


def balances(s: Session, sku: str | None, location: str | None, limit: int, cursor: str | None):
    stmt = select(Balance).where(Balance.qty != 0)
    if sku:
        stmt = stmt.where(Balance.sku == sku)
    if location:
        stmt = stmt.where(Balance.location == location)
    return paging.page(s, stmt, Balance.id, limit, cursor)


def allocated_of(s: Session, sku: str) -> int:
    return allocated_by_sku(s, [sku]).get(sku, 0)


def allocated_by_sku(s: Session, codes: list[str]) -> dict[str, int]:
    """Units promised to open orders, per SKU, in one statement; a SKU promised to none is left out.

    Only the held lines are read (a partial index): the cost follows the orders in progress, not
    every order ever shipped.
    """
    return {sku: int(qty) for sku, qty in s.execute(_ALLOCATED_BY_SKU, {"codes": codes})}


_ALLOCATED_BY_SKU = (select(AllocationLine.sku, func.sum(AllocationLine.qty))
                     .where(AllocationLine.sku.in_(bindparam("codes", expanding=True)), AllocationLine.held)
                     .group_by(AllocationLine.sku))


def in_transit_of(s: Session, sku: str) -> int:
    return s.scalar(select(func.coalesce(func.sum(func.greatest(ReceiptLine.expected - ReceiptLine.received, 0)), 0))
                    .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
                    .where(ReceiptLine.sku == sku, Receipt.state == "open"))


def availability(s: Session, sku: str) -> dict[str, int]:
    """on hand (bins and baskets), allocated to open orders, available = on hand − allocated, in transit."""
    skus.get(s, sku)
    on_hand = skus.on_hand_of(s, sku)
    allocated = allocated_of(s, sku)
    return {"sku": sku, "on_hand": on_hand, "allocated": allocated, "available": on_hand - allocated,
            "in_transit": in_transit_of(s, sku)}


def movements(s: Session, sku: str | None, location: str | None, since: datetime | None, type_: str | None,
              reference: str | None, limit: int, cursor: str | None):
    stmt = select(Movement)
    if sku:
        stmt = stmt.where(Movement.sku == sku)
    if location:
        stmt = stmt.where((Movement.from_location == location) | (Movement.to_location == location))
    if since:
        stmt = stmt.where(Movement.at >= since)
    if type_:
        stmt = stmt.where(Movement.type == type_)
    if reference:
        stmt = stmt.where(Movement.reference == reference)
    return paging.page(s, stmt, Movement.id, limit, cursor)


def move(s: Session, actor: Any, key: str | None, *, sku: str, qty: int, source: str, target: str,
         reason: str = "", lot: str = "") -> ledger.Written:
    """Move units from one location to another (re-slotting, a bin to the intercept shelf...)."""
    ledger.require_skus(s, [(sku, "sku")])
    if source == target:
        raise InvalidInputError(code="same_location", details={"to": target})
    return ledger.apply(s, actor, [Move("move", sku, qty, source, target, lot, reason)], key)[0]
