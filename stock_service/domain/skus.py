"""SKUs and their barcodes: creating them, looking an item up by any code, retiring one."""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from common import db
from common.errors import ConflictError, NotFoundError
from stock_service.domain import barcodes as codes
from stock_service.domain import ledger
from stock_service.domain.ledger import Move
from stock_service.models import Balance, Barcode, Location, Sku

STORAGE_KINDS = ("bin", "basket")


def create(s: Session, *, sku: str, name: str, spec: str = "", barcodes: list[str] = (),
           image_url: str | None = None, home_bin: str | None = None) -> Sku:
    """Add a SKU with its barcodes; a SKU code or barcode already in use is a 409."""
    codes.check(list(barcodes))
    if home_bin is not None:
        ledger.location(s, home_bin, "home_bin")
    if s.get(Sku, sku) is not None:
        raise ConflictError(code="sku_exists", details={"sku": sku})
    taken = s.scalars(select(Barcode).where(Barcode.code.in_(list(barcodes)))).all()
    if taken:
        raise ConflictError(code="barcode_taken", details={"barcode": taken[0].code, "sku": taken[0].sku})
    item = Sku(sku=sku, name=name, spec=spec, image_url=image_url, active=True, home_bin=home_bin,
               barcodes=[Barcode(code=code) for code in dict.fromkeys(barcodes)])
    s.add(item)
    s.flush()
    return item


def get(s: Session, sku: str) -> Sku:
    item = s.get(Sku, sku)
    if item is None:
        raise NotFoundError(code="unknown_sku", details={"sku": sku})
    return item


def by_code(s: Session, code: str, field: str = "code") -> Sku:
    """The SKU a scanned code names, or 404 unknown_code."""
    item = codes.resolve(s, code)
    if item is None:
        raise NotFoundError(code="unknown_code", details={field: code})
    return item


# The item lookup, the handheld's most frequent read, as one statement on the unit's cursor: loaded as
# ORM objects it takes four round trips (the SKU, its barcodes, its bins, its on-hand) and several times
# the SQL's CPU. The SKU is found as barcodes.resolve finds it: the owner of a barcode in any of the
# code's GTIN forms, else the SKU of that code. Its balance rows are read once, by the (sku, location,
# lot) index, for both the on-hand (bins and baskets) and the non-zero bins listed in walking order (a
# bin's lots, if several, by lot); one snapshot answers all of it.
_LOOKUP = f"""
SELECT s.sku, s.name, s.spec, s.image_url,
       ARRAY(SELECT c.code FROM stock.barcodes c WHERE c.sku = s.sku ORDER BY c.code),
       s.active, stored.on_hand, stored.locations, stored.qtys
FROM stock.skus s
CROSS JOIN LATERAL (
  SELECT coalesce(sum(b.qty), 0) AS on_hand,
         array_agg(b.location ORDER BY l.sequence, l.code, b.lot) FILTER (WHERE l.kind = 'bin' AND b.qty <> 0)
           AS locations,
         array_agg(b.qty ORDER BY l.sequence, l.code, b.lot) FILTER (WHERE l.kind = 'bin' AND b.qty <> 0) AS qtys
  FROM stock.balances b JOIN stock.locations l ON l.code = b.location
  WHERE b.sku = s.sku AND l.kind = ANY(%(storage)s::text[])) stored
WHERE s.sku = {codes.CODE_TO_SKU}
"""  # noqa: S608 - a constant fragment; the values are parameters


def lookup(rows: db.Rows, code: str) -> dict[str, Any]:
    """What the item lookup screen shows: the item, its stock on hand and the bins holding it; 404 unknown_code."""
    found = db.cursor(rows).execute(_LOOKUP, {"forms": codes.candidates(code), "code": code,
                                              "storage": list(STORAGE_KINDS)}).fetchone()
    if found is None:
        raise NotFoundError(code="unknown_code", details={"code": code})
    sku, name, spec, image_url, barcodes, active, on_hand, locations, qtys = found
    bins = [{"location": location, "qty": qty} for location, qty in zip(locations or (), qtys or (), strict=True)]
    return {"sku": sku, "name": name, "spec": spec, "image_url": image_url, "barcodes": barcodes, "active": active,
            "on_hand": on_hand, "bins": bins}


def on_hand_of(s: Session, sku: str) -> int:
    """Units in storage bins and in pickers' baskets (picked stock stays promised until it ships)."""
    return on_hand_by_sku(s, [sku]).get(sku, 0)


# Built once: a pick start asks this, and building the statement cost as much as running it.
_ON_HAND_BY_SKU = (select(Balance.sku, func.sum(Balance.qty)).join(Location, Location.code == Balance.location)
                   .where(Balance.sku.in_(bindparam("codes", expanding=True)), Location.kind.in_(STORAGE_KINDS))
                   .group_by(Balance.sku))


def on_hand_by_sku(s: Session, codes: list[str]) -> dict[str, int]:
    """on_hand_of for several SKUs in one statement; a SKU with nothing on hand is left out."""
    return {sku: int(qty) for sku, qty in s.execute(_ON_HAND_BY_SKU, {"codes": codes})}


def disable(s: Session, actor: Any, sku: str, reason: str) -> dict[str, Any]:
    """Stop selling a SKU: its negative balances are written off to zero and its bins are freed.

    Units still physically on a shelf must be moved or counted away first (409 stock_on_hand).
    """
    item = get(s, sku)
    rows = s.scalars(select(Balance).where(Balance.sku == sku, Balance.qty != 0)
                     .order_by(Balance.location, Balance.lot)).all()
    positive = [{"location": b.location, "qty": b.qty} for b in rows if b.qty > 0]
    if positive:
        raise ConflictError(code="stock_on_hand", details={"sku": sku, "bins": positive})
    moves = [Move("adjust", sku, -b.qty, None, b.location, b.lot, reason=reason, reference=f"disable:{sku}")
             for b in rows]
    written = ledger.apply(s, actor, moves) if moves else []
    item.active = False
    item.home_bin = None
    s.flush()
    return {"sku": sku, "active": False, "freed": [{"location": m.to_location, "qty": m.qty} for m in written]}
