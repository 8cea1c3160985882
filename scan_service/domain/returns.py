"""Returns arriving back (退货到货): stock goes to the returns location, the order is marked."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from common.auth import Identity
from common.errors import ConflictError, InvalidInputError, NotFoundError
from scan_service.domain import journal, orders
from scan_service.domain.stock import Stock
from scan_service.models import Order, ReturnArrival

RETURNABLE_STATES = frozenset({"shipped", "returned"})


def arrive(s: Session, actor: Identity, *, order_no: str | None, waybill: str | None, lines: list[dict[str, Any]],
           condition: str, reference: str, stock: Stock) -> ReturnArrival:
    """Take a parcel back: each line at most what was shipped and not yet returned."""
    order = _find(s, order_no, waybill)
    if order.state not in RETURNABLE_STATES:
        raise ConflictError(code="order_not_shipped", details={"order_no": order.order_no, "state": order.state})
    by_sku = {line.sku: line for line in order.lines}
    wanted = orders.merged_lines(lines)
    for line in wanted:
        have = by_sku.get(line["sku"])
        if have is None:
            raise InvalidInputError(code="not_in_order", details={"sku": line["sku"], "order_no": order.order_no})
        if line["qty"] > have.qty - have.returned:
            raise ConflictError(code="over_return",
                                details={"sku": line["sku"], "returnable": have.qty - have.returned})
    arrival = ReturnArrival(order_no=order.order_no, reference=reference, condition=condition, lines=wanted,
                            operator=actor.badge)
    s.add(arrival)
    for line in wanted:
        by_sku[line["sku"]].returned += line["qty"]
    s.flush()
    stock.take_back(reference, order.order_no, wanted, condition)
    fully = all(line.returned >= line.qty for line in order.lines)
    order.state = "returned" if fully else order.state
    order.returned_at = orders.now(s)
    journal.record(s, actor, "returned", order_no=order.order_no, qty=sum(line["qty"] for line in wanted),
                   detail={"lines": wanted, "condition": condition, "reference": reference})
    s.flush()
    return arrival


def _find(s: Session, order_no: str | None, waybill: str | None) -> Order:
    if order_no:
        return orders.get(s, order_no, lock=True)
    parcel = orders.parcel(s, (waybill or "").strip().upper(), lock=True)
    if not parcel:
        raise NotFoundError(code="unknown_waybill", details={"waybill": waybill})
    return parcel[0]
