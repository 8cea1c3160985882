"""Orders as the ERP sends them: append-only notes, intercepts, the timeline (import: order_import)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.auth import Identity
from common.db import Rows
from common.errors import ConflictError, NotFoundError, ServiceUnavailableError
from common.http import ServiceError
from scan_service.domain import journal, scanrows
from scan_service.models import Order, OrderNote

# Before picking starts the ERP may still change an order; once goods move it is locked.
EDITABLE_STATES = frozenset({"printed"})
OPEN_STATES = ("printed", "picking", "picked", "verified", "short")
NOTE_KINDS_FIRST = ("buyer", "seller", "note")


def content_hash(data: dict[str, Any]) -> str:
    """What makes two imports of one order 'the same content'."""
    lines: dict[str, int] = {}
    for line in data["lines"]:
        lines[line["sku"]] = lines.get(line["sku"], 0) + line["qty"]
    canonical = {k: data.get(k) for k in ("shop", "waybill_no", "carrier", "paid", "buyer_note", "seller_note",
                                         "merge_into")}
    canonical["lines"] = sorted(lines.items())
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def merged_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    total: dict[str, int] = {}
    for line in lines:
        total[line["sku"]] = total.get(line["sku"], 0) + line["qty"]
    return [{"sku": sku, "qty": qty} for sku, qty in total.items()]


def get(s: Session, order_no: str, *, lock: bool = False) -> Order:
    query = select(Order).where(Order.order_no == order_no)
    if lock:
        query = query.with_for_update()
    order = s.execute(query).scalar_one_or_none()
    if order is None:
        raise NotFoundError(code="unknown_order", details={"order_no": order_no})
    return order


def locked(s: Rows, order_nos: list[str]) -> list[scanrows.Ordered]:
    """These orders locked in one statement, in order-number order (as imports lock them, so no two
    transactions wait on each other in a cycle), with their lines; plain rows, not ORM objects."""
    found = scanrows.lock_orders(s, order_nos)
    if len(found) < len(order_nos):
        known = {order.order_no for order in found}
        raise NotFoundError(code="unknown_order", details={"order_no": next(no for no in order_nos if no not in known)})
    return found


def add_note(s: Session, actor: Identity, order_no: str, text: str) -> OrderNote:
    get(s, order_no)
    note = OrderNote(order_no=order_no, kind="note", text=text, operator=actor.badge)
    s.add(note)
    journal.record(s, actor, "note", order_no=order_no, detail={"text": text})
    s.flush()
    return note


def sorted_notes(notes: list[OrderNote]) -> list[OrderNote]:
    """The buyer's requests first (domain rule 3), then the seller's, then the floor's, oldest first."""
    return sorted(notes, key=lambda n: (NOTE_KINDS_FIRST.index(n.kind) if n.kind in NOTE_KINDS_FIRST else 9, n.id))


def cancel(s: Session, actor: Identity, order_no: str, reason: str, stock: Any) -> Order:
    """Stop a printed parcel (拦截): it becomes `intercepted`; after shipping it is too late.

    `stock` is the stock_service client: the order's stock is given back, and a parcel already
    picked goes from its basket to the intercept shelf.
    """
    order = get(s, order_no, lock=True)
    if order.state == "shipped" or order.shipped_at is not None:
        raise ConflictError(code="already_shipped", details={"order_no": order_no})
    if order.state in ("intercepted", "cancelled", "returned"):
        _release(order, stock)  # a repeat retries a release that could not be made the first time
        return order
    order.state = "intercepted"
    order.intercept_reason = reason
    order.intercepted_at = now(s)
    released = _release(order, stock)
    journal.record(s, actor, "intercepted", order_no=order_no,
                   detail={"reason": reason, "allocation_released": released})
    s.flush()
    return order


def _release(order: Order, stock: Any) -> bool:
    """Give the order's stock back. Stopping the parcel matters more: stock being away does not block it."""
    if not order.allocated:
        return True
    try:
        if order.basket and order.picked_at is not None:
            lines = [{"sku": line.sku, "qty": line.qty} for line in order.lines]
            stock.intercept(order.order_no, order.basket, lines)
        else:
            stock.release(order.order_no)
    except ServiceUnavailableError:
        return False
    except ServiceError as exc:
        if exc.status != 404:  # 404: stock holds no allocation for it, nothing to give back
            raise
    order.allocated = False
    return True


def now(s: Session) -> datetime:
    """The database's clock: one clock for every time the floor records."""
    return s.execute(select(func.now())).scalar_one()


def parcel(s: Session, waybill: str, *, lock: bool = False) -> list[Order]:
    """The orders shipping under one waybill (a merged parcel is several), main order first."""
    return parcels(s, [waybill], lock=lock).get(waybill, [])


def parcels(s: Session, waybills: Iterable[str], *, lock: bool = False,
            besides: Iterable[str] = ()) -> dict[str, list[Order]]:
    """The orders under each waybill in one statement, main order first; `besides`: order numbers left out."""
    # Locked in order-number order, as an import and a verification's completion lock them: two
    # transactions taking the same orders in different orders could deadlock.
    query = select(Order).where(Order.waybill_no.in_(list(waybills))).order_by(Order.order_no)
    besides = list(besides)
    if besides:
        query = query.where(Order.order_no.not_in(besides))
    if lock:
        query = query.with_for_update()
    found: dict[str, list[Order]] = {}
    for order in s.scalars(query):
        found.setdefault(order.waybill_no, []).append(order)
    return {waybill: sorted(members, key=lambda order: order.merge_into is not None)
            for waybill, members in found.items()}
