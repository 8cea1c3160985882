"""The ledger: the one way a balance changes is a movement written in the same transaction.

Every balance row a unit of work touches is locked `SELECT ... FOR UPDATE` up front, all of them in
one statement ordered by (sku, location, lot), so two transactions never wait on each other in
opposite orders.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, func, select, text, tuple_
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


_KNOWN_SKUS = select(Sku.sku).where(Sku.sku.in_(bindparam("codes", expanding=True)))  # built once


def require_skus(s: Session, named: Iterable[tuple[str, str]]) -> None:
    """Each (sku, field) names a known SKU; one statement for all, the first unknown one is the 404.

    Only the codes are read: loading Sku objects would also load every item's barcodes. A SKU is
    never deleted, so one found earlier in this transaction is not asked for again.
    """
    named = list(named)
    transaction = s.get_transaction()
    seen = s.info.get("known_skus")
    if seen is None or seen[0] is not transaction:
        seen = s.info["known_skus"] = (transaction, set())
    known = seen[1]
    codes = {code for code, _ in named} - known
    if codes:
        known.update(s.scalars(_KNOWN_SKUS, {"codes": list(codes)}))
    for code, field in named:
        if code not in known:
            raise NotFoundError(code="unknown_sku", details={field: code})


def require_locations(s: Session, named: Iterable[tuple[str, str]]) -> dict[str, bool]:
    """Each (location, field) names a known location; answers whether each may go negative."""
    named = list(named)
    codes = {code for code, _ in named}
    found = dict(s.execute(_LOCATIONS, {"codes": list(codes)}).all())
    for code, field in named:
        if code not in found:
            raise NotFoundError(code="unknown_location", details={field: code})
    return found


def lock_balances(s: Session, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], list[int]]:
    """Make sure a row exists for each (sku, location, lot) and lock them all, in a fixed order.

    Answers [id, qty] per key. The lock is a statement of its own: it must see rows that another
    transaction inserted and committed while our insert ran.
    """
    ordered = sorted(set(keys))
    if not ordered:
        return {}
    # Rows are created in key order too: a racing insert of the same new key waits on ours, never in a cycle.
    s.execute(_MAKE_ROWS, {"skus": [k[0] for k in ordered], "locations": [k[1] for k in ordered],
                           "lots": [k[2] for k in ordered]})
    rows = s.execute(_LOCK_ROWS, {"keys": ordered})
    return {(r.sku, r.location, r.lot): [r.id, r.qty] for r in rows}


# One statement shape whatever the number of rows: a VALUES list would be compiled anew for each length.
_MAKE_ROWS = text("INSERT INTO stock.balances (sku, location, lot, qty) SELECT k.sku, k.location, k.lot, 0 "
                  "FROM unnest(CAST(:skus AS text[]), CAST(:locations AS text[]), CAST(:lots AS text[])) "
                  "AS k(sku, location, lot) ON CONFLICT (sku, location, lot) DO NOTHING")
_SET_QTY = text("UPDATE stock.balances SET qty = :qty WHERE id = :id")
# Built once, as every movement written runs them: building them cost about as much as running them.
_LOCATIONS = select(Location.code, Location.allow_negative).where(Location.code.in_(bindparam("codes", expanding=True)))
_LOCK_ROWS = (select(Balance.id, Balance.sku, Balance.location, Balance.lot, Balance.qty)
              .where(tuple_(Balance.sku, Balance.location, Balance.lot).in_(bindparam("keys", expanding=True)))
              .order_by(Balance.sku, Balance.location, Balance.lot)
              .with_for_update())
_BY_REFERENCE = (select(Movement).where(Movement.reference == bindparam("reference"),
                                        Movement.type.in_(bindparam("types", expanding=True)))
                 .order_by(Movement.id))


def apply(s: Session, actor: Any, moves: list[Move], idempotency_key: str | None = None) -> list[Movement]:
    """Write the movements and change the balances; a source going below zero refuses them all (409).

    A fixed number of statements however many moves: check SKUs and locations, create and lock
    the balance rows, set their quantities, insert the movements.
    """
    if not moves:
        return []
    for m in moves:
        if m.type not in TYPES:
            raise ValueError(f"unknown movement type {m.type}")
    require_skus(s, ((m.sku, "sku") for m in moves))
    may_go_negative = require_locations(s, ((code, side) for m in moves
                                            for code, side in ((m.source, "from"), (m.target, "to"))
                                            if code is not None))
    keys = [(m.sku, code, m.lot) for m in moves for code in (m.source, m.target) if code is not None]
    balances = lock_balances(s, keys)
    for m in moves:
        if m.source is not None:
            row = balances[(m.sku, m.source, m.lot)]
            if row[1] - m.qty < 0 and not may_go_negative[m.source]:
                raise ConflictError(code="insufficient_stock", details={
                    "sku": m.sku, "location": m.source, "lot": m.lot, "on_hand": row[1], "requested": m.qty})
            row[1] -= m.qty
        if m.target is not None:
            balances[(m.sku, m.target, m.lot)][1] += m.qty
    # One round trip: psycopg sends an executemany as a pipeline.
    s.execute(_SET_QTY, [{"id": row[0], "qty": row[1]} for row in balances.values()])
    # Balance objects this session loaded earlier no longer say what the table holds.
    for stale in [obj for obj in s.identity_map.values() if isinstance(obj, Balance)]:
        s.expire(stale)
    rows = [{"type": m.type, "sku": m.sku, "qty": m.qty, "from_location": m.source, "to_location": m.target,
             "lot": m.lot, "operator": actor.badge, "device": actor.device or "", "reason": m.reason,
             "reference": m.reference, "idempotency_key": idempotency_key} for m in moves]
    return list(s.scalars(insert(Movement).returning(Movement, sort_by_parameter_order=True), rows))


def by_reference(s: Session, reference: str, types: Iterable[str]) -> list[Movement]:
    """Movements already written for an internal reference (a pick, an order's shipment, a return)."""
    return list(s.scalars(_BY_REFERENCE, {"reference": reference, "types": list(types)}))


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
