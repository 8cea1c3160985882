"""The ledger: the one way a balance changes is a movement written in the same transaction.

Every balance row a unit of work touches is locked `SELECT ... FOR UPDATE`, all of them in one
statement ordered by (sku, location, lot), so two transactions never wait on each other in
opposite orders.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from psycopg.rows import class_row
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common import db
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


_KIND = "SELECT kind FROM stock.locations WHERE code = %(code)s"


def kind_of(rows: db.Rows, code: str, field: str = "location") -> str:
    """The kind of a location that must exist (404 naming `field` otherwise), on the unit's cursor:
    no ORM object, so a unit of work that loads none commits without the Session's machinery."""
    found = db.cursor(rows).execute(_KIND, {"code": code}).fetchone()
    if found is None:
        raise NotFoundError(code="unknown_location", details={field: code})
    return found[0]


def sku(s: Session, code: str, field: str = "sku") -> Sku:
    found = s.get(Sku, code)
    if found is None:
        raise NotFoundError(code="unknown_sku", details={field: code})
    return found


_KNOWN_SKUS = "SELECT sku FROM stock.skus WHERE sku = ANY(%(codes)s::text[])"


def require_skus(s: Session, named: Iterable[tuple[str, str]]) -> None:
    """Each (sku, field) names a known SKU; one statement for all, the first unknown one is the 404.

    Only the codes are read: loading Sku objects would also load every item's barcodes.
    """
    named = list(named)
    known = _known_skus(s)
    codes = {code for code, _ in named} - known
    if codes:
        known.update(code for (code,) in db.cursor(s).execute(_KNOWN_SKUS, {"codes": sorted(codes)}))
    for code, field in named:
        if code not in known:
            raise NotFoundError(code="unknown_sku", details={field: code})


def _known_skus(s: Session) -> set[str]:
    """The SKU codes this transaction has already seen: a SKU is never deleted, so they are not asked for again."""
    transaction = s.get_transaction()
    seen = s.info.get("known_skus")
    if seen is None or seen[0] is not transaction:
        seen = s.info["known_skus"] = (transaction, set())
    return seen[1]


# Three statements per unit of work, however many moves, on the unit's psycopg cursor:
#  1. which SKUs and locations exist, and a zero row for each new (sku, location, lot) among them;
#  2. every row locked in one fixed order, and its quantity changed, answering what it held before;
#  3. the movements.
# The lock is a statement of its own: it must see rows that another transaction inserted and
# committed while our insert ran. A refusal (unknown code, a source going below zero) is raised
# after statement 2 and rolls the whole unit of work back, so it changes nothing.
_PREPARE = """
WITH places AS (SELECT code, allow_negative FROM stock.locations WHERE code = ANY(%(places)s::text[])),
     known AS (SELECT sku FROM stock.skus WHERE sku = ANY(%(skus)s::text[])),
     made AS (
       INSERT INTO stock.balances (sku, location, lot, qty)
       SELECT k.sku, k.location, k.lot, 0
       FROM unnest(%(key_skus)s::text[], %(key_locations)s::text[], %(key_lots)s::text[]) WITH ORDINALITY
            AS k(sku, location, lot, n)
       WHERE k.sku IN (SELECT sku FROM known) AND k.location IN (SELECT code FROM places)
       ORDER BY k.n
       ON CONFLICT (sku, location, lot) DO NOTHING)
SELECT 'location', code, allow_negative FROM places
UNION ALL SELECT 'sku', sku, NULL FROM known
"""
_LOCK_AND_SET = """
WITH change AS (
       SELECT * FROM unnest(%(skus)s::text[], %(locations)s::text[], %(lots)s::text[], %(deltas)s::bigint[])
              AS d(sku, location, lot, delta)),
     locked AS (
       SELECT b.id, change.delta FROM stock.balances b
       JOIN change ON (b.sku, b.location, b.lot) = (change.sku, change.location, change.lot)
       ORDER BY b.sku, b.location, b.lot
       FOR UPDATE OF b)
UPDATE stock.balances b SET qty = b.qty + locked.delta FROM locked WHERE b.id = locked.id
RETURNING b.sku, b.location, b.lot, b.qty - locked.delta
"""
_WRITE = """
INSERT INTO stock.movements (type, sku, qty, from_location, to_location, lot, operator, device, reason, reference,
                             idempotency_key)
SELECT type, sku, qty, from_location, to_location, lot, operator, device, reason, reference, idempotency_key
FROM unnest(%(type)s::text[], %(sku)s::text[], %(qty)s::int[], %(from_location)s::text[], %(to_location)s::text[],
            %(lot)s::text[], %(operator)s::text[], %(device)s::text[], %(reason)s::text[], %(reference)s::text[],
            %(idempotency_key)s::text[]) WITH ORDINALITY
     AS m(type, sku, qty, from_location, to_location, lot, operator, device, reason, reference, idempotency_key, n)
ORDER BY n
RETURNING id, type, sku, qty, from_location, to_location, lot, operator, device, reason, reference, idempotency_key, at
"""
_BY_REFERENCE = """
SELECT id, type, sku, qty, from_location, to_location, lot, operator, device, reason, reference, idempotency_key, at
FROM stock.movements WHERE reference = %(reference)s AND type = ANY(%(types)s::text[]) ORDER BY id
"""


@dataclass(frozen=True, slots=True)
class Written:
    """A movement as the ledger wrote it: the columns of `Movement`, without an ORM object to track."""

    id: int
    type: str
    sku: str
    qty: int
    from_location: str | None
    to_location: str | None
    lot: str
    operator: str
    device: str
    reason: str
    reference: str
    idempotency_key: str | None
    at: datetime


def apply(s: Session, actor: Any, moves: list[Move], idempotency_key: str | None = None,
          sku_fields: list[str] | None = None) -> list[Written]:
    """Write the movements and change the balances; a source going below zero refuses them all (409).

    Unknown codes answer 404 in the order of the moves: the SKUs first (named by `sku_fields`, one
    per move, where the request named them so), then the locations.
    """
    if not moves:
        return []
    for m in moves:
        if m.type not in TYPES:
            raise ValueError(f"unknown movement type {m.type}")
    places = [(code, side) for m in moves for code, side in ((m.source, "from"), (m.target, "to")) if code is not None]
    keys = sorted({(m.sku, code, m.lot) for m in moves for code in (m.source, m.target) if code is not None})
    fields = sku_fields or ["sku"] * len(moves)
    may_go_negative = _prepare(s, [(m.sku, field) for m, field in zip(moves, fields, strict=True)], places, keys)
    before = _lock_and_set(s, keys, _deltas(moves))
    _refuse_negative(moves, before, may_go_negative)
    # Balance objects this session loaded earlier no longer say what the table holds.
    for stale in [obj for obj in s.identity_map.values() if isinstance(obj, Balance)]:
        s.expire(stale)
    return _write(s, actor, moves, idempotency_key)


def _prepare(s: Session, skus: list[tuple[str, str]], places: list[tuple[str, str]],
             keys: list[tuple[str, str, str]]) -> dict[str, bool]:
    """Statement 1: the codes checked (404 for the first unknown one), the missing balance rows made.

    Rows are made in key order: a racing insert of the same new key waits on ours, never in a cycle.
    Answers whether each location may go negative.
    """
    found = db.cursor(s).execute(_PREPARE, {
        "places": sorted({code for code, _ in places}), "skus": sorted({code for code, _ in skus}),
        "key_skus": [k[0] for k in keys], "key_locations": [k[1] for k in keys],
        "key_lots": [k[2] for k in keys]}).fetchall()
    known = _known_skus(s)
    known.update(code for kind, code, _ in found if kind == "sku")
    for code, field in skus:
        if code not in known:
            raise NotFoundError(code="unknown_sku", details={field: code})
    may_go_negative = {code: allowed for kind, code, allowed in found if kind == "location"}
    for code, field in places:
        if code not in may_go_negative:
            raise NotFoundError(code="unknown_location", details={field: code})
    return may_go_negative


def _deltas(moves: list[Move]) -> dict[tuple[str, str, str], int]:
    deltas: dict[tuple[str, str, str], int] = {}
    for m in moves:
        if m.source is not None:
            deltas[(m.sku, m.source, m.lot)] = deltas.get((m.sku, m.source, m.lot), 0) - m.qty
        if m.target is not None:
            deltas[(m.sku, m.target, m.lot)] = deltas.get((m.sku, m.target, m.lot), 0) + m.qty
    return deltas


def _lock_and_set(s: Session, keys: list[tuple[str, str, str]],
                  deltas: dict[tuple[str, str, str], int]) -> dict[tuple[str, str, str], int]:
    """Statement 2: lock every row in (sku, location, lot) order and add its change; what each held before."""
    rows = db.cursor(s).execute(_LOCK_AND_SET, {
        "skus": [k[0] for k in keys], "locations": [k[1] for k in keys], "lots": [k[2] for k in keys],
        "deltas": [deltas[k] for k in keys]}).fetchall()
    return {(sku, location, lot): qty for sku, location, lot, qty in rows}


def _refuse_negative(moves: list[Move], before: dict[tuple[str, str, str], int],
                     may_go_negative: dict[str, bool]) -> None:
    """The moves in their order against what the rows held: the first source to go below zero is the 409."""
    held = dict(before)
    for m in moves:
        if m.source is not None:
            key = (m.sku, m.source, m.lot)
            if held[key] - m.qty < 0 and not may_go_negative[m.source]:
                raise ConflictError(code="insufficient_stock", details={
                    "sku": m.sku, "location": m.source, "lot": m.lot, "on_hand": held[key], "requested": m.qty})
            held[key] -= m.qty
        if m.target is not None:
            held[(m.sku, m.target, m.lot)] += m.qty


def _write(s: Session, actor: Any, moves: list[Move], idempotency_key: str | None) -> list[Written]:
    """Statement 3: the movements, in the order of the moves (their ids rise in that order)."""
    columns = {"type": [m.type for m in moves], "sku": [m.sku for m in moves], "qty": [m.qty for m in moves],
               "from_location": [m.source for m in moves], "to_location": [m.target for m in moves],
               "lot": [m.lot for m in moves], "operator": [actor.badge] * len(moves),
               "device": [actor.device or ""] * len(moves), "reason": [m.reason for m in moves],
               "reference": [m.reference for m in moves], "idempotency_key": [idempotency_key] * len(moves)}
    return sorted(_written(s, _WRITE, columns), key=lambda w: w.id)


def by_reference(s: Session, reference: str, types: Iterable[str]) -> list[Written]:
    """Movements already written for an internal reference (a pick, an order's shipment, a return)."""
    return _written(s, _BY_REFERENCE, {"reference": reference, "types": list(types)})


def _written(s: Session, sql: str, params: dict[str, Any]) -> list[Written]:
    with db.cursor(s).connection.cursor(row_factory=class_row(Written)) as cur:
        return cur.execute(sql, params).fetchall()


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
