"""Verification (验货): waybill first, buyer's requests first, then every item; ship on success."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from codes.recognize import Scan, recognize
from common.auth import Identity
from common.db import Rows
from common.errors import ConflictError, NotFoundError
from scan_service.domain import journal, orders, scanrows, shipping
from scan_service.domain.stock import Stock
from scan_service.models import Order, OrderNote, Verification

# Domain rule 4: an unpaid order ships only when a note says so. A note "allows" it when it
# contains one of these phrases (case-insensitive); the list is the documented contract.
UNPAID_ALLOWED_PHRASES = ("允许未付款发货", "未付款可发货", "未付款也发货", "ship unpaid", "ship without payment")


def allows_unpaid(notes: list[OrderNote]) -> bool:
    return any(phrase.lower() in note.text.lower() for note in notes for phrase in UNPAID_ALLOWED_PHRASES)


def open_parcel(s: Rows, actor: Identity, waybill: str, stock: Stock) -> scanrows.Opened:
    """The verifier scans the waybill: load the parcel's orders, or refuse loudly."""
    scan = recognize(waybill, expect="waybill")
    key = scan.value if scan.kind == "waybill" else waybill.strip().upper()
    parcel = scanrows.lock_parcel(s, key)
    if not parcel:
        raise NotFoundError(code="unknown_waybill", details={"waybill": waybill})
    _refuse_blocked(parcel)
    expected = _expected(parcel)
    # Only an order that went into a basket was picked: one packed straight off the shelf has no pick to read.
    known = _picked_items(s, [o.order_no for o in parcel if o.basket])
    missing = [sku for sku in expected if sku not in known]
    if missing:
        known |= _items(stock, missing)
    lines = [scanrows.Line(id=0, sku=sku, name=known.get(sku, {}).get("name", sku), expected=qty, scanned=0,
                           barcodes=list(known.get(sku, {}).get("barcodes", []))) for sku, qty in expected.items()]
    verification = scanrows.open_check(s, key, actor.badge, actor.name, [o.order_no for o in parcel], lines)
    verification.parcel = parcel
    for order in parcel:
        journal.append(s, actor, "verification_opened", order_no=order.order_no, verification_id=verification.id,
                       detail={"waybill": key})
    return verification


def _picked_items(s: Rows, order_nos: list[str]) -> dict[str, dict[str, Any]]:
    """Name and barcodes of the parcel's SKUs as their pick carried them from stock, latest pick first.

    Saves the packing table one call to stock_service per SKU. An item whose pick had no barcodes
    (stock was away when the walk was planned) is left out, so it is asked of stock again.
    """
    if not order_nos:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for sku, name, barcodes in scanrows.picked_items(s, order_nos):
        if barcodes and sku not in found:
            found[sku] = {"name": name, "barcodes": barcodes}
    return found


def _items(stock: Stock, skus: list[str]) -> dict[str, dict[str, Any]]:
    """Name and barcodes of these SKUs, in one call; while stock_service is away the SKU codes alone still match.

    A failed call costs the packing table one timeout, not one per line.
    """
    try:
        return stock.items(skus)
    except Exception:  # noqa: BLE001 - stock unreachable or refusing: verification goes on with SKU codes
        return {}


def _refuse_blocked(parcel: list[Order]) -> None:
    for order in parcel:
        if order.state == "intercepted":
            raise ConflictError(code="order_intercepted", details={"order_no": order.order_no,
                                                                   "reason": order.intercept_reason})
    for order in parcel:
        if order.state == "shipped":
            raise ConflictError(code="already_shipped", details={"order_no": order.order_no})
        if order.state in ("cancelled", "returned"):
            raise ConflictError(code="order_cancelled", details={"order_no": order.order_no, "state": order.state})
    for order in parcel:
        if not order.paid and not allows_unpaid(order.notes):
            raise ConflictError(code="order_unpaid", details={"order_no": order.order_no})


def _expected(parcel: list[Order]) -> dict[str, int]:
    """The union of the lines of every order in the parcel."""
    total: dict[str, int] = {}
    for order in parcel:
        for line in order.lines:
            total[line.sku] = total.get(line.sku, 0) + line.qty
    return total


def get(s: Session, verification_id: int, *, lock: bool = False) -> Verification:
    """A check; `lock=True` to change it, which moves its version: a scan that read it before tries again."""
    query = select(Verification).where(Verification.id == verification_id)
    if lock:
        query = query.with_for_update()
    verification = s.execute(query).scalar_one_or_none()
    if verification is None:
        raise NotFoundError(code="unknown_verification", details={"id": verification_id})
    if lock:
        verification.version += 1
    return verification


def _require_open(verification: Verification | scanrows.Check) -> None:
    if verification.state != "open":
        code = "already_shipped" if verification.state == "shipped" else "verification_closed"
        raise ConflictError(code=code, details={"id": verification.id, "state": verification.state})


def match(lines: list[Any], scan: Scan) -> Any | None:
    """The line whose SKU code or one of whose barcodes the scan names."""
    keys = scan.keys() | {scan.raw.strip()}
    for line in lines:
        if line.sku in keys or line.sku.upper() in keys or keys & set(line.barcodes):
            return line
    return None


def scan_item(s: Rows, actor: Identity, verification_id: int, code: str, qty: int,
              stock: Stock) -> dict[str, Any]:
    """One item (or `qty` of them) into the parcel; a wrong item is a red row that counts nothing."""
    verification = scanrows.read_check(s, verification_id)
    if verification is None:
        raise NotFoundError(code="unknown_verification", details={"id": verification_id})
    _require_open(verification)
    scan = recognize(code, expect="item")
    line = match(verification.lines, scan) if scan.kind in ("item", "waybill") else None
    if line is None:
        result = _not_in_parcel(scan, stock)
    elif line.scanned + qty > line.expected:
        result = "over_qty"
    else:
        line.scanned += qty
        result = "ok"
    scanrows.save_check(s, verification, line if result == "ok" else None)
    journal.append(s, actor, "verify_scan", verification_id=verification.id, code=code[:256], result=result,
                   sku=line.sku if line is not None else None, qty=qty if result == "ok" else 0,
                   detail={"scan": scan.as_dict()})
    complete = all(item.scanned == item.expected for item in verification.lines)
    return {"result": result, "line": line, "lines": verification.lines, "complete": complete,
            "scan": scan.as_dict(), "next_state": "complete" if complete else "scan_item"}


def _not_in_parcel(scan: Scan, stock: Stock) -> str:
    """Known elsewhere in the warehouse: a wrong item; known nowhere: an unknown code."""
    if scan.kind not in ("item", "waybill"):
        return "unknown_code" if scan.kind == "unknown" else "wrong_item"
    try:
        return "wrong_item" if stock.lookup(scan.gtin or scan.value) is not None else "unknown_code"
    except Exception:  # noqa: BLE001 - stock away: the item is still not in this parcel
        return "wrong_item"


def missing(verification: Verification | scanrows.Check) -> list[dict[str, Any]]:
    return [{"sku": line.sku, "name": line.name, "expected": line.expected, "scanned": line.scanned,
             "missing": line.expected - line.scanned}
            for line in verification.lines if line.scanned < line.expected]


def complete(s: Rows, actor: Identity, verification_id: int) -> tuple[scanrows.Check, list[int]]:
    """Every line scanned: the parcel ships, and its stock movement waits in the outbox."""
    verification = scanrows.read_check(s, verification_id)
    if verification is None:
        raise NotFoundError(code="unknown_verification", details={"id": verification_id})
    # The orders' row locks serialise two verifiers finishing the same parcel: one ships it,
    # the other finds it shipped.
    parcel = orders.locked(s, sorted(verification.orders))
    if verification.state == "shipped":
        return verification, []
    _require_open(verification)
    for order in parcel:
        if order.state == "intercepted":
            raise ConflictError(code="order_intercepted", details={"order_no": order.order_no})
        if order.state == "shipped":
            raise ConflictError(code="already_shipped", details={"order_no": order.order_no})
    gaps = missing(verification)
    if gaps:
        raise ConflictError(code="lines_missing", details={"lines": gaps})
    outbox_ids = shipping.add(s, actor, parcel)
    for order in parcel:
        journal.append(s, actor, "verified", order_no=order.order_no, verification_id=verification.id,
                       qty=sum(line.qty for line in order.lines))
        journal.append(s, actor, "shipped", order_no=order.order_no, verification_id=verification.id)
    scanrows.ship_check(s, verification, [order.order_no for order in parcel])
    return verification, outbox_ids


def report_short(s: Session, actor: Identity, verification_id: int, sku: str, qty: int) -> Verification:
    """A shortage found at the packing table: the parcel's orders go to `short` (return procedure)."""
    verification = get(s, verification_id, lock=True)
    _require_open(verification)
    line = next((item for item in verification.lines if item.sku == sku), None)
    if line is None:
        raise ConflictError(code="wrong_item", details={"sku": sku})
    if qty > line.expected - line.scanned:
        raise ConflictError(code="over_qty", details={"sku": sku, "missing": line.expected - line.scanned})
    for no in sorted(verification.orders):
        order = orders.get(s, no, lock=True)
        if any(order_line.sku == sku for order_line in order.lines):
            order.state = "short"
    # One event for the shortage; the orders' timelines reach it through the verification.
    journal.record(s, actor, "verify_short", verification_id=verification.id, sku=sku, qty=qty)
    verification.state = "short"
    verification.completed_at = orders.now(s)
    s.flush()
    return verification
