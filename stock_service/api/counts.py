"""Blind cycle counts.

Screens: count (scan a bin, then its items; no expected quantity ever shown), supervisor's
variances page (approve or reject each variance with a reason).
"""
from flask import Blueprint, current_app, request

from common.auth import current
from common.db import transaction, unit
from common.endpoint import Api, Page
from common.idempotency import HEADER
from common.schemas import PageQuery
from stock_service.domain import counts
from stock_service.schemas.counts import ApproveIn, CountIn, CountOut, CountQuery, EntryIn, EntryOut, RejectIn, SubmitIn
from stock_service.schemas.stock import MovementOut

bp = Blueprint("counts", __name__, url_prefix="/api/stock")
api = Api(bp, "stock")
COUNTING = ("stock_manager", "supervisor", "counter")
DECIDING = ("stock_manager", "supervisor")


@api.route("POST", "/counts", body=CountIn, response=CountOut, status=201, roles=COUNTING + ("picker",),
           errors=(404, 409, 422))
def open_count(body: dict):
    """Open a count of bins or SKUs (supervisor page; a short pick opens one of its bin)."""
    with transaction() as s:
        return counts.open_count(s, current(), locations=body["locations"], skus_=body["skus"])


@api.route("GET", "/counts", query=CountQuery, response=CountOut, page=True)
def list_counts(query: dict):
    """Counts by state, oldest first (supervisor's counts page, the counter's task list)."""
    with transaction() as s:
        return Page(*counts.list_counts(s, query["state"], query["limit"], query["cursor"]))


@api.route("GET", "/counts/<int:count_id>", response=CountOut, errors=(404,))
def get_count(count_id: int):
    """One count: its bins and state, never expected quantities (count screen)."""
    with transaction() as s:
        return counts.get(s, count_id)


# A count entry's work is all in its own transaction: its Idempotency-Key is claimed at the commit,
# where a repeat runs into the first's key, is rolled back and answered as the first was.
@api.route("POST", "/counts/<int:count_id>/entries", body=EntryIn, response=EntryOut, status=201,
           roles=COUNTING, errors=(404, 409, 422), key_read_first=False)
def enter(count_id: int, body: dict):
    """A counter's scan in a bin (count screen); the answer never shows the expected quantity."""
    with unit() as work:
        return counts.enter(work, current(), count_id, **body)


@api.route("POST", "/counts/<int:count_id>/submit", body=SubmitIn, roles=COUNTING, errors=(404, 409))
def submit(count_id: int, body: dict):
    """Finish counting; lines far off go back for a recount by someone else (count screen)."""
    threshold = current_app.config["SETTINGS"].count_recount_threshold
    with transaction() as s:
        return counts.submit(s, current(), count_id, threshold)


@api.route("GET", "/counts/<int:count_id>/variances", query=PageQuery, roles=DECIDING, page=True,
           errors=(404,))
def variances(count_id: int, query: dict):
    """Expected vs counted per line (supervisor's variances page)."""
    with transaction() as s:
        return Page(*counts.variances(s, count_id, query["limit"], query["cursor"]))


@api.route("POST", "/counts/<int:count_id>/lines/<int:line_id>/approve", body=ApproveIn, response=MovementOut,
           status=201, roles=DECIDING, errors=(404, 409, 422))
def approve(count_id: int, line_id: int, body: dict):
    """Accept a variance with a reason: one adjustment movement (variances page)."""
    with transaction() as s:
        return counts.approve(s, current(), request.headers.get(HEADER), count_id, line_id, **body)


@api.route("POST", "/counts/<int:count_id>/lines/<int:line_id>/reject", body=RejectIn, roles=DECIDING,
           errors=(404, 409, 422))
def reject(count_id: int, line_id: int, body: dict):
    """Refuse a variance: nothing moves (variances page)."""
    with transaction() as s:
        return counts.reject(s, current(), count_id, line_id, **body)
