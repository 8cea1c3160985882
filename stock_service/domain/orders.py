"""What scan_service asks of stock besides allocations (domain.allocations): pick plans, picks, shipments, returns.

Each is idempotent by the order number or reference it carries: a repeat returns what the first
call did. A transaction-scoped advisory lock on that reference makes racing repeats queue up.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.db import advisory_xact_lock, cursor
from common.errors import ConflictError, NotFoundError
from stock_service.domain import ledger, stock
from stock_service.domain.allocations import merge
from stock_service.domain.ledger import Move
from stock_service.models import Allocation, AllocationLine, Balance

# What stock tells of its items (name, picture, barcodes), on the unit's cursor as plain rows. A
# pick plan also reads the bins holding each in walking order ([location, qty, sequence] each), in
# the same statement: a plan is one round trip.
_ITEM = "k.sku, k.name, k.image_url, ARRAY(SELECT b.code FROM stock.barcodes b WHERE b.sku = k.sku ORDER BY b.code)"
_ITEM_FIELDS = ("sku", "name", "image_url", "barcodes")
_BINS = """(SELECT coalesce(jsonb_agg(jsonb_build_array(h.location, h.qty, h.sequence) ORDER BY h.sequence, h.location),
                   '[]'::jsonb)
   FROM (SELECT b.location, sum(b.qty) AS qty, l.sequence
         FROM stock.balances b JOIN stock.locations l ON l.code = b.location
         WHERE b.sku = k.sku AND b.qty > 0 AND l.kind = 'bin'
         GROUP BY b.location, l.sequence) AS h)"""
_OF_CODES = "FROM stock.skus k WHERE k.sku = ANY(%(codes)s::text[]) ORDER BY k.sku"
_ITEMS = f"SELECT {_ITEM} {_OF_CODES}"  # noqa: S608 - constant fragments; the values are parameters
_ITEMS_IN_BINS = f"SELECT {_ITEM}, {_BINS} {_OF_CODES}"  # noqa: S608 - constant fragments


def _check_skus(s: Session, lines: list[dict[str, Any]]) -> None:
    ledger.require_skus(s, ((line["sku"], f"lines.{index}.sku") for index, line in enumerate(lines)))


def _line_fields(lines: list[dict[str, Any]], skus: list[str]) -> list[str]:
    """Where the request named each SKU (its first line), for the ledger's 404 on an unknown one."""
    first: dict[str, str] = {}
    for index, line in enumerate(lines):
        first.setdefault(line["sku"], f"lines.{index}.sku")
    return [first[sku] for sku in skus]


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

    One statement whatever the number of SKUs: the items with their barcodes and the bins holding them.
    """
    wanted = merge(lines)
    items = _items(s, lines)
    tasks, short = [], []
    for sku, qty in wanted.items():
        item = items[sku]
        left = qty
        for location, held, sequence in item["bins"]:
            if left <= 0:
                break
            take = min(left, held)
            # The item's barcodes travel with the task: the picker's scans match them without
            # scan_service asking stock for each SKU again.
            tasks.append({"location": location, "sequence": sequence, "sku": sku, "name": item["name"],
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
    """Name, picture, barcodes and bins of each line's SKU; an unknown one is a 404 naming its line."""
    items = describe(s, list({line["sku"] for line in lines}), bins=True)
    for index, line in enumerate(lines):
        if line["sku"] not in items:
            raise NotFoundError(code="unknown_sku", details={f"lines.{index}.sku": line["sku"]})
    return items


def describe(s: Session, codes: list[str], *, bins: bool = False) -> dict[str, dict[str, Any]]:
    """Name, picture and barcodes of the SKUs stock knows among `codes` (with `bins`, the bins holding
    them in walking order too), in one statement.

    A packing table opening a parcel asks for all its SKUs at once, not one call per SKU.
    """
    fields = (*_ITEM_FIELDS, "bins") if bins else _ITEM_FIELDS
    found = cursor(s).execute(_ITEMS_IN_BINS if bins else _ITEMS, {"codes": codes})
    return {row[0]: dict(zip(fields, row, strict=True)) for row in found}


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
    if stock.ensure_location(s, basket, "basket") != "basket":
        raise ConflictError(code="not_a_basket", details={"basket": basket})
    moves = [Move("pick", ln["sku"], ln["qty"], ln["from_"], basket, reference=reference) for ln in lines]
    # The ledger checks the SKUs with the rest (one statement fewer on every pick's complete).
    return ledger.apply(s, actor, moves, key, sku_fields=_line_fields(lines, [m.sku for m in moves])), True


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
    # The SKUs are checked by the ledger from a basket, by the plan from the bins.
    if basket is not None:
        ledger.kind_of(s, basket, "basket")
        moves = [Move("ship", sku, qty, basket, None, reference=reference) for sku, qty in merge(lines).items()]
    else:
        moves = _from_bins(s, lines, reference)
    written = ledger.apply(s, actor, moves, key, sku_fields=_line_fields(lines, [m.sku for m in moves]))
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
    """The allocation and its lines together, in one statement on the cursor (the caller holds the
    order's lock): a shipment loads no ORM object and commits without the Session's machinery."""
    cursor(s).execute(_CLOSE, {"order_no": order_no, "state": state})
    # The session's copy of the allocation, if it holds one, no longer says what the table does.
    for stale in [obj for obj in s.identity_map.values() if isinstance(obj, (Allocation, AllocationLine))]:
        s.expire(stale)


_CLOSE = ("WITH closed AS (UPDATE stock.allocations SET state = %(state)s WHERE order_no = %(order_no)s "
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
    ledger.kind_of(s, basket, "basket")
    shelf = stock.first_of_kind(s, "intercept", stock.INTERCEPT)
    held = dict(s.execute(select(Balance.sku, func.sum(Balance.qty)).where(Balance.location == basket)
                          .group_by(Balance.sku)).all())
    moves = [Move("move", sku, min(qty, int(held.get(sku) or 0)), basket, shelf, reason="intercepted",
                  reference=reference) for sku, qty in merge(lines).items() if int(held.get(sku) or 0) > 0]
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
             for sku, qty in merge(lines).items()]
    return ledger.apply(s, actor, moves, key), True
