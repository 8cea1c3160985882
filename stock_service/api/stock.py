"""Locations, balances, availability, the ledger and free moves.

Screens: bin set-up, stock enquiry, move (re-slotting), item lookup, supervisor stock pages.
"""
from flask import Blueprint, request

from common.auth import current
from common.db import transaction
from common.endpoint import Api, Page
from common.idempotency import HEADER
from stock_service.domain import stock
from stock_service.schemas.stock import (
    AvailabilityOut,
    BalanceOut,
    BalanceQuery,
    LocationIn,
    LocationOut,
    LocationQuery,
    MoveIn,
    MovementOut,
    MovementQuery,
)

bp = Blueprint("stock", __name__, url_prefix="/api/stock")
api = Api(bp, "stock")
# Every role but counter: a counter counts blind, so never sees what a bin should hold.
SEES_STOCK = ("picker", "verifier", "receiver", "labeler", "stock_manager", "supervisor")


@api.route("POST", "/locations", body=LocationIn, response=LocationOut, status=201, roles=("stock_manager",),
           errors=(409, 422))
def create_location(body: dict):
    """Add a bin, staging area, basket, returns or intercept shelf (bin set-up page)."""
    with transaction() as s:
        return stock.create_location(s, **body)


@api.route("GET", "/locations", query=LocationQuery, response=LocationOut, page=True)
def list_locations(query: dict):
    """Locations by code, optionally of one kind (bin set-up page, label printing)."""
    with transaction() as s:
        return Page(*stock.list_locations(s, query["kind"], query["limit"], query["cursor"]))


@api.route("GET", "/balances", query=BalanceQuery, response=BalanceOut, page=True, roles=SEES_STOCK)
def list_balances(query: dict):
    """Non-zero balances per (SKU, location, lot) (stock enquiry)."""
    with transaction() as s:
        return Page(*stock.balances(s, query["sku"], query["location"], query["limit"], query["cursor"]))


@api.route("GET", "/skus/<sku>/availability", response=AvailabilityOut, roles=SEES_STOCK, errors=(404,))
def availability(sku: str):
    """On hand, allocated, available and in transit for one SKU (stock enquiry, order import)."""
    with transaction() as s:
        return stock.availability(s, sku)


@api.route("GET", "/movements", query=MovementQuery, response=MovementOut, page=True, roles=SEES_STOCK)
def list_movements(query: dict):
    """The ledger, oldest first, filtered by SKU, location, time, type or reference (who moved what)."""
    with transaction() as s:
        return Page(*stock.movements(s, query["sku"], query["location"], query["since"], query["type"],
                                     query["reference"], query["limit"], query["cursor"]))


# All in its own transaction (key_read_first=False): a retried key is found by its insert at the commit.
@api.route("POST", "/moves", body=MoveIn, response=MovementOut, status=201, roles=("stock_manager",),
           errors=(404, 409, 422), key_read_first=False)
def create_move(body: dict):
    """Move units between locations (move screen); leads back to the stock enquiry."""
    with transaction() as s:
        return stock.move(s, current(), request.headers.get(HEADER), sku=body["sku"], qty=body["qty"],
                          source=body["from_"], target=body["to"], reason=body["reason"], lot=body["lot"])
