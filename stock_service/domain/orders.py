"""What scan_service asks of stock: allocations, pick plans, picks, shipments and returns.

Each is idempotent by the order number or reference it carries: a repeat returns what the first
call did. A transaction-scoped advisory lock on that reference makes racing repeats queue up.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from common.db import advisory_xact_lock
from common.errors import ConflictError, NotFoundError
from stock_service.domain import ledger, skus, stock
from stock_service.domain.ledger import Move
from stock_service.models import Allocation, AllocationLine, Balance, Location, Movement, Sku


def _merge(lines: list[dict[str, Any]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for line in lines:
        merged[line["sku"]] = merged.get(line["sku"], 0) + line["qty"]
    return merged


def _check_skus(s: Session, lines: list[dict[str, Any]]) -> None:
    for index, line in enumerate(lines):
        ledger.sku(s, line["sku"], f"lines.{index}.sku")


def allocate(s: Session, order_no: str, lines: list[dict[str, Any]]) -> tuple[Allocation, bool]:
    """Promise stock to an order; short of available stock → 409 with the short lines.

    A repeat with the same lines (or after shipping) answers the existing allocation; new lines for
    an open order replace its old ones. Returns (allocation, whether anything changed).
    """
    advisory_xact_lock(s, "stock", "allocation", order_no)
    existing = s.get(Allocation, order_no)
    _check_skus(s, lines)
    wanted = _merge(lines)
    if existing is not None and existing.state == "shipped":
        return existing, False
    own: dict[str, int] = {}
    if existing is not None and existing.state == "open":
        own = {line.sku: line.qty for line in existing.lines}
        if own == wanted:
            return existing, False
    # Every allocation of a SKU checks the same total, so they take the SKU's lock in sku order.
    for sku in sorted(wanted):
        advisory_xact_lock(s, "stock", "available", sku)
    short = []
    for sku, qty in sorted(wanted.items()):
        # An order changed before picking competes with others only for what it did not hold already.
        available = skus.on_hand_of(s, sku) - stock.allocated_of(s, sku) + own.get(sku, 0)
        if available < qty:
            short.append({"sku": sku, "qty": qty, "available": available})
    if short:
        raise ConflictError(code="insufficient_stock", details={"order_no": order_no, "lines": short})
    lines_ = [AllocationLine(order_no=order_no, sku=k, qty=v) for k, v in sorted(wanted.items())]
    if existing is not None:
        # An order changed before picking, or released and allocated again: the new lines replace the old.
        s.execute(delete(AllocationLine).where(AllocationLine.order_no == order_no))
        s.expire(existing, ["lines"])
        s.add_all(lines_)
        existing.state = "open"
        allocation = existing
    else:
        allocation = Allocation(order_no=order_no, state="open", lines=lines_)
        s.add(allocation)
    s.flush()
    s.refresh(allocation, ["lines"])
    return allocation, True


def release(s: Session, order_no: str) -> dict[str, Any]:
    """Give an order's promised stock back (cancelled or intercepted)."""
    advisory_xact_lock(s, "stock", "allocation", order_no)
    allocation = s.get(Allocation, order_no)
    if allocation is None:
        raise NotFoundError(code="unknown_allocation", details={"order_no": order_no})
    if allocation.state == "open":
        allocation.state = "released"
        s.flush()
    return {"order_no": order_no, "released": allocation.state == "released", "state": allocation.state}


def pick_plan(s: Session, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Pick tasks in walking order; a SKU is split over bins when one does not hold enough."""
    _check_skus(s, lines)
    tasks, short = [], []
    for sku, qty in _merge(lines).items():
        item = s.get(Sku, sku)
        bins = s.execute(select(Balance.location, func.sum(Balance.qty).label("qty"), Location.sequence)
                         .join(Location, Location.code == Balance.location)
                         .where(Balance.sku == sku, Balance.qty > 0, Location.kind == "bin")
                         .group_by(Balance.location, Location.sequence)
                         .order_by(Location.sequence, Balance.location)).all()
        left = qty
        for row in bins:
            if left <= 0:
                break
            take = min(left, row.qty)
            # The item's barcodes travel with the task: the picker's scans match them without
            # scan_service asking stock for each SKU again.
            tasks.append({"location": row.location, "sequence": row.sequence, "sku": sku, "name": item.name,
                          "qty": take, "image_url": item.image_url,
                          "barcodes": [barcode.code for barcode in item.barcodes]})
            left -= take
        if left > 0:
            short.append({"sku": sku, "qty": left})
    tasks.sort(key=lambda t: (t["sequence"], t["location"], t["sku"]))
    for seq, task in enumerate(tasks, start=1):
        task["seq"] = seq
        del task["sequence"]
    return {"tasks": tasks, "short": short}


def _already(s: Session, reference: str, types: tuple[str, ...]) -> list[Movement] | None:
    advisory_xact_lock(s, "stock", "reference", reference)
    done = ledger.by_reference(s, reference, types)
    return done or None


def pick(s: Session, actor: Any, key: str | None, *, reference: str, basket: str,
         lines: list[dict[str, Any]]) -> tuple[list[Movement], bool]:
    """Units picked from bins into a basket (the basket is created on first use)."""
    done = _already(s, reference, ("pick",))
    if done:
        return done, False
    _check_skus(s, lines)
    place = stock.ensure_location(s, basket, "basket")
    if place.kind != "basket":
        raise ConflictError(code="not_a_basket", details={"basket": basket})
    moves = [Move("pick", ln["sku"], ln["qty"], ln["from_"], basket, reference=reference) for ln in lines]
    return ledger.apply(s, actor, moves, key), True


def ship(s: Session, actor: Any, key: str | None, *, order_no: str, basket: str | None,
         lines: list[dict[str, Any]]) -> tuple[list[Movement], bool]:
    """Units leave the building; the order's allocation is used up.

    From the basket it was picked into; an order verified without a pick session (the verifier
    took the units off the shelf) ships straight from its bins, in walking order.
    """
    reference = f"order:{order_no}"
    done = _already(s, reference, ("ship",))
    if done:
        return done, False
    _check_skus(s, lines)
    if basket is not None:
        ledger.location(s, basket, "basket")
        moves = [Move("ship", sku, qty, basket, None, reference=reference) for sku, qty in _merge(lines).items()]
    else:
        moves = _from_bins(s, lines, reference)
    written = ledger.apply(s, actor, moves, key)
    allocation = s.get(Allocation, order_no)
    if allocation is not None and allocation.state == "open":
        allocation.state = "shipped"
    s.flush()
    return written, True


def _from_bins(s: Session, lines: list[dict[str, Any]], reference: str) -> list[Move]:
    plan = pick_plan(s, lines)
    if plan["short"]:
        raise ConflictError(code="insufficient_stock", details={"lines": plan["short"]})
    return [Move("ship", task["sku"], task["qty"], task["location"], None, reference=reference)
            for task in plan["tasks"]]


def intercept(s: Session, actor: Any, key: str | None, *, order_no: str, basket: str,
              lines: list[dict[str, Any]]) -> tuple[list[Movement], bool]:
    """A stopped parcel (拦截) leaves its basket for the intercept shelf; its allocation is given back.

    Moves what the basket holds of the order's lines, up to their quantity: a short pick leaves
    less in the basket, and the shelf gets what is really there.
    """
    reference = f"intercept:{order_no}"
    done = _already(s, reference, ("move",))
    if done:
        return done, False
    _check_skus(s, lines)
    ledger.location(s, basket, "basket")
    shelf = stock.first_of_kind(s, "intercept", stock.INTERCEPT)
    held = dict(s.execute(select(Balance.sku, func.sum(Balance.qty)).where(Balance.location == basket)
                          .group_by(Balance.sku)).all())
    moves = [Move("move", sku, min(qty, int(held.get(sku) or 0)), basket, shelf, reason="intercepted",
                  reference=reference) for sku, qty in _merge(lines).items() if int(held.get(sku) or 0) > 0]
    written = ledger.apply(s, actor, moves, key) if moves else []
    allocation = s.get(Allocation, order_no)
    if allocation is not None and allocation.state == "open":
        allocation.state = "released"
    s.flush()
    return written, True


def returned(s: Session, actor: Any, key: str | None, *, reference: str, order_no: str,
             lines: list[dict[str, Any]], condition: str) -> tuple[list[Movement], bool]:
    """A parcel came back: its units go to the returns shelf (a damaged one says so in the reason)."""
    done = _already(s, reference, ("return",))
    if done:
        return done, False
    _check_skus(s, lines)
    target = stock.first_of_kind(s, "returns", stock.RETURNS)
    moves = [Move("return", sku, qty, None, target, reason=condition, reference=reference)
             for sku, qty in _merge(lines).items()]
    return ledger.apply(s, actor, moves, key), True
