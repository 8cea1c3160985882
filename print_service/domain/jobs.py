"""Print jobs as the floor asks for them: one label, a batch, a cancel, a reprint.

The ZPL is rendered when the job is created and stored with it, so what `GET /jobs/{id}/zpl`
shows is byte for byte what the printer receives. A paused printer's new jobs wait as `held`.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError
from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.auth import Identity
from common.errors import ConflictError, InvalidInputError, NotFoundError
from print_service import jobs
from print_service.domain import printers
from print_service.domain.history import record
from print_service.domain.sending import CANCELLED, HELD, QUEUED, WAITING
from print_service.labels import templates
from print_service.models import Batch, Printer, PrintJob

CANCELLABLE = (*WAITING, HELD)
# The states a person may filter the print queue by.
STATES = ("queued", "sending", "sent", "retrying", "failed", "cancelled", "held")


def create(s: Session, redis: Redis, identity: Identity, *, printer: str, template: str, data: dict[str, Any],
           copies: int, batch_id: str | None = None, reprint_of: str | None = None) -> PrintJob:
    target = printers.get(s, printer)
    clean = templates.load_data(template, data)
    return _add(s, redis, identity, target, template, clean, copies, batch_id=batch_id, reprint_of=reprint_of)


def _add(s: Session, redis: Redis, identity: Identity, printer: Printer, template: str, data: dict[str, Any],
         copies: int, *, batch_id: str | None = None, reprint_of: str | None = None) -> PrintJob:
    job = PrintJob(id=str(uuid.uuid4()), printer=printer.name, template=template, data=data, copies=copies,
                   zpl=printers.render(printer, template, data, copies), attempts=0,
                   state=HELD if printer.paused else QUEUED, error=printer.paused_reason if printer.paused else None,
                   reprint_of=reprint_of, batch_id=batch_id, requested_by=identity.badge,
                   requested_name=identity.name, device=identity.device)
    s.add(job)
    s.flush()
    detail = f"reprint of {reprint_of}" if reprint_of else None
    record(s, job, "requested", operator=identity.badge, detail=detail)
    if not printer.paused:
        printers.enqueue_after_commit(s, redis, printer, [job.id])
    return job


def create_batch(s: Session, redis: Redis, identity: Identity, *, printer: str,
                 labels: list[dict[str, Any]]) -> tuple[Batch, list[PrintJob]]:
    """All labels validated first: one bad label refuses the whole batch, naming its index."""
    target = printers.get(s, printer)
    cleaned = []
    for index, label in enumerate(labels):
        try:
            cleaned.append(templates.load_data(label["template"], label["data"]))
        except ValidationError as exc:
            raise ValidationError({"labels": {index: exc.normalized_messages()}}) from exc
    for index, (label, data) in enumerate(zip(labels, cleaned, strict=True)):
        try:
            printers.render(target, label["template"], data, label["copies"])
        except InvalidInputError as exc:
            exc.details = {**exc.details, "label": index}
            raise
    batch = Batch(id=str(uuid.uuid4()), printer=target.name, requested_by=identity.badge)
    s.add(batch)
    s.flush()
    made = [_add(s, redis, identity, target, label["template"], data, label["copies"], batch_id=batch.id)
            for label, data in zip(labels, cleaned, strict=True)]
    return batch, made


def get(s: Session, job_id: str, *, lock: bool = False) -> PrintJob:
    job = s.get(PrintJob, job_id, with_for_update=lock)
    if job is None:
        raise NotFoundError(code="unknown_print_job", details={"id": job_id})
    return job


def listing(s: Session, *, printer: str | None, state: str | None, batch: str | None, limit: int,
            cursor: str | None) -> tuple[list[PrintJob], str | None]:
    """Newest first; the cursor is the last seq seen."""
    query = select(PrintJob).order_by(PrintJob.seq.desc()).limit(limit + 1)
    if printer:
        query = query.where(PrintJob.printer == printer)
    if state:
        query = query.where(PrintJob.state == state)
    if batch:
        query = query.where(PrintJob.batch_id == batch)
    if cursor:
        query = query.where(PrintJob.seq < int(cursor))
    found = list(s.scalars(query))
    more = len(found) > limit
    found = found[:limit]
    return found, (str(found[-1].seq) if more and found else None)


def cancel(s: Session, redis: Redis, job_id: str, identity: Identity) -> PrintJob:
    job = get(s, job_id, lock=True)
    if job.state not in CANCELLABLE:
        raise ConflictError(code="job_not_cancellable", details={"id": job_id, "state": job.state})
    job.state = CANCELLED
    job.updated_at = datetime.now(UTC)
    record(s, job, "cancelled", operator=identity.badge)
    jobs.after_commit(s, lambda: jobs.withdraw(redis, [job_id]))
    return job


def reprint(s: Session, redis: Redis, job_id: str, identity: Identity, *, printer: str | None,
            copies: int | None) -> PrintJob:
    """A new job with the same label, linked to the original (on another printer if asked)."""
    original = get(s, job_id)
    target = printers.get(s, printer or original.printer)
    return _add(s, redis, identity, target, original.template, original.data, copies or original.copies,
                reprint_of=original.id)

