"""What the order page and the order list show, read on the unit's cursor as plain rows.

A supervisor's order page is an order with its lines, notes and a dozen journal events; loading
them as ORM objects cost the page several times its SQL, as it did the scans (see scanrows).
The answers have the attributes OrderOut and OrderDetailOut read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from psycopg import sql
from psycopg.rows import class_row, dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, select, union

from common.db import Rows, compiled, cursor
from common.errors import NotFoundError
from scan_service.domain import journal
from scan_service.domain.scanrows import Note
from scan_service.models import Event, Pick, Verification

_ORDERS = """
SELECT order_no, shop, waybill_no, carrier, paid, state, merge_into, basket, intercept_reason, created_at,
       picked_at, verified_at, shipped_at, intercepted_at, returned_at
FROM scan.orders WHERE order_no = ANY(%(order_nos)s::text[]) ORDER BY order_no
"""
_LINES = ("SELECT order_no, sku, qty, returned FROM scan.order_lines WHERE order_no = ANY(%(order_nos)s::text[]) "
          "ORDER BY id")
_NOTES = ("SELECT id, order_no, kind, text, operator, created_at FROM scan.order_notes "
          "WHERE order_no = ANY(%(order_nos)s::text[]) ORDER BY id")


def _timeline_statement() -> str:
    """Three index lookups joined by UNION: one OR across the three columns reads the whole journal."""
    order_nos = bindparam("order_nos", type_=Pick.orders.type)
    picks = select(Pick.id).where(Pick.orders.contains(order_nos))
    checks = select(Verification.id).where(Verification.orders.contains(order_nos))
    ids = union(select(Event.id).where(Event.order_no == bindparam("order_no")),
                select(Event.id).where(Event.pick_id.in_(picks)),
                select(Event.id).where(Event.verification_id.in_(checks))).subquery()
    return compiled(select(Event).where(Event.id.in_(select(ids.c.id))).order_by(Event.at, Event.id))


TIMELINE = _timeline_statement()


@dataclass
class OrderView:
    order_no: str
    shop: str
    waybill_no: str | None
    carrier: str | None
    paid: bool
    state: str
    merge_into: str | None
    basket: str | None
    intercept_reason: str | None
    created_at: datetime
    picked_at: datetime | None
    verified_at: datetime | None
    shipped_at: datetime | None
    intercepted_at: datetime | None
    returned_at: datetime | None
    lines: list[dict[str, Any]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def page(rows: Rows, order_no: str) -> OrderView:
    """The order page: the order, its lines, notes and timeline; 404 unknown_order."""
    found = views(rows, [order_no])
    if not found:
        raise NotFoundError(code="unknown_order", details={"order_no": order_no})
    found[0].events = timeline(rows, order_no)
    return found[0]


def timeline(rows: Rows, order_no: str) -> list[dict[str, Any]]:
    """Everything that happened to an order: its own events and the scans of its picks and checks."""
    with cursor(rows).connection.cursor(row_factory=dict_row) as cur:
        return cur.execute(TIMELINE, {"order_no": order_no, "order_nos": Jsonb([order_no])}).fetchall()


def views(rows: Rows, order_nos: list[str]) -> list[OrderView]:
    """These orders with their lines and notes, in order-number order: three statements however many."""
    if not order_nos:
        return []
    params = {"order_nos": order_nos}
    connection = cursor(rows).connection
    with connection.cursor(row_factory=class_row(OrderView)) as cur:
        found = {view.order_no: view for view in cur.execute(_ORDERS, params)}
    for no, sku, qty, returned in cursor(rows).execute(_LINES, params):
        found[no].lines.append({"sku": sku, "qty": qty, "returned": returned})
    with connection.cursor(row_factory=class_row(Note)) as cur:
        for note in cur.execute(_NOTES, params):
            found[note.order_no].notes.append(note)
    return list(found.values())


def listing(rows: Rows, *, waybill: str | None, state: str | None, day: date | None, q: str | None,
            timezone: str, limit: int, cursor_: str | None) -> tuple[list[OrderView], str | None]:
    """Orders by waybill, state, import day or text, a page in order-number order."""
    where, params = _conditions(waybill, state, day, q, timezone, cursor_)
    params["limit"] = limit + 1
    statement = sql.SQL("SELECT order_no FROM scan.orders WHERE {} ORDER BY order_no LIMIT %(limit)s").format(
        sql.SQL(" AND ").join(sql.SQL(fragment) for fragment in where))
    numbers = [no for (no,) in cursor(rows).execute(statement, params)]
    more = len(numbers) > limit
    numbers = numbers[:limit]
    return views(rows, numbers), (numbers[-1] if more and numbers else None)


def _conditions(waybill: str | None, state: str | None, day: date | None, q: str | None, timezone: str,
                after: str | None) -> tuple[list[str], dict[str, Any]]:
    """The list's filters as fixed SQL fragments with their parameters (nothing typed goes into the text)."""
    where, params = ["true"], {}
    if waybill:
        where.append("waybill_no = %(waybill)s")
        params["waybill"] = waybill.upper()
    if state:
        where.append("state = %(state)s")
        params["state"] = state
    if day:
        where.append("created_at >= %(start)s AND created_at < %(end)s")
        params["start"], params["end"] = journal.day_window(day, timezone)
    if q:
        where.append("(order_no ILIKE %(like)s OR waybill_no ILIKE %(like)s OR shop ILIKE %(like)s)")
        params["like"] = f"%{q.replace('%', '').replace('_', '')}%"
    if after:
        where.append("order_no > %(after)s")
        params["after"] = after
    return where, params
