"""Per-person statistics and the end-of-day self-audit, on the warehouse's calendar day."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from scan_service.domain import journal
from scan_service.models import Event, Order, ShipmentOutbox, Verification

SCAN_KINDS = ("pick_scan", "verify_scan")


def operator_stats(s: Session, day: date, timezone: str) -> list[dict[str, Any]]:
    """One row per operator who worked that day: picks by the badge in the basket, checks, errors."""
    start, end = journal.day_window(day, timezone)
    kind, result = Event.kind, Event.result
    ok_scan = and_(result == "ok", kind.in_(SCAN_KINDS))
    scan_at = func.min(Event.at).filter(kind.in_(SCAN_KINDS))
    query = (
        select(
            Event.operator,
            func.max(Event.operator_name),
            func.count(func.distinct(Event.order_no)).filter(kind == "picked"),
            func.coalesce(func.sum(Event.qty).filter(and_(ok_scan, kind == "pick_scan")), 0),
            func.count(func.distinct(Event.verification_id)).filter(kind == "verified"),
            func.coalesce(func.sum(Event.qty).filter(and_(ok_scan, kind == "verify_scan")), 0),
            func.count().filter(and_(kind.in_(SCAN_KINDS), result.is_not(None), result != "ok")),
            func.count().filter(kind.in_(("pick_short", "verify_short"))),
            scan_at,
            func.max(Event.at).filter(kind.in_(SCAN_KINDS)),
        )
        .where(Event.at >= start, Event.at < end)
        .group_by(Event.operator)
        .order_by(Event.operator)
    )
    by_hour = _items_by_hour(s, start, end, timezone)
    rows = []
    for row in s.execute(query):
        badge, name, orders_picked, items_picked, checks, items_verified, wrong, shortages, first, last = row
        if not any((orders_picked, items_picked, checks, items_verified, wrong, shortages)):
            continue
        items = int(items_picked) + int(items_verified)
        # At least a minute of work, so a single scan does not read as thousands per hour.
        hours = max(((last - first).total_seconds() if first and last else 0) / 3600, 1 / 60)
        rows.append({"badge": badge, "name": name or "", "orders_picked": orders_picked,
                     "items_picked": int(items_picked), "verifications": checks,
                     "items_verified": int(items_verified), "wrong_scans": wrong, "shortages": shortages,
                     "first_scan_at": first, "last_scan_at": last,
                     "items_per_hour": round(items / hours, 1) if first else 0.0,
                     "hours": by_hour.get(badge, [])})
    return rows


def _items_by_hour(s: Session, start: Any, end: Any, timezone: str) -> dict[str, list[dict[str, int]]]:
    """Items scanned right, per operator and hour of the warehouse's clock (the supervisor's chart)."""
    hour = func.extract("hour", func.timezone(timezone, Event.at)).label("hour")
    query = (select(Event.operator, hour, func.sum(Event.qty))
             .where(Event.at >= start, Event.at < end, Event.result == "ok", Event.kind.in_(SCAN_KINDS))
             .group_by(Event.operator, hour).order_by(Event.operator, hour))
    found: dict[str, list[dict[str, int]]] = {}
    for badge, at_hour, items in s.execute(query):
        found.setdefault(badge, []).append({"hour": int(at_hour), "items": int(items or 0)})
    return found


def _summary(order: Order) -> dict[str, Any]:
    return {"order_no": order.order_no, "waybill_no": order.waybill_no, "state": order.state,
            "shop": order.shop, "created_at": order.created_at, "shipped_at": order.shipped_at,
            "intercepted_at": order.intercepted_at}


def audit(s: Session, day: date, timezone: str) -> dict[str, Any]:
    """The self-audit before the shift ends (下班前自我审核): each exception of domain rule 5 listed."""
    start, end = journal.day_window(day, timezone)

    def within(column: Any) -> Any:
        return and_(column >= start, column < end)

    shipped_check = exists().where(Verification.state == "shipped", Verification.orders.contains(
        func.jsonb_build_array(Order.order_no)))
    lists = {
        "verified_not_shipped": select(Order).where(within(Order.verified_at), Order.shipped_at.is_(None)),
        "shipped_not_verified": select(Order).where(within(Order.shipped_at), ~shipped_check),
        "printed_without_waybill": select(Order).where(within(Order.created_at), Order.waybill_no.is_(None)),
        "intercepted_open": select(Order).where(Order.state == "intercepted", Order.intercepted_at < end),
        "picked_not_verified": select(Order).where(within(Order.picked_at), Order.state == "picked"),
    }
    answer: dict[str, Any] = {name: [_summary(o) for o in s.scalars(q.order_by(Order.order_no))]
                              for name, q in lists.items()}
    answer["shipments_undelivered"] = [
        {"order_no": row.order_no, "state": row.state, "attempts": row.attempts, "last_error": row.last_error}
        for row in s.scalars(select(ShipmentOutbox).where(ShipmentOutbox.state.in_(("pending", "failed")),
                                                           ShipmentOutbox.created_at < end))]

    def count(query: Any) -> int:
        return int(s.execute(query).scalar_one())

    answer["totals"] = {
        "imported": count(select(func.count()).select_from(Order).where(within(Order.created_at))),
        "picked": count(select(func.count()).select_from(Order).where(within(Order.picked_at))),
        "verified": count(select(func.count(func.distinct(Event.order_no))).where(
            Event.kind == "verified", within(Event.at))),
        "shipped": count(select(func.count()).select_from(Order).where(within(Order.shipped_at))),
    }
    return answer
