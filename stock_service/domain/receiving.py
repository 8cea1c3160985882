"""Receipts (expected vs received, into the receiving area) and putaway (receiving area → a bin)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import ConflictError, ForbiddenError, NotFoundError
from stock_service.domain import ledger, skus, stock
from stock_service.domain.ledger import Move
from stock_service.models import Balance, Location, Receipt, ReceiptLine, Sku


def create(s: Session, actor: Any, *, ref: str, lines: list[dict[str, Any]], location: str | None = None) -> Receipt:
    """Open a receipt for a delivery; its lines say what is expected."""
    if s.scalar(select(Receipt.id).where(Receipt.ref == ref)) is not None:
        raise ConflictError(code="receipt_exists", details={"ref": ref})
    if location is not None:
        place = ledger.location(s, location)
        if place.kind != "staging":
            raise ConflictError(code="not_a_staging_location", details={"location": location})
    else:
        location = stock.first_of_kind(s, "staging", stock.RECEIVING)
    expected: dict[str, int] = {}
    for index, line in enumerate(lines):
        ledger.sku(s, line["sku"], f"lines.{index}.sku")
        expected[line["sku"]] = expected.get(line["sku"], 0) + line["qty"]
    receipt = Receipt(ref=ref, state="open", location=location, created_by=actor.badge,
                      lines=[ReceiptLine(sku=k, expected=v, received=0) for k, v in expected.items()])
    s.add(receipt)
    s.flush()
    return receipt


def get(s: Session, receipt_id: int, lock: bool = False) -> Receipt:
    stmt = select(Receipt).where(Receipt.id == receipt_id)
    receipt = s.scalar(stmt.with_for_update() if lock else stmt)
    if receipt is None:
        raise NotFoundError(code="unknown_receipt", details={"id": receipt_id})
    return receipt


def receive(s: Session, actor: Any, key: str | None, receipt_id: int, *, code: str, qty: int,
            force: bool = False, lot: str = "") -> dict[str, Any]:
    """Count units of an item in; over what the receipt expects is refused unless a stock manager forces it."""
    receipt = get(s, receipt_id, lock=True)
    if receipt.state != "open":
        raise ConflictError(code="receipt_closed", details={"id": receipt_id, "state": receipt.state})
    item = skus.by_code(s, code)
    line = next((ln for ln in receipt.lines if ln.sku == item.sku), None)
    if line is None:
        if not force:
            raise ConflictError(code="not_on_receipt", details={"code": code, "sku": item.sku})
        line = ReceiptLine(receipt_id=receipt.id, sku=item.sku, expected=0, received=0)
        s.add(line)
        receipt.lines.append(line)
    over = line.received + qty - line.expected
    if over > 0:
        if not force:
            raise ConflictError(code="over_receipt", details={
                "sku": item.sku, "expected": line.expected, "received": line.received, "qty": qty})
        if not actor.has_any(("stock_manager",)):
            raise ForbiddenError(code="force_needs_stock_manager", details={"force": "stock_manager only"})
    ledger.apply(s, actor, [Move("receive", item.sku, qty, None, receipt.location, lot,
                                 reason="over_receipt" if over > 0 else "", reference=f"receipt:{receipt.ref}")], key)
    line.received += qty
    s.flush()
    return {"id": line.id, "receipt_id": receipt.id, "sku": line.sku, "expected": line.expected,
            "received": line.received}


def close(s: Session, receipt_id: int) -> Receipt:
    """Close a receipt: what was not delivered stops counting as in transit."""
    receipt = get(s, receipt_id, lock=True)
    receipt.state = "closed"
    s.flush()
    return receipt


def suggest(s: Session, sku: str) -> dict[str, Any]:
    """Where to put a SKU away: a bin already holding it, else its home bin, else an empty bin of its zone."""
    item = skus.get(s, sku)
    holding = s.scalar(select(Location.code).join(Balance, Balance.location == Location.code)
                       .where(Balance.sku == sku, Balance.qty > 0, Location.kind == "bin")
                       .order_by(Balance.qty.desc(), Location.sequence, Location.code).limit(1))
    if holding is not None:
        return {"sku": sku, "location": holding, "reason": "holds_sku"}
    zone = None
    if item.home_bin is not None:
        home = s.get(Location, item.home_bin)
        if home is not None:
            occupied_home = s.scalar(select(Balance.id).where(Balance.location == home.code, Balance.qty != 0,
                                                              Balance.sku != sku).limit(1))
            if occupied_home is None:
                return {"sku": sku, "location": home.code, "reason": "home_bin"}
            zone = home.zone
    occupied = select(Balance.location).where(Balance.qty != 0)
    homes = select(Sku.home_bin).where(Sku.home_bin.is_not(None), Sku.sku != sku, Sku.active.is_(True))
    stmt = (select(Location.code).where(Location.kind == "bin", Location.code.not_in(occupied),
                                        Location.code.not_in(homes))
            .order_by(Location.sequence, Location.code).limit(1))
    empty = s.scalar(stmt.where(Location.zone == zone)) if zone else None
    if empty is None:
        empty = s.scalar(stmt)
    if empty is None:
        raise NotFoundError(code="no_empty_bin", details={"sku": sku})
    return {"sku": sku, "location": empty, "reason": "empty_bin"}


def putaway(s: Session, actor: Any, key: str | None, *, code: str, qty: int, to: str,
            source: str | None = None, lot: str = "") -> ledger.Written:
    """Move received units from the receiving area to a bin."""
    item = skus.by_code(s, code)
    target = ledger.location(s, to, "to")
    if target.kind != "bin":
        raise ConflictError(code="not_a_bin", details={"to": to})
    source = source or stock.first_of_kind(s, "staging", stock.RECEIVING)
    return ledger.apply(s, actor, [Move("putaway", item.sku, qty, source, to, lot)], key)[0]
