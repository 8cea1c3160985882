"""Returns arriving, per-person statistics, the end-of-day audit, the shipment outbox.

Screens: returns desk, supervisor's today-per-person page, end-of-day audit, undelivered shipments.
"""
from __future__ import annotations

import uuid

from flask import Blueprint
from sqlalchemy import select

from common import redis
from common.auth import current
from common.db import transaction
from common.endpoint import Api, Page
from scan_service import jobs
from scan_service.api.support import idempotency_key, stock, timezone
from scan_service.domain import reports, returns, shipping
from scan_service.models import ShipmentOutbox
from scan_service.schemas.floor import (
    AuditOut,
    DayQuery,
    OutboxOut,
    OutboxQuery,
    RedriveIn,
    ReturnIn,
    ReturnOut,
    StatsOut,
)

bp = Blueprint("reports", __name__, url_prefix="/api/scan")
api = Api(bp, "scan")
SUPERVISORS = ("supervisor",)


@api.route("POST", "/returns", body=ReturnIn, response=ReturnOut, status=201, roles=("supervisor", "receiver"),
           errors=(404, 409, 422))
def arrive_return(body: dict):
    """A parcel came back: its goods go to the returns location. Leads to: returns desk."""
    order_ref = body["order_no"] or body["waybill"]
    reference = f"return:{order_ref}:{idempotency_key() or uuid.uuid4().hex}"[:250]
    with transaction() as s:
        return returns.arrive(s, current(), order_no=body["order_no"], waybill=body["waybill"], lines=body["lines"],
                              condition=body["condition"], reference=reference, stock=stock())


@api.route("GET", "/stats/operators", query=DayQuery, response=StatsOut, page=True, roles=SUPERVISORS)
def operator_stats(query: dict):
    """Each person's work on a warehouse day. Leads to: today's work per person."""
    with transaction() as s:
        return Page(reports.operator_stats(s, query["date"], timezone()))


@api.route("GET", "/audit", query=DayQuery, response=AuditOut, roles=SUPERVISORS)
def audit(query: dict):
    """The end-of-day self-audit: exceptions to clear before the shift ends. Leads to: audit page."""
    with transaction() as s:
        return reports.audit(s, query["date"], timezone())


@api.route("GET", "/shipments", query=OutboxQuery, response=OutboxOut, page=True, roles=SUPERVISORS)
def list_shipments(query: dict):
    """Shipments waiting for (or delivered to) stock_service."""
    with transaction() as s:
        rows = s.scalars(select(ShipmentOutbox).where(ShipmentOutbox.state == query["state"])
                         .order_by(ShipmentOutbox.id).limit(query["limit"]))
        return Page(list(rows))


@api.route("POST", "/shipments/redrive", body=RedriveIn, roles=SUPERVISORS)
def redrive(body: dict):
    """Send again every shipment still pending (after stock_service was down for long)."""
    with transaction() as s:
        ids = [row.id for row in shipping.pending(s, body["older_than_seconds"])]
    connection = redis.client()
    enqueued = sum(1 for outbox_id in ids if jobs.enqueue_shipment(connection, outbox_id) is not None)
    return {"pending": len(ids), "enqueued": enqueued}
