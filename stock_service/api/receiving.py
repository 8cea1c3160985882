"""Receiving and putaway.

Screens: receive (scan the receipt, then items), putaway (item → suggested bin → scan the bin).
"""
from flask import Blueprint, request

from common.auth import current
from common.db import transaction, unit
from common.endpoint import Api
from common.idempotency import HEADER
from stock_service.domain import receiving
from stock_service.schemas.internal import EmptyIn
from stock_service.schemas.stock import (
    MovementOut,
    PutawayIn,
    ReceiptIn,
    ReceiptOut,
    ReceivedLineOut,
    ReceiveIn,
    SuggestOut,
    SuggestQuery,
)

bp = Blueprint("receiving", __name__, url_prefix="/api/stock")
api = Api(bp, "stock")
RECEIVING_ROLES = ("stock_manager", "receiver")
# A receive and a putaway are all in their own transaction (key_read_first=False): a retried key
# is found by its insert at the commit, and the copy's work rolled back, instead of read first.


@api.route("POST", "/receipts", body=ReceiptIn, response=ReceiptOut, status=201, roles=RECEIVING_ROLES,
           errors=(404, 409, 422))
def create_receipt(body: dict):
    """Open a receipt for a delivery (receive screen)."""
    with transaction() as s:
        return receiving.create(s, current(), **body)


@api.route("GET", "/receipts/<int:receipt_id>", response=ReceiptOut, errors=(404,))
def get_receipt(receipt_id: int):
    """A receipt with expected and received per line (receive screen)."""
    with transaction() as s:
        return receiving.get(s, receipt_id)


@api.route("POST", "/receipts/<int:receipt_id>/receive", body=ReceiveIn, response=ReceivedLineOut,
           roles=RECEIVING_ROLES, errors=(403, 404, 409, 422), key_read_first=False)
def receive(receipt_id: int, body: dict):
    """Count units of a scanned item in; leads to putaway once the delivery is in."""
    with transaction() as s:
        return receiving.receive(s, current(), request.headers.get(HEADER), receipt_id, **body)


@api.route("POST", "/receipts/<int:receipt_id>/close", body=EmptyIn, response=ReceiptOut,
           roles=("stock_manager",), errors=(404,))
def close_receipt(receipt_id: int, body: dict):
    """Close a receipt: what never came stops counting as in transit."""
    with transaction() as s:
        return receiving.close(s, receipt_id)


@api.route("GET", "/putaway/suggest", query=SuggestQuery, response=SuggestOut, errors=(404,))
def suggest_putaway(query: dict):
    """Where to put a SKU away (putaway screen shows it big; the receiver scans that bin)."""
    with unit() as rows:
        return receiving.suggest(rows, query["sku"])


@api.route("POST", "/putaway", body=PutawayIn, response=MovementOut, status=201, roles=RECEIVING_ROLES,
           errors=(404, 409, 422), key_read_first=False)
def putaway(body: dict):
    """Move received units from the receiving area into a bin (putaway screen)."""
    with transaction() as s:
        return receiving.putaway(s, current(), request.headers.get(HEADER), code=body["code"], qty=body["qty"],
                                 to=body["to"], source=body["from_"], lot=body["lot"])
