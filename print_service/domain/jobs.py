"""Print jobs as the floor asks for them: one label, a batch, a cancel, a reprint.

The ZPL is rendered when the job is created and stored with it, so what `GET /jobs/{id}/zpl`
shows is byte for byte what the printer receives. A paused printer's new jobs wait as `held`.

Asking for labels is the print hot path (a label per parcel, a receipt's hundred): the new jobs,
their `requested` events and a batch are rows written with the commit (common.db.with_commit),
one statement with the Idempotency-Key, not ORM objects flushed one by one. A batch's jobs go in
one INSERT whose rows take their `seq` in the order the labels were given.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError
from psycopg.types.json import Jsonb
from redis import Redis
from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from common.auth import Identity
from common.db import Rows, compiled, with_commit
from common.errors import ConflictError, InvalidInputError, NotFoundError
from print_service import jobs
from print_service.domain import printers
from print_service.domain.history import record
from print_service.domain.sending import CANCELLED, HELD, QUEUED, WAITING
from print_service.labels import templates
from print_service.models import Batch, JobEvent, PrintJob

CANCELLABLE = (*WAITING, HELD)
# The states a person may filter the print queue by.
STATES = ("queued", "sending", "sent", "retrying", "failed", "cancelled", "held")


@dataclass
class Asked:
    """A new job as its request answers it (JobOut), and as its row is written."""

    id: str
    printer: str
    template: str
    data: dict[str, Any]
    copies: int
    zpl: str
    state: str
    error: str | None
    reprint_of: str | None
    batch_id: str | None
    requested_by: str
    requested_name: str
    device: str
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    sent_at: datetime | None = None


_WRITTEN = tuple(name for name in Asked.__dataclass_fields__ if name != "sent_at")
_EVENT = ("job_id", "event", "state", "attempt", "operator", "detail")


def _insert_rows(table: Table, columns: tuple[str, ...]) -> str:
    """INSERT of many rows given as one array per column, taken in array order (a batch's seq order)."""
    types = [table.c[name].type.compile(dialect=postgresql.dialect()) for name in columns]
    arrays = ", ".join(f"%({name})s::{kind}[]" for name, kind in zip(columns, types, strict=True))
    names = ", ".join(columns)
    return (f"INSERT INTO {table.schema}.{table.name} ({names}) "  # noqa: S608 - names from the models
            f"SELECT {names} FROM unnest({arrays}) WITH ORDINALITY AS given({names}, n) ORDER BY n")


_INSERT_JOBS = _insert_rows(PrintJob.__table__, _WRITTEN)
_INSERT_EVENTS = _insert_rows(JobEvent.__table__, _EVENT)
_INSERT_BATCH = compiled(insert(Batch.__table__).values(id=bindparam("id"), printer=bindparam("printer"),
                                                         requested_by=bindparam("by")))


def create(rows: Rows, redis: Redis, identity: Identity, *, printer: str, template: str, data: dict[str, Any],
           copies: int) -> Asked:
    target = printers.settings(rows, printer)
    clean = templates.load_data(template, data)
    [job] = _add(rows, redis, identity, target, [_label(target, template, clean, copies)])
    return job


# A label as a job is made of it: template, data, copies and its ZPL for the printer.
Label = tuple[str, dict[str, Any], int, str]


def _label(printer: printers.Settings, template: str, data: dict[str, Any], copies: int) -> Label:
    return template, data, copies, printers.render(printer, template, data, copies)


def _add(rows: Rows, redis: Redis, identity: Identity, printer: printers.Settings, labels: list[Label], *,
         batch_id: str | None = None, reprint_of: str | None = None) -> list[Asked]:
    """New jobs for the labels, written with the commit and queued after it."""
    now = datetime.now(UTC)
    made = [Asked(id=str(uuid.uuid4()), printer=printer.name, template=template, data=data, copies=copies,
                  zpl=zpl, state=HELD if printer.paused else QUEUED,
                  error=printer.paused_reason if printer.paused else None, reprint_of=reprint_of,
                  batch_id=batch_id, requested_by=identity.badge, requested_name=identity.name,
                  device=identity.device, created_at=now, updated_at=now)
            for template, data, copies, zpl in labels]
    # One list per column: psycopg sends a list as an array.
    written = {name: [getattr(job, name) for job in made] for name in _WRITTEN}
    written["data"] = [Jsonb(job.data) for job in made]
    with_commit(rows, _INSERT_JOBS, written)
    detail = f"reprint of {reprint_of}" if reprint_of else None
    with_commit(rows, _INSERT_EVENTS, {"job_id": written["id"], "event": ["requested"] * len(made),
                                       "state": written["state"], "attempt": [0] * len(made),
                                       "operator": [identity.badge] * len(made), "detail": [detail] * len(made)})
    if not printer.paused:
        printers.enqueue_after_commit(rows, redis, printer, [job.id for job in made])
    return made


def create_batch(rows: Rows, redis: Redis, identity: Identity, *, printer: str,
                 labels: list[dict[str, Any]]) -> tuple[str, str, list[Asked]]:
    """All labels validated first: one bad label refuses the whole batch, naming its index.

    Returns the batch's id, its printer and its jobs.
    """
    target = printers.settings(rows, printer)
    cleaned = []
    for index, label in enumerate(labels):
        try:
            cleaned.append(templates.load_data(label["template"], label["data"]))
        except ValidationError as exc:
            raise ValidationError({"labels": {index: exc.normalized_messages()}}) from exc
    rendered = []
    for index, (label, data) in enumerate(zip(labels, cleaned, strict=True)):
        try:
            rendered.append(_label(target, label["template"], data, label["copies"]))
        except InvalidInputError as exc:
            exc.details = {**exc.details, "label": index}
            raise
    batch_id = str(uuid.uuid4())
    made = _add(rows, redis, identity, target, rendered, batch_id=batch_id)
    with_commit(rows, _INSERT_BATCH, {"id": batch_id, "printer": target.name, "by": identity.badge})
    return batch_id, target.name, made


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
            copies: int | None) -> Asked:
    """A new job with the same label, linked to the original (on another printer if asked)."""
    original = get(s, job_id)
    target = printers.settings(s, printer or original.printer)
    label = _label(target, original.template, original.data, copies or original.copies)
    [job] = _add(s, redis, identity, target, [label], reprint_of=original.id)
    return job
