"""Allocations: stock promised to orders, one order or a basket's at once, on the unit's cursor.

A pick start promises its whole basket in one call. Its statements run on the unit's psycopg
cursor as plain rows: SQLAlchemy's execution layer and ORM objects cost it about twice its SQL.

Each order is idempotent by its number: a repeat with the same lines (or after shipping)
answers the allocation as it stands; new lines for an open order replace its old ones. A
transaction-scoped advisory lock per order, then per SKU, all taken before anything is read,
makes racing allocations queue up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from common.db import advisory_key, cursor
from common.errors import ConflictError, NotFoundError
from stock_service.domain.skus import STORAGE_KINDS


@dataclass
class Promised:
    """An allocation as the answer shows it (order_no, state, lines by SKU)."""

    order_no: str
    wanted: dict[str, int]
    state: str = "open"

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [{"sku": sku, "qty": qty} for sku, qty in sorted(self.wanted.items())]


# Names sorted by the caller: two transactions needing some of the same locks take them in the
# same order and never wait on each other in a cycle. A function scan of an array yields its
# elements in array order, so the locks are taken in it. Order locks come before SKU locks.
_LOCK_EACH = "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%(keys)s::bigint[]) AS k"
# After the locks, in a statement of its own (READ COMMITTED: it sees what a racing allocation of
# the same order or SKU committed): the orders' allocations and lines, which SKUs exist, and what
# is free of each: on hand in bins and baskets, less what open orders hold (only the held lines,
# a partial index: the cost follows the orders in progress, not every order ever shipped).
_EXISTING = """
SELECT 'allocation', a.order_no, a.state, NULL::text, NULL::int
FROM stock.allocations a WHERE a.order_no = ANY(%(numbers)s::text[])
UNION ALL
SELECT 'line', l.order_no, NULL, l.sku, l.qty
FROM stock.allocation_lines l WHERE l.order_no = ANY(%(numbers)s::text[])
UNION ALL
SELECT 'sku', NULL, NULL, k.sku, NULL FROM stock.skus k WHERE k.sku = ANY(%(skus)s::text[])
UNION ALL
SELECT 'free', NULL, NULL, c.sku, (
         coalesce((SELECT sum(b.qty) FROM stock.balances b JOIN stock.locations l ON l.code = b.location
                   WHERE b.sku = c.sku AND l.kind = ANY(%(storage)s::text[])), 0)
       - coalesce((SELECT sum(a.qty) FROM stock.allocation_lines a WHERE a.sku = c.sku AND a.held), 0))::int
FROM unnest(%(skus)s::text[]) AS c(sku)
"""
# An order changed before picking, or released and allocated again: its old lines go first, in
# a statement of their own (the parts of one statement run in no set order).
_CLEAR = "DELETE FROM stock.allocation_lines WHERE order_no = ANY(%(numbers)s::text[])"
# The orders, open, with their new lines held, in one statement.
_WRITE = """
WITH upsert AS (
       INSERT INTO stock.allocations (order_no, state) SELECT unnest(%(numbers)s::text[]), 'open'
       ON CONFLICT (order_no) DO UPDATE SET state = 'open')
INSERT INTO stock.allocation_lines (order_no, sku, qty, held)
SELECT line.order_no, line.sku, line.qty, true
FROM unnest(%(line_numbers)s::text[], %(skus)s::text[], %(qtys)s::int[]) AS line(order_no, sku, qty)
"""


def allocate(s: Session, order_no: str, lines: list[dict[str, Any]]) -> tuple[Promised, bool]:
    """Promise stock to an order; short of available stock → 409 with the short lines.

    Returns (allocation, whether anything changed).
    """
    return allocate_orders(s, [{"order_no": order_no, "lines": lines}], batch=False)[0]


def allocate_orders(s: Session, orders: list[dict[str, Any]], batch: bool = True) -> list[tuple[Promised, bool]]:
    """Promise stock to several orders (a basket's) at once: all of them, or none (409 naming the first short).

    Each order is treated as `allocate` treats one; within the call the orders count against each
    other, as if each earlier one had been committed first. Three statements whatever the number
    of orders and lines (four when an order's lines change): the locks, the reads, the writes.
    """
    numbers = [order["order_no"] for order in orders]
    skus = sorted({line["sku"] for order in orders for line in order["lines"]})
    _lock(s, sorted(set(numbers)), skus)
    existing, known, free = _existing(s, numbers, skus)
    _require_known(orders, known, batch)
    wanted = {order["order_no"]: merge(order["lines"]) for order in orders}
    held = {no: found.wanted for no, found in existing.items() if found.state == "open"}
    # A shipped order, or an open one asked again for what it holds, is answered as it stands.
    changing = [no for no in numbers if no not in existing
                or (existing[no].state != "shipped" and held.get(no) != wanted[no])]
    if changing:
        _check_available(changing, wanted, held, free)
        _write(s, {no: wanted[no] for no in changing}, [no for no in changing if no in existing])
    return [(Promised(no, wanted[no]), True) if no in changing else (existing[no], False) for no in numbers]


def merge(lines: list[dict[str, Any]]) -> dict[str, int]:
    """Quantity per SKU of lines that may name a SKU more than once."""
    merged: dict[str, int] = {}
    for line in lines:
        merged[line["sku"]] = merged.get(line["sku"], 0) + line["qty"]
    return merged


def _require_known(orders: list[dict[str, Any]], known: set[str], batch: bool) -> None:
    """The first line naming an unknown SKU is the 404, named by its place in the request."""
    for order_index, order in enumerate(orders):
        for line_index, line in enumerate(order["lines"]):
            if line["sku"] not in known:
                raise NotFoundError(code="unknown_sku",
                                    details={_line_field(order_index, line_index, batch): line["sku"]})


def _line_field(order_index: int, line_index: int, batch: bool) -> str:
    field = f"lines.{line_index}.sku"
    return f"orders.{order_index}.{field}" if batch else field


def _lock(s: Session, numbers: list[str], skus: list[str]) -> None:
    """Each order's lock, then each SKU's, in one statement (both lists sorted)."""
    keys = ([advisory_key("stock", "allocation", no) for no in numbers]
            + [advisory_key("stock", "available", sku) for sku in skus])
    cursor(s).execute(_LOCK_EACH, {"keys": keys})


def _existing(s: Session, numbers: list[str],
              skus: list[str]) -> tuple[dict[str, Promised], set[str], dict[str, int]]:
    """The orders' allocations as they stand (every line, held or not), the known SKUs among `skus`
    and what is free of each."""
    existing: dict[str, Promised] = {}
    known: set[str] = set()
    free: dict[str, int] = {}
    rows = cursor(s).execute(_EXISTING, {"numbers": numbers, "skus": skus,
                                         "storage": list(STORAGE_KINDS)}).fetchall()
    for kind, order_no, state, sku, qty in rows:
        if kind == "allocation":
            existing[order_no] = Promised(order_no, {}, state)
        elif kind == "sku":
            known.add(sku)
        elif kind == "free":
            free[sku] = qty
    for kind, order_no, _state, sku, qty in rows:
        if kind == "line":
            existing[order_no].wanted[sku] = qty
    return existing, known, free


def _check_available(numbers: list[str], wanted: dict[str, dict[str, int]], held: dict[str, dict[str, int]],
                     free: dict[str, int]) -> None:
    """Refuse (409) the first order that wants more of a SKU than is on hand and not promised elsewhere."""
    for no in numbers:
        own = held.get(no, {})
        short = []
        for sku, qty in sorted(wanted[no].items()):
            # An order changed before picking competes with others only for what it did not hold already.
            available = free[sku] + own.get(sku, 0)
            if available < qty:
                short.append({"sku": sku, "qty": qty, "available": available})
        if short:
            raise ConflictError(code="insufficient_stock", details={"order_no": no, "lines": short})
        for sku, qty in wanted[no].items():
            free[sku] -= qty - own.get(sku, 0)
        for sku, qty in own.items():
            if sku not in wanted[no]:
                free[sku] = free.get(sku, 0) + qty


def _write(s: Session, changing: dict[str, dict[str, int]], replaced: list[str]) -> None:
    if replaced:
        cursor(s).execute(_CLEAR, {"numbers": replaced})
    lines = [(no, sku, qty) for no, wanted in changing.items() for sku, qty in sorted(wanted.items())]
    cursor(s).execute(_WRITE, {"numbers": list(changing), "line_numbers": [line[0] for line in lines],
                               "skus": [line[1] for line in lines], "qtys": [line[2] for line in lines]})
