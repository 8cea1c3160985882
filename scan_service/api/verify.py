"""Verification at the packing table: waybill, notes first, every item, ship.

Screens: verify (waybill → notes/alerts → items with red rows → complete or short), blocking
alarm for intercepted and unpaid parcels.
"""
from __future__ import annotations

from flask import Blueprint

from common.auth import current
from common.db import transaction, unit
from common.endpoint import Api
from scan_service.api.support import enqueue_shipments, message, stock
from scan_service.domain import orders, scanrows, verify
from scan_service.models import Order, Verification
from scan_service.schemas.floor import VerificationOut, VerifyScanIn, VerifyScanOut, VerifyShortIn, WaybillIn
from scan_service.schemas.orders import NoteOut

bp = Blueprint("verify", __name__, url_prefix="/api/scan")
api = Api(bp, "scan")
VERIFIERS = ("verifier", "supervisor")


def _view(verification: Verification | scanrows.Opened, parcel: list) -> dict:
    """The verification with its parcel's orders (ORM objects or the rows an opening locked), notes first."""
    notes = orders.sorted_notes([note for order in parcel for note in order.notes])
    alerts = [{"code": "buyer_note", "order_no": n.order_no, "text": n.text} for n in notes if n.kind == "buyer"]
    alerts += [{"code": "unpaid_allowed", "order_no": o.order_no} for o in parcel if not o.paid]
    if len(parcel) > 1:
        alerts.append({"code": "merged_parcel", "orders": [o.order_no for o in parcel]})
    return {"id": verification.id, "waybill": verification.waybill, "state": verification.state,
            "verifier": verification.verifier,
            "orders": [{"order_no": o.order_no, "shop": o.shop, "paid": o.paid, "state": o.state,
                        "lines": [{"sku": ln.sku, "qty": ln.qty} for ln in o.lines]} for o in parcel],
            "notes": [NoteOut().dump(n) | {"order_no": n.order_no} for n in notes],
            "alerts": alerts, "lines": verification.lines,
            "next_state": "read_notes" if alerts else ("scan_item" if verification.state == "open" else "done")}


def _with_parcel(s, verification: Verification) -> tuple[Verification, list[Order]]:
    # The parcel's orders are in the session already when the verification was just changed:
    # Session.get answers those without a statement (and without loading their lines again).
    return verification, [s.get(Order, no) for no in verification.orders]


@api.route("POST", "/verifications", body=WaybillIn, response=VerificationOut, status=201, roles=VERIFIERS,
           errors=(404, 409), key_read_first=False)
def scan_waybill(body: dict):
    """The waybill finds the parcel; notes come first. Leads to: item scanning, or a blocking alarm."""
    # key_read_first=False here and in `complete`: their writes are all in this transaction, their
    # calls out only read (the items), and shipments are enqueued after the commit. A copy waits on
    # the parcel's locks; the key's insert at the commit finds it, and it replays the first's answer.
    with unit() as work:
        opened = verify.open_parcel(work, current(), body["waybill"], stock())
        return _view(opened, opened.parcel)


@api.route("GET", "/verifications/<int:verification_id>", response=VerificationOut, roles=VERIFIERS, errors=(404,))
def get_verification(verification_id: int):
    """A verification as it stands, to resume after a lost connection."""
    with transaction() as s:
        return _view(*_with_parcel(s, verify.get(s, verification_id)))


@api.route("POST", "/verifications/<int:verification_id>/scan", body=VerifyScanIn, response=VerifyScanOut,
           roles=VERIFIERS, errors=(404, 409), optimistic=True)
def scan_item(verification_id: int, body: dict):
    """One item (or qty): a green row, or a red row that changes no count. Leads to: next item or complete."""
    # optimistic, as a pick scan: its only call out is a lookup.
    with unit() as work:
        answer = verify.scan_item(work, current(), verification_id, body["code"], body["qty"], stock())
    return answer | {"message": message("scan_complete" if answer["complete"] and answer["result"] == "ok"
                                        else f"scan_{answer['result']}")}


@api.route("POST", "/verifications/<int:verification_id>/complete", roles=VERIFIERS, errors=(404, 409),
           key_read_first=False)
def complete(verification_id: int):
    """Every line scanned: the parcel ships; stock moves through the outbox. Leads to: next waybill."""
    with unit() as work:
        verification, outbox_ids = verify.complete(work, current(), verification_id)
        answer = {"id": verification.id, "state": verification.state, "orders": verification.orders}
    enqueue_shipments(outbox_ids)
    return answer


@api.route("POST", "/verifications/<int:verification_id>/short", body=VerifyShortIn, response=VerificationOut,
           roles=VERIFIERS, errors=(404, 409))
def report_short(verification_id: int, body: dict):
    """An item is missing from the basket: the order goes to `short` (return procedure)."""
    with transaction() as s:
        verification = verify.report_short(s, current(), verification_id, body["sku"], body["qty"])
        return _view(*_with_parcel(s, verification))
