"""Picking with a basket: start, scan bin then item, report a shortage, complete.

Screens: pick (basket → tasks in walking order → bin → item → short → done).
"""
from __future__ import annotations

from flask import Blueprint

from codes.recognize import recognize
from common.auth import Identity, current
from common.db import transaction, unit
from common.endpoint import Api
from common.errors import InvalidInputError
from scan_service.api.support import idempotency_key, message, stock
from scan_service.domain import picking
from scan_service.schemas.floor import CodeIn, PickDoneOut, PickIn, PickOut, PickScanOut, PickShortIn, PickShortOut

bp = Blueprint("picking", __name__, url_prefix="/api/scan")
api = Api(bp, "scan")
PICKERS = ("picker", "supervisor")


@api.route("POST", "/picks", body=PickIn, response=PickOut, status=201, roles=PICKERS, errors=(404, 409, 422))
def start_pick(body: dict):
    """Bind basket and picker, allocate stock, plan the walk. Leads to: pick task list."""
    actor = current()
    picker = None
    if body["picker"]:
        badge = recognize(body["picker"])
        if badge.kind != "badge":
            raise InvalidInputError(code="invalid_picker_badge", details={"fields": {"picker": ["Not a badge."]}})
        picker = Identity(badge=badge.value, name="", roles=actor.roles, lang=actor.lang, device=actor.device)
    with unit() as work:
        return picking.start(work, actor, body["basket"], body["orders"], stock(), picker=picker,
                             max_orders=body["max_orders"])


@api.route("GET", "/picks/<int:pick_id>", response=PickOut, roles=PICKERS, errors=(404,))
def get_pick(pick_id: int):
    """A pick with its tasks, to resume after a lost connection."""
    with transaction() as s:
        return picking.get(s, pick_id)


@api.route("POST", "/picks/<int:pick_id>/scan", body=CodeIn, response=PickScanOut, roles=PICKERS, errors=(404, 409),
           optimistic=True)
def scan_pick(pick_id: int, body: dict):
    """A bin sets the location, an item picks one unit. Leads to: next bin, next item, or done."""
    # optimistic: all a scan changes is its one write (its call to stock only looks up a code), so it
    # reads the walk unlocked, claims it with the write, and a repeated key is found at that write.
    with unit() as work:
        answer = picking.scan(work, current(), pick_id, body["code"], stock())
    kind = answer["scan"]["kind"]
    key = f"scan_ok_{kind}" if answer["result"] == "ok" and kind in ("bin", "badge") else f"scan_{answer['result']}"
    if answer["result"] == "ok" and answer["done"]:
        key = "scan_complete"
    return answer | {"message": message(key)}


@api.route("POST", "/picks/<int:pick_id>/short", body=PickShortIn, response=PickShortOut, status=201,
           roles=PICKERS, errors=(404, 409))
def report_pick_short(pick_id: int, body: dict):
    """The bin holds less than asked: record it and open a count of the bin. Leads to: next task."""
    key = idempotency_key() or f"{body['location']}:{body['sku']}:{body['qty']}"
    with transaction() as s:
        return picking.report_short(s, current(), pick_id, body["location"], body["sku"], body["qty"], stock(), key)


@api.route("POST", "/picks/<int:pick_id>/complete", response=PickDoneOut, roles=PICKERS, errors=(404, 409),
           key_read_first=False)
def complete_pick(pick_id: int):
    """Close the walk: stock moves bin → basket. Leads to: hand the basket to verification."""
    # key_read_first=False: a copy waits on the walk's lock and finds it closed; its one call out
    # (the move to the basket) is idempotent by the pick's reference. The key's insert at the
    # commit finds the copy, which replays the first's answer.
    with unit() as work:
        return picking.complete(work, current(), pick_id, stock())
