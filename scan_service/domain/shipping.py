"""The shipment outbox: written with the verification, delivered to stock_service by a job.

The row commits in the same transaction that marks the order shipped, so a parcel is never
shipped without its stock movement waiting, and stock_service being down never blocks the
packing table. Delivery carries the order number as Idempotency-Key, so a retried or re-driven
delivery moves the stock once.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.auth import Identity
from common.http import ServiceError
from scan_service.models import Order, Pick, ShipmentOutbox


def add(s: Session, actor: Identity, order: Order) -> ShipmentOutbox:
    """Queue the stock movement of a shipped order (idempotent per order)."""
    existing = s.scalars(select(ShipmentOutbox).where(ShipmentOutbox.order_no == order.order_no)).first()
    if existing is not None:
        return existing
    # An order never picked (packed straight off the shelf) has no basket to look for.
    basket = order.basket or (_basket_of(s, order.order_no) if order.picked_at is not None else None)
    row = ShipmentOutbox(order_no=order.order_no, basket=basket,
                         lines=[{"sku": line.sku, "qty": line.qty} for line in order.lines],
                         identity=actor.as_dict(), state="pending")
    s.add(row)
    s.flush()
    return row


def _basket_of(s: Session, order_no: str) -> str | None:
    pick = s.scalars(select(Pick).where(Pick.orders.contains([order_no])).order_by(Pick.id.desc())).first()
    return pick.basket if pick is not None else None


def claim(s: Session, outbox_id: int) -> ShipmentOutbox | None:
    """Lock a pending row for delivery; None when it is delivered, missing, or being delivered."""
    return s.execute(select(ShipmentOutbox).where(ShipmentOutbox.id == outbox_id, ShipmentOutbox.state == "pending")
                     .with_for_update(skip_locked=True)).scalar_one_or_none()


# Answers that a repeat will not change: the row is parked as `failed` for a person to look at
# (the audit lists it) instead of being retried for ever.
RETRYABLE_CODES = frozenset({"request_in_progress", "too_many_requests"})


def deliver(s: Session, row: ShipmentOutbox, stock: Any) -> bool:
    """Send one shipment; True when delivered. Unreachable or 5xx: raise, the row stays pending."""
    row.attempts += 1
    try:
        stock.ship(row.order_no, row.basket, row.lines)
    except ServiceError as exc:
        row.last_error = f"{exc.status} {exc.code}: {exc.details}"[:500]
        if exc.status < 500 and exc.code not in RETRYABLE_CODES:
            row.state = "failed"
            return False
        raise
    except Exception as exc:
        row.last_error = f"{type(exc).__name__}: {getattr(exc, 'code', '')} {getattr(exc, 'details', '')}"[:500]
        raise
    row.state = "delivered"
    row.last_error = None
    row.delivered_at = s.execute(select(func.now())).scalar_one()
    return True


def pending(s: Session, older_than_seconds: int = 0, limit: int = 500) -> list[ShipmentOutbox]:
    query = select(ShipmentOutbox).where(ShipmentOutbox.state == "pending").order_by(ShipmentOutbox.id).limit(limit)
    if older_than_seconds:
        cutoff = datetime.now().astimezone() - timedelta(seconds=older_than_seconds)
        query = query.where(ShipmentOutbox.created_at < cutoff)
    return list(s.scalars(query))
