"""The shipment outbox: written with the verification, delivered to stock_service by a job.

The row commits in the same transaction that marks the order shipped, so a parcel is never
shipped without its stock movement waiting, and stock_service being down never blocks the
packing table. Delivery carries the order number as Idempotency-Key, so a retried or re-driven
delivery moves the stock once.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common import db
from common.auth import Identity
from common.db import Rows
from common.http import ServiceError
from scan_service.models import ShipmentOutbox

# Every order of a parcel in one statement; an order already queued (a repeat) keeps its row.
_ADD = """
INSERT INTO scan.shipment_outbox (order_no, basket, lines, identity, state)
SELECT r.order_no, r.basket, r.lines, %(identity)s, 'pending'
FROM jsonb_to_recordset(%(rows)s) AS r(order_no text, basket text, lines jsonb, n int)
ORDER BY r.n
ON CONFLICT (order_no) DO NOTHING
RETURNING order_no, id
"""
_LATEST_BASKET = "SELECT basket FROM scan.picks WHERE orders @> %(order)s ORDER BY id DESC LIMIT 1"
_QUEUED = "SELECT order_no, id FROM scan.shipment_outbox WHERE order_no = ANY(%(numbers)s::text[])"


def add(s: Rows, actor: Identity, parcel: list[Any]) -> list[int]:
    """Queue the stock movement of each shipped order (idempotent per order); their outbox ids, in order."""
    rows = [{"order_no": order.order_no, "n": number, "lines": [{"sku": line.sku, "qty": line.qty}
                                                                for line in order.lines],
             # An order never picked (packed straight off the shelf) has no basket to look for.
             "basket": order.basket or (_basket_of(s, order.order_no) if order.picked_at is not None else None)}
            for number, order in enumerate(parcel)]
    cursor = db.cursor(s)
    ids = dict(cursor.execute(_ADD, {"rows": Jsonb(rows), "identity": Jsonb(actor.as_dict())}).fetchall())
    queued = [order.order_no for order in parcel if order.order_no not in ids]
    if queued:
        ids.update(cursor.execute(_QUEUED, {"numbers": queued}).fetchall())
    return [ids[order.order_no] for order in parcel]


def _basket_of(s: Rows, order_no: str) -> str | None:
    """The basket of the order's latest pick (the GIN index on picks.orders answers it)."""
    found = db.cursor(s).execute(_LATEST_BASKET, {"order": Jsonb([order_no])}).fetchone()
    return found[0] if found else None


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
