"""What a worker does with a print job: one printer at a time, oldest label first.

A per-printer Redis lock is held around every send, so two workers never interleave one printer's
labels. Under the lock the worker sends the printer's waiting jobs in `seq` order up to and
including its own: a job whose turn was taken by a retry or a slower worker is printed by whoever
holds the lock first, and its own run later finds it sent and does nothing.

A job found `sending` under the lock was being sent by a worker that died: it is sent again once
(a duplicate label is better than a lost one), and the repeat is in its history. Interrupted a
second time, it fails instead of printing a third copy.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from common.db import standalone
from print_service import drivers
from print_service.domain.history import record
from print_service.models import JobEvent, Printer, PrintJob

log = logging.getLogger(__name__)

QUEUED, SENDING, SENT, RETRYING, FAILED, CANCELLED, HELD = (
    "queued", "sending", "sent", "retrying", "failed", "cancelled", "held")
WAITING = (QUEUED, RETRYING)


class PrinterBusyError(Exception):
    """Another worker held the printer's lock for too long; RQ retries the job."""


@dataclass(frozen=True)
class Claim:
    job_id: str
    seq: int
    uri: str
    zpl: str
    attempt: int


def send(sessions: sessionmaker, redis: Redis, job_id: str, *, retries_left: int, lock_seconds: int,
         worker: str = "") -> str:
    with standalone(sessions) as s:
        job = s.get(PrintJob, job_id)
        if job is None or job.state not in (*WAITING, SENDING):
            return job.state if job is not None else "missing"
        printer, seq = job.printer, job.seq
    lock = redis.lock(f"print:lock:{printer}", timeout=lock_seconds, blocking_timeout=lock_seconds * 3)
    if not lock.acquire():
        busy = PrinterBusyError(f"printer {printer} stayed locked for {lock_seconds * 3}s")
        with standalone(sessions) as s:
            job = s.get(PrintJob, job_id, with_for_update=True)
            if job.state in WAITING:
                _fail_or_retry(s, job, retries_left, str(busy))
        raise busy
    try:
        while True:
            with standalone(sessions) as s:
                claim = _claim_next(s, printer, seq, worker)
            if claim is None:
                break
            lock.reacquire()
            outcome = _deliver(sessions, claim, job_id, printer, retries_left)
            if outcome is not None:
                raise outcome
    finally:
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - an expired lock is already free
            log.warning("print lock of %s had expired", printer)
    with standalone(sessions) as s:
        return s.get(PrintJob, job_id).state


def _claim_next(s: Session, printer_name: str, seq: int, worker: str) -> Claim | None:
    """Lock the printer's oldest waiting job up to `seq` and mark it sending (committed before I/O)."""
    printer = s.get(Printer, printer_name, with_for_update=True)
    job = s.scalars(select(PrintJob).where(PrintJob.printer == printer_name, PrintJob.seq <= seq,
                                           PrintJob.state.in_((*WAITING, SENDING)))
                    .order_by(PrintJob.seq).limit(1).with_for_update()).first()
    if job is None:
        return None
    if printer.paused:
        _hold_waiting(s, printer, seq)
        return None
    if job.state == SENDING:
        interrupted = s.scalar(select(func.count()).select_from(JobEvent).where(
            JobEvent.job_id == job.id, JobEvent.event == "interrupted"))
        if interrupted:
            _set(s, job, FAILED, "interrupted", error="interrupted twice while sending; not sent again")
            return _claim_next(s, printer_name, seq, worker)
        record(s, job, "interrupted", detail=f"attempt {job.attempts} stopped while sending; sending once more")
    job.attempts += 1
    _set(s, job, SENDING, "attempt", detail=f"worker {worker}" if worker else None)
    _printer_state(printer, drivers.BUSY)
    return Claim(job.id, job.seq, printer.uri, job.zpl, job.attempts)


def _deliver(sessions: sessionmaker, claim: Claim, own_id: str, printer_name: str,
             retries_left: int) -> Exception | None:
    """Send one claimed job and record the outcome; returns the error the RQ job should raise."""
    try:
        drivers.for_uri(claim.uri).send(f"{claim.seq:012d}-{claim.job_id}", claim.zpl.encode("utf-8"))
    except drivers.PrinterHeldError as exc:
        with standalone(sessions) as s:
            printer = s.get(Printer, printer_name, with_for_update=True)
            printer.paused, printer.paused_reason = True, exc.state
            _printer_state(printer, exc.state)
            job = s.get(PrintJob, claim.job_id, with_for_update=True)
            _set(s, job, HELD, "held", error=exc.state, detail=str(exc))
        return None
    except drivers.PrinterOfflineError as exc:
        with standalone(sessions) as s:
            _printer_state(s.get(Printer, printer_name, with_for_update=True), drivers.OFFLINE)
            job = s.get(PrintJob, claim.job_id, with_for_update=True)
            if claim.job_id == own_id:
                _fail_or_retry(s, job, retries_left, str(exc))
            else:
                # An older job's turn: its own RQ job keeps its retries; this one waits behind it.
                _set(s, job, RETRYING, "retrying", error=str(exc))
                own = s.get(PrintJob, own_id, with_for_update=True)
                if own is not None and own.state in WAITING:
                    _fail_or_retry(s, own, retries_left, f"waiting behind {claim.job_id}: {exc}")
        return exc
    with standalone(sessions) as s:
        _printer_state(s.get(Printer, printer_name, with_for_update=True), drivers.READY)
        job = s.get(PrintJob, claim.job_id, with_for_update=True)
        job.sent_at = datetime.now(UTC)
        _set(s, job, SENT, "sent", error=None)
    return None


def _fail_or_retry(s: Session, job: PrintJob, retries_left: int, reason: str) -> None:
    if retries_left > 0:
        _set(s, job, RETRYING, "retrying", error=reason, detail=f"{retries_left} retries left")
    else:
        _set(s, job, FAILED, "failed", error=reason)


def _hold_waiting(s: Session, printer: Printer, seq: int) -> None:
    jobs = s.scalars(select(PrintJob).where(PrintJob.printer == printer.name, PrintJob.seq <= seq,
                                            PrintJob.state.in_(WAITING)).with_for_update()).all()
    for job in jobs:
        _set(s, job, HELD, "held", error=printer.paused_reason, detail="printer paused")


def _set(s: Session, job: PrintJob, state: str, event: str, *, error: str | None | bool = False,
         detail: str | None = None) -> None:
    job.state = state
    job.updated_at = datetime.now(UTC)
    if error is not False:
        job.error = error
    record(s, job, event, detail=detail or (error if isinstance(error, str) else None))


def _printer_state(printer: Printer, state: str) -> None:
    printer.state = state
    printer.checked_at = datetime.now(UTC)
