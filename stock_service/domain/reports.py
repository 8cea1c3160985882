"""Stock reports for the supervisor pages: negative balances, low stock, SKUs to retire."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stock_service.domain import paging, skus
from stock_service.models import Allocation, AllocationLine, Balance, Location, Movement, Sku


def negative(s: Session, limit: int, cursor: str | None):
    """Balances below zero (only where a location's policy lets them happen)."""
    return paging.page(s, select(Balance).where(Balance.qty < 0), Balance.id, limit, cursor)


def low(s: Session, threshold: int, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Active SKUs with fewer than `threshold` units on hand (bins and baskets)."""
    on_hand = (select(Balance.sku, func.sum(Balance.qty).label("qty"))
               .join(Location, Location.code == Balance.location)
               .where(Location.kind.in_(skus.STORAGE_KINDS)).group_by(Balance.sku).subquery())
    qty = func.coalesce(on_hand.c.qty, 0)
    stmt = (select(Sku.sku, Sku.name, qty.label("on_hand")).outerjoin(on_hand, on_hand.c.sku == Sku.sku)
            .where(Sku.active.is_(True), qty < threshold))
    if cursor:
        stmt = stmt.where(Sku.sku > cursor)
    rows = s.execute(stmt.order_by(Sku.sku).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return ([{"sku": r.sku, "name": r.name, "on_hand": r.on_hand} for r in rows],
            rows[-1].sku if more and rows else None)


def retire(s: Session, idle_days: int, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Active SKUs below zero overall that are no longer sold: no open allocation, no shipment for `idle_days`."""
    total = (select(Balance.sku, func.sum(Balance.qty).label("qty")).group_by(Balance.sku)
             .having(func.sum(Balance.qty) < 0).subquery())
    last_ship = (select(Movement.sku, func.max(Movement.at).label("at")).where(Movement.type == "ship")
                 .group_by(Movement.sku).subquery())
    open_orders = (select(AllocationLine.sku).join(Allocation, Allocation.order_no == AllocationLine.order_no)
                   .where(Allocation.state == "open"))
    stmt = (select(Sku.sku, Sku.name, total.c.qty, last_ship.c.at).join(total, total.c.sku == Sku.sku)
            .outerjoin(last_ship, last_ship.c.sku == Sku.sku)
            .where(Sku.active.is_(True), Sku.sku.not_in(open_orders),
                   (last_ship.c.at.is_(None)) | (last_ship.c.at < func.now() - func.make_interval(0, 0, 0, idle_days))))
    if cursor:
        stmt = stmt.where(Sku.sku > cursor)
    rows = s.execute(stmt.order_by(Sku.sku).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = []
    for r in rows:
        bins = s.execute(select(Balance.location, Balance.qty).where(Balance.sku == r.sku, Balance.qty != 0)
                         .order_by(Balance.location)).all()
        items.append({"sku": r.sku, "name": r.name, "qty": r.qty, "last_shipped_at": r.at,
                      "bins": [{"location": b.location, "qty": b.qty} for b in bins]})
    return items, (rows[-1].sku if more and rows else None)
