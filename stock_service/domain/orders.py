"""What scan_service asks of stock: allocations, pick plans, picks, shipments and returns.

Each is idempotent by the order number or reference it carries: a repeat returns what the first
call did. A transaction-scoped advisory lock on that reference makes racing repeats queue up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from common.db import advisory_key, advisory_xact_lock
from common.errors import ConflictError, NotFoundError
from stock_service.domain import ledger, skus, stock
from stock_service.domain.ledger import Move
from stock_service.models import Allocation, AllocationLine, Balance, Barcode, Location, Sku

# The statements of an allocation and a pick plan, built once: building them on every call cost
# a pick start as much as running them.
_CODES = bindparam("codes", expanding=True)
_ALLOCATIONS = select(Allocation).where(Allocation.order_no.in_(bindparam("numbers", expanding=True)))
_LOCK_EACH = text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k")
_ITEMS = select(Sku.sku, Sku.name, Sku.image_url).where(Sku.sku.in_(_CODES))
_BARCODES = select(Barcode.code, Barcode.sku).where(Barcode.sku.in_(_CODES)).order_by(Barcode.code)
_BINS_HOLDING = (select(Balance.sku, Balance.location, func.sum(Balance.qty).label("qty"), Location.sequence)
                 .join(Location, Location.code == Balance.location)
                 .where(Balance.sku.in_(_CODES), Balance.qty > 0, Location.kind == "bin")
                 .group_by(Balance.sku, Balance.location, Location.sequence)
                 .order_by(Balance.sku, Location.sequence, Balance.location))


def _merge(lines: list[dict[str, Any]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for line in lines:
        merged[line["sku"]] = merged.get(line["sku"], 0) + line["qty"]
    return merged


def _check_skus(s: Session, lines: list[dict[str, Any]]) -> None:
    ledger.require_skus(s, ((line["sku"], f"lines.{index}.sku") for index, line in enumerate(lines)))


def allocate(s: Session, order_no: str, lines: list[dict[str, Any]]) -> tuple[Allocation | NewAllocation, bool]:
    """Promise stock to an order; short of available stock → 409 with the short lines.

    A repeat with the same lines (or after shipping) answers the existing allocation; new lines for
    an open order replace its old ones. Returns (allocation, whether anything changed).
    """
    return allocate_orders(s, [{"order_no": order_no, "lines": lines}], batch=False)[0]


def allocate_orders(s: Session, orders: list[dict[str, Any]],
                    batch: bool = True) -> list[tuple[Allocation | NewAllocation, bool]]:
    """Promise stock to several orders (a basket's) at once: all of them, or none (409 naming the first short).

    Each order is treated as `allocate` treats one; within the call the orders count against each
    other, as if each earlier one had been committed first. A fixed number of statements
    whatever the number of orders and lines.
    """
    numbers = [order["order_no"] for order in orders]
    _lock_each(s, "allocation", sorted(set(numbers)))
    existing = {a.order_no: a for a in s.scalars(_ALLOCATIONS, {"numbers": numbers})}
    ledger.require_skus(s, ((line["sku"], _line_field(index, number, batch))
                            for index, order in enumerate(orders)
                            for number, line in enumerate(order["lines"])))
    wanted = {order["order_no"]: _merge(order["lines"]) for order in orders}
    held = {no: {line.sku: line.qty for line in a.lines} for no, a in existing.items() if a.state == "open"}
    # A shipped order, or an open one asked again for what it holds, is answered as it stands.
    changing = [no for no in numbers if no not in existing
                or (existing[no].state != "shipped" and held.get(no) != wanted[no])]
    if changing:
        _check_available(s, changing, wanted, held)
    fresh = {no: NewAllocation(no, wanted[no]) for no in changing if no not in existing}
    _insert_allocations(s, list(fresh.values()))
    answers: list[tuple[Allocation | NewAllocation, bool]] = []
    for no in numbers:
        if no in fresh:
            answers.append((fresh[no], True))
        elif no in changing:
            answers.append((_write_allocation(s, no, wanted[no], existing[no]), True))
        else:
            answers.append((existing[no], False))
    s.flush()
    return answers


@dataclass
class NewAllocation:
    """An allocation written by this call, as the answer shows it (order_no, state, lines by SKU)."""

    order_no: str
    wanted: dict[str, int]
    state: str = "open"

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [{"sku": sku, "qty": qty} for sku, qty in sorted(self.wanted.items())]


# New allocations in two statements however many orders and lines: a pick start's orders are new,
# and flushing them as ORM objects cost about a fifth of its allocation.
_NEW_ALLOCATIONS = text("INSERT INTO stock.allocations (order_no, state) "
                        "SELECT unnest(CAST(:numbers AS text[])), 'open'")
_NEW_LINES = text("INSERT INTO stock.allocation_lines (order_no, sku, qty, held) SELECT line.order_no, line.sku, "
                  "line.qty, true FROM unnest(CAST(:numbers AS text[]), CAST(:skus AS text[]), CAST(:qtys AS int[])) "
                  "AS line(order_no, sku, qty)")


def _insert_allocations(s: Session, fresh: list[NewAllocation]) -> None:
    if not fresh:
        return
    s.execute(_NEW_ALLOCATIONS, {"numbers": [new.order_no for new in fresh]})
    lines = [(new.order_no, sku, qty) for new in fresh for sku, qty in sorted(new.wanted.items())]
    s.execute(_NEW_LINES, {"numbers": [line[0] for line in lines], "skus": [line[1] for line in lines],
                           "qtys": [line[2] for line in lines]})


def _line_field(order_index: int, line_index: int, batch: bool) -> str:
    field = f"lines.{line_index}.sku"
    return f"orders.{order_index}.{field}" if batch else field


def _check_available(s: Session, numbers: list[str], wanted: dict[str, dict[str, int]],
                     held: dict[str, dict[str, int]]) -> None:
    """Refuse (409) the first order that wants more of a SKU than is on hand and not promised elsewhere."""
    codes = sorted({sku for no in numbers for sku in wanted[no]})
    _lock_each(s, "available", codes)
    # Read after the locks, in statements of their own: in READ COMMITTED each statement sees what
    # was committed when it began, so a racing allocation of the same SKU is counted here.
    on_hand = skus.on_hand_by_sku(s, codes)
    allocated = stock.allocated_by_sku(s, codes)
    free = {sku: on_hand.get(sku, 0) - allocated.get(sku, 0) for sku in codes}
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


def _write_allocation(s: Session, order_no: str, wanted: dict[str, int], existing: Allocation) -> Allocation:
    lines = [AllocationLine(order_no=order_no, sku=sku, qty=qty) for sku, qty in sorted(wanted.items())]
    # An order changed before picking, or released and allocated again: the new lines replace the old.
    s.execute(delete(AllocationLine).where(AllocationLine.order_no == order_no))
    s.expire(existing, ["lines"])
    s.add_all(lines)
    existing.state = "open"
    s.flush()
    s.refresh(existing, ["lines"])
    return existing


def _lock_each(s: Session, kind: str, names: list[str]) -> None:
    """Take a transaction-scoped advisory lock per name, in the order given, in one statement.

    Callers pass names sorted: two transactions needing some of the same locks take them in the
    same order and never wait on each other in a cycle. Order locks come before SKU locks. A
    function scan of an array yields its elements in array order, so the locks are taken in it.
    """
    s.execute(_LOCK_EACH, {"keys": [advisory_key("stock", kind, name) for name in names]})


def release(s: Session, order_no: str) -> dict[str, Any]:
    """Give an order's promised stock back (cancelled or intercepted)."""
    advisory_xact_lock(s, "stock", "allocation", order_no)
    allocation = s.get(Allocation, order_no)
    if allocation is None:
        raise NotFoundError(code="unknown_allocation", details={"order_no": order_no})
    state = allocation.state
    if state == "open":
        _close(s, order_no, "released")
        state = "released"
    return {"order_no": order_no, "released": state == "released", "state": state}


def pick_plan(s: Session, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Pick tasks in walking order; a SKU is split over bins when one does not hold enough.

    Three statements whatever the number of SKUs: the items, their barcodes, the bins holding them.
    """
    wanted = _merge(lines)
    items = _items(s, lines)
    bins = _bins_holding(s, list(wanted))
    tasks, short = [], []
    for sku, qty in wanted.items():
        item = items[sku]
        left = qty
        for row in bins.get(sku, ()):
            if left <= 0:
                break
            take = min(left, row.qty)
            # The item's barcodes travel with the task: the picker's scans match them without
            # scan_service asking stock for each SKU again.
            tasks.append({"location": row.location, "sequence": row.sequence, "sku": sku, "name": item["name"],
                          "qty": take, "image_url": item["image_url"], "barcodes": list(item["barcodes"])})
            left -= take
        if left > 0:
            short.append({"sku": sku, "qty": left})
    tasks.sort(key=lambda t: (t["sequence"], t["location"], t["sku"]))
    for seq, task in enumerate(tasks, start=1):
        task["seq"] = seq
        del task["sequence"]
    return {"tasks": tasks, "short": short}


def _items(s: Session, lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Name, picture and barcodes of each line's SKU; an unknown one is a 404 naming its line."""
    items = describe(s, list({line["sku"] for line in lines}))
    for index, line in enumerate(lines):
        if line["sku"] not in items:
            raise NotFoundError(code="unknown_sku", details={f"lines.{index}.sku": line["sku"]})
    return items


def describe(s: Session, codes: list[str]) -> dict[str, dict[str, Any]]:
    """Name, picture and barcodes of the SKUs stock knows among `codes`, in two statements.

    A packing table opening a parcel asks for all its SKUs at once, not one call per SKU.
    """
    items = {row.sku: {"sku": row.sku, "name": row.name, "image_url": row.image_url, "barcodes": []}
             for row in s.execute(_ITEMS, {"codes": codes})}
    for code, sku in s.execute(_BARCODES, {"codes": list(items)}):
        items[sku]["barcodes"].append(code)
    return items


def _bins_holding(s: Session, codes: list[str]) -> dict[str, list[Any]]:
    """The bins holding each SKU, in walking order (location, qty, sequence)."""
    rows = s.execute(_BINS_HOLDING, {"codes": codes})
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(row.sku, []).append(row)
    return found


def _already(s: Session, reference: str, types: tuple[str, ...]) -> list[ledger.Written] | None:
    advisory_xact_lock(s, "stock", "reference", reference)
    done = ledger.by_reference(s, reference, types)
    return done or None


def pick(s: Session, actor: Any, key: str | None, *, reference: str, basket: str,
         lines: list[dict[str, Any]]) -> tuple[list[ledger.Written], bool]:
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
         lines: list[dict[str, Any]]) -> tuple[list[ledger.Written], bool]:
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
    _close_allocation(s, order_no, "shipped")
    return written, True


def _close_allocation(s: Session, order_no: str, state: str) -> None:
    """An open allocation is used up (shipped) or given back (released); any other stays as it is.

    Under the order's allocation lock, in a statement of its own: lines an allocation of the same
    order committed meanwhile are seen, and none of them stays held by a closed order.
    """
    advisory_xact_lock(s, "stock", "allocation", order_no)
    _close(s, order_no, state)


def _close(s: Session, order_no: str, state: str) -> None:
    """The allocation and its lines together, in one statement (the caller holds the order's lock)."""
    s.execute(_CLOSE, {"order_no": order_no, "state": state})
    # The session's copy of the allocation, if it holds one, no longer says what the table does.
    for stale in [obj for obj in s.identity_map.values() if isinstance(obj, (Allocation, AllocationLine))]:
        s.expire(stale)


_CLOSE = text("WITH closed AS (UPDATE stock.allocations SET state = :state WHERE order_no = :order_no "
              "AND state = 'open' RETURNING order_no) "
              "UPDATE stock.allocation_lines SET held = false WHERE order_no IN (SELECT order_no FROM closed)")


def _from_bins(s: Session, lines: list[dict[str, Any]], reference: str) -> list[Move]:
    plan = pick_plan(s, lines)
    if plan["short"]:
        raise ConflictError(code="insufficient_stock", details={"lines": plan["short"]})
    return [Move("ship", task["sku"], task["qty"], task["location"], None, reference=reference)
            for task in plan["tasks"]]


def intercept(s: Session, actor: Any, key: str | None, *, order_no: str, basket: str,
              lines: list[dict[str, Any]]) -> tuple[list[ledger.Written], bool]:
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
    _close_allocation(s, order_no, "released")
    return written, True


def returned(s: Session, actor: Any, key: str | None, *, reference: str, order_no: str,
             lines: list[dict[str, Any]], condition: str) -> tuple[list[ledger.Written], bool]:
    """A parcel came back: its units go to the returns shelf (a damaged one says so in the reason)."""
    done = _already(s, reference, ("return",))
    if done:
        return done, False
    _check_skus(s, lines)
    target = stock.first_of_kind(s, "returns", stock.RETURNS)
    moves = [Move("return", sku, qty, None, target, reason=condition, reference=reference)
             for sku, qty in _merge(lines).items()]
    return ledger.apply(s, actor, moves, key), True
