"""The ledger: the one way a balance changes is a movement written in the same transaction.

Every balance row a unit of work touches is locked `SELECT ... FOR UPDATE` up front, all of them in
one statement ordered by (sku, location, lot), so two transactions never wait on each other in
opposite orders.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from common.errors import ConflictError, NotFoundError
from stock_service.models import Balance, Location, Movement, Sku

TYPES = ("receive", "putaway", "move", "pick", "ship", "return", "adjust")


class Actor(Protocol):
    """Who caused a movement (the request's identity has these)."""

    badge: str
    device: str


@dataclass(frozen=True)
class Move:
    """A movement to write: `source` None means from outside (receipt, found), `target` None means out."""

    type: str
    sku: str
    qty: int
    source: str | None
    target: str | None
    lot: str = ""
    reason: str = ""
    reference: str = ""


def location(s: Session, code: str, field: str = "location") -> Location:
    found = s.get(Location, code)
    if found is None:
        raise NotFoundError(code="unknown_location", details={field: code})
    return found


def sku(s: Session, code: str, field: str = "sku") -> Sku:
    found = s.get(Sku, code)
    if found is None:
        raise NotFoundError(code="unknown_sku", details={field: code})
    return found


def lock_balances(s: Session, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], Balance]:
    """Make sure a row exists for each (sku, location, lot) and lock them all, in a fixed order."""
    ordered = sorted(set(keys))
    if not ordered:
        return {}
    s.execute(insert(Balance).values([{"sku": k[0], "location": k[1], "lot": k[2], "qty": 0} for k in ordered])
              .on_conflict_do_nothing(index_elements=["sku", "location", "lot"]))
    rows = s.scalars(select(Balance)
                     .where(tuple_(Balance.sku, Balance.location, Balance.lot).in_(ordered))
                     .order_by(Balance.sku, Balance.location, Balance.lot)
                     .with_for_update()
                     .execution_options(populate_existing=True)).all()
    return {(b.sku, b.location, b.lot): b for b in rows}


def apply(s: Session, actor: Any, moves: list[Move], idempotency_key: str | None = None) -> list[Movement]:
    """Write the movements and change the balances; a source going below zero refuses them all (409)."""
    for m in moves:
        if m.type not in TYPES:
            raise ValueError(f"unknown movement type {m.type}")
        sku(s, m.sku)
    places = {code: location(s, code, side) for m in moves
              for code, side in ((m.source, "from"), (m.target, "to")) if code is not None}
    keys = [(m.sku, code, m.lot) for m in moves for code in (m.source, m.target) if code is not None]
    balances = lock_balances(s, keys)
    written = []
    for m in moves:
        if m.source is not None:
            row = balances[(m.sku, m.source, m.lot)]
            if row.qty - m.qty < 0 and not places[m.source].allow_negative:
                raise ConflictError(code="insufficient_stock", details={
                    "sku": m.sku, "location": m.source, "lot": m.lot, "on_hand": row.qty, "requested": m.qty})
            row.qty -= m.qty
        if m.target is not None:
            balances[(m.sku, m.target, m.lot)].qty += m.qty
        movement = Movement(type=m.type, sku=m.sku, qty=m.qty, from_location=m.source, to_location=m.target,
                            lot=m.lot, operator=actor.badge, device=actor.device or "", reason=m.reason,
                            reference=m.reference, idempotency_key=idempotency_key)
        s.add(movement)
        written.append(movement)
    s.flush()
    return written


def by_reference(s: Session, reference: str, types: Iterable[str]) -> list[Movement]:
    """Movements already written for an internal reference (a pick, an order's shipment, a return)."""
    return list(s.scalars(select(Movement).where(Movement.reference == reference, Movement.type.in_(list(types)))
                          .order_by(Movement.id)))


def last_movement_id(s: Session) -> int:
    return s.scalar(select(func.coalesce(func.max(Movement.id), 0)))


def replay(s: Session) -> dict[tuple[str, str, str], int]:
    """The balances the ledger says there should be (only the non-zero ones)."""
    totals: dict[tuple[str, str, str], int] = {}
    for m in s.execute(select(Movement.sku, Movement.qty, Movement.from_location, Movement.to_location,
                              Movement.lot)):
        if m.from_location is not None:
            key = (m.sku, m.from_location, m.lot)
            totals[key] = totals.get(key, 0) - m.qty
        if m.to_location is not None:
            key = (m.sku, m.to_location, m.lot)
            totals[key] = totals.get(key, 0) + m.qty
    return {k: v for k, v in totals.items() if v}
