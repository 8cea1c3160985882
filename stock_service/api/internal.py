"""What scan_service asks of stock (docs/internal-api.md); the gateway refuses these from outside.

Screens they serve: pick (plan, picks), verify (shipments), returns arrival, order import (allocations).
"""
from flask import Blueprint, request

from common.auth import current
from common.db import transaction
from common.endpoint import Api
from common.idempotency import HEADER
from stock_service.domain import allocations, orders
from stock_service.schemas.internal import (
    AllocationIn,
    AllocationOut,
    AllocationsIn,
    AllocationsOut,
    EmptyIn,
    InterceptIn,
    ItemsIn,
    PickIn,
    PlanIn,
    ReturnIn,
    ShipmentIn,
)
from stock_service.schemas.stock import MovementOut

bp = Blueprint("internal", __name__, url_prefix="/api/stock/internal")
api = Api(bp, "stock")
# The operators on whose behalf scan_service calls: order import, picking, verification, returns.
FLOOR = ("picker", "verifier", "supervisor", "stock_manager", "receiver")
# The writes below (key_read_first=False) are all in their own transaction, and each is idempotent
# by its order number or reference too: a retried key is found by the key's insert at the commit,
# which saves every call a round trip; a copy racing the first waits on the first's locks and
# replays its answer.
_movements = MovementOut(many=True)


def _written(movements: list, new: bool) -> tuple[dict, int]:
    return {"movements": _movements.dump(movements)}, 201 if new else 200


@api.route("POST", "/allocations", body=AllocationIn, response=AllocationOut, status=201, roles=FLOOR,
           errors=(404, 409, 422), key_read_first=False)
def allocate(body: dict):
    """Promise stock to an imported order; a repeat of the order number returns the existing allocation."""
    with transaction() as s:
        allocation, new = allocations.allocate(s, body["order_no"], body["lines"])
        return allocation, 201 if new else 200


@api.route("POST", "/allocations/batch", body=AllocationsIn, response=AllocationsOut, status=201, roles=FLOOR,
           errors=(404, 409, 422), key_read_first=False)
def allocate_batch(body: dict):
    """Promise stock to a basket's orders in one call: all of them or none; each repeats as one order does.

    With `plan: true` the answer also carries the pick plan of all their lines, read after the
    allocation in the same transaction.
    """
    with transaction() as s:
        answers = allocations.allocate_orders(s, body["orders"])
        changed = any(new for _, new in answers)
        answer = {"allocations": [allocation for allocation, _ in answers]}
        if body["plan"]:
            answer["plan"] = orders.pick_plan(s, [line for order in body["orders"] for line in order["lines"]])
        return answer, 201 if changed else 200


@api.route("POST", "/allocations/<order_no>/release", body=EmptyIn, roles=FLOOR, errors=(404,))
def release(order_no: str, body: dict):
    """Give an order's stock back (cancel, intercept)."""
    with transaction() as s:
        return orders.release(s, order_no)


@api.route("POST", "/pick-plan", body=PlanIn, roles=FLOOR, errors=(404, 422), idempotent=False)
def pick_plan(body: dict):
    """Pick tasks in walking order for a basket's orders (read-only)."""
    with transaction() as s:
        return orders.pick_plan(s, body["lines"])


@api.route("POST", "/items", body=ItemsIn, roles=FLOOR, errors=(422,), idempotent=False)
def items(body: dict):
    """Name, picture and barcodes of the SKUs stock knows among those asked (read-only); unknown ones are left out."""
    with transaction() as s:
        return {"items": list(orders.describe(s, body["skus"]).values())}


@api.route("POST", "/picks", body=PickIn, status=201, roles=FLOOR, errors=(404, 409, 422), key_read_first=False)
def picks(body: dict):
    """Units picked from bins into the basket; idempotent by reference."""
    with transaction() as s:
        return _written(*orders.pick(s, current(), request.headers.get(HEADER), **body))


@api.route("POST", "/shipments", body=ShipmentIn, status=201, roles=FLOOR, errors=(404, 409, 422), key_read_first=False)
def shipments(body: dict):
    """A verified parcel leaves: basket → out, the order's allocation used up; idempotent by order number."""
    with transaction() as s:
        return _written(*orders.ship(s, current(), request.headers.get(HEADER), **body))


@api.route("POST", "/intercepts", body=InterceptIn, status=201, roles=FLOOR, errors=(404, 422), key_read_first=False)
def intercepts(body: dict):
    """A stopped parcel: basket → intercept shelf, allocation given back; idempotent by order number."""
    with transaction() as s:
        return _written(*orders.intercept(s, current(), request.headers.get(HEADER), **body))


@api.route("POST", "/returns", body=ReturnIn, status=201, roles=FLOOR, errors=(404, 422), key_read_first=False)
def returns(body: dict):
    """A parcel came back: units to the returns shelf; idempotent by reference."""
    with transaction() as s:
        return _written(*orders.returned(s, current(), request.headers.get(HEADER), **body))
