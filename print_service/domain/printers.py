"""Printers: registered by a supervisor, paused and resumed, asked for their state, emptied.

Pause holds every waiting job; resume releases the held ones in their original order. Moving a
printer's waiting jobs re-renders them for the other printer's stock (size, dpi, font).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from common.auth import Identity
from common.db import Rows, compiled, cursor
from common.errors import ConflictError, InvalidInputError, NotFoundError
from print_service import drivers, jobs
from print_service.domain.history import record
from print_service.domain.sending import HELD, QUEUED, WAITING
from print_service.labels import templates, zpl
from print_service.labels.model import Size
from print_service.models import Printer, PrintJob

OPERATOR_PAUSE = "operator"
PRINTERS = Printer.__table__


@dataclass(frozen=True)
class Settings:
    """What asking a printer for a label reads of it: how to render, whether it holds, how to retry."""

    name: str
    dpi: int
    width_mm: float
    height_mm: float
    font: str
    retries: int
    retry_interval_s: int
    paused: bool
    paused_reason: str | None


_SETTINGS = compiled(select(*(PRINTERS.c[name] for name in Settings.__dataclass_fields__))
                     .where(PRINTERS.c.name == bindparam("name")))


def create(s: Session, redis: Redis, **fields: Any) -> Printer:
    try:
        drivers.parse_uri(fields["uri"])
    except ValueError as exc:
        raise InvalidInputError(code="invalid_printer_uri", details={"field": "uri", "expected": str(exc)}) from exc
    if s.get(Printer, fields["name"]) is not None:
        raise ConflictError(code="printer_exists", details={"name": fields["name"]})
    printer = Printer(state=drivers.UNKNOWN, paused=False, **fields)
    s.add(printer)
    s.flush()
    jobs.after_commit(s, lambda: jobs.register_printer(redis, printer.name))
    return printer


def get(s: Session, name: str, *, lock: bool = False) -> Printer:
    printer = s.get(Printer, name, with_for_update=lock)
    if printer is None:
        raise NotFoundError(code="unknown_printer", details={"printer": name})
    return printer


def settings(rows: Rows, name: str) -> Settings:
    """The printer as a new job needs it, read as a row: asking for labels is the print hot path."""
    found = cursor(rows).execute(_SETTINGS, {"name": name}).fetchone()
    if found is None:
        raise NotFoundError(code="unknown_printer", details={"printer": name})
    return Settings(*found)


def listing(s: Session) -> list[Printer]:
    printers = list(s.scalars(select(Printer).order_by(Printer.name)))
    waiting = dict(s.execute(select(PrintJob.printer, func.count()).where(
        PrintJob.state.in_((*WAITING, HELD, "sending"))).group_by(PrintJob.printer)).all())
    for printer in printers:
        printer.waiting = waiting.get(printer.name, 0)  # type: ignore[attr-defined]
    return printers


def size_of(printer: Printer | Settings) -> Size:
    return Size(printer.dpi, printer.width_mm, printer.height_mm)


def ask(s: Session, name: str) -> tuple[Printer, drivers.Status]:
    """Ask the printer now (outside any lock: a status query does not disturb a print)."""
    printer = get(s, name)
    status = drivers.for_uri(printer.uri).status()
    printer = get(s, name, lock=True)
    printer.state = status.state
    printer.checked_at = datetime.now(UTC)
    return printer, status


def pause(s: Session, name: str, identity: Identity) -> Printer:
    printer = get(s, name, lock=True)
    printer.paused, printer.paused_reason = True, OPERATOR_PAUSE
    printer.state = drivers.PAUSED
    waiting = s.scalars(select(PrintJob).where(PrintJob.printer == name, PrintJob.state.in_(WAITING))
                        .order_by(PrintJob.seq).with_for_update()).all()
    for job in waiting:
        job.state, job.error = HELD, OPERATOR_PAUSE
        record(s, job, "held", operator=identity.badge, detail="printer paused")
    return printer


def resume(s: Session, redis: Redis, name: str, identity: Identity) -> Printer:
    """Release held jobs in order; a printer still out of paper holds them again on the next try."""
    printer = get(s, name, lock=True)
    printer.paused, printer.paused_reason = False, None
    printer.state = drivers.UNKNOWN
    held = s.scalars(select(PrintJob).where(PrintJob.printer == name, PrintJob.state == HELD)
                     .order_by(PrintJob.seq).with_for_update()).all()
    for job in held:
        job.state, job.error = QUEUED, None
        record(s, job, "resumed", operator=identity.badge)
    enqueue_after_commit(s, redis, printer, [job.id for job in held])
    return printer


def move(s: Session, redis: Redis, name: str, to: str, identity: Identity) -> list[PrintJob]:
    """Send every waiting or held job of `name` to printer `to`, keeping their order."""
    if name == to:
        raise InvalidInputError(code="same_printer", details={"field": "to"})
    source = get(s, name, lock=True)
    target = get(s, to, lock=True)
    moving = s.scalars(select(PrintJob).where(PrintJob.printer == source.name,
                                              PrintJob.state.in_((*WAITING, HELD)))
                       .order_by(PrintJob.seq).with_for_update()).all()
    for job in moving:
        job.printer = target.name
        job.zpl = render(target, job.template, job.data, job.copies)
        job.state = HELD if target.paused else QUEUED
        job.error = target.paused_reason if target.paused else None
        record(s, job, "moved", operator=identity.badge, detail=f"{source.name} -> {target.name}")
    ids = [job.id for job in moving]
    jobs.after_commit(s, lambda: jobs.withdraw(redis, ids))
    if not target.paused:
        enqueue_after_commit(s, redis, target, ids)
    return list(moving)


def render(printer: Printer | Settings, template: str, data: dict[str, Any], copies: int) -> str:
    label = templates.build(template, data, size_of(printer), printer.font)
    return zpl.render(label, copies)


def enqueue_after_commit(s: Rows, redis: Redis, printer: Printer | Settings, ids: list[str]) -> None:
    name, retries, interval = printer.name, printer.retries, printer.retry_interval_s

    def push() -> None:
        jobs.register_printer(redis, name)
        for job_id in ids:
            jobs.enqueue(redis, name, job_id, retries, interval)

    if ids:
        jobs.after_commit(s, push)
