"""What a worker does with a print job: one printer at a time, oldest label first.

A per-printer Redis lock is held around every send, so two workers never interleave one printer's
labels. Under the lock the worker sends the printer's waiting jobs in `seq` order up to and
including its own: a job whose turn was taken by a retry or a slower worker is printed by whoever
holds the lock first, and its own run later finds it sent and does nothing. With its own label
out, the run goes on with the printer's newer waiting labels for up to DRAIN_SECONDS: a backlog
(a receipt's hundred labels, a printer just resumed) goes out under one lock, each label's result
written in the same transaction that claims the next one, instead of one RQ job per label.

Every label is marked `sending` and committed before its bytes leave, and marked `sent` after the
printer took them. A job found `sending` under the lock was being sent by a worker that died: it
is sent again once (a duplicate label is better than a lost one), and the repeat is in its
history. Interrupted a second time, it fails instead of printing a third copy.

This is the worker's hot path, one transaction per label: it works on rows, not ORM objects, and
every change of a job's state is one statement that also appends the event to its history.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.lock import Lock
from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from common.db import standalone
from print_service import drivers
from print_service.domain import sending_sql as sql

log = logging.getLogger(__name__)

QUEUED, SENDING, SENT, RETRYING, FAILED, CANCELLED, HELD = (
    "queued", "sending", "sent", "retrying", "failed", "cancelled", "held")
WAITING = (QUEUED, RETRYING)
# After its own label, how long one run keeps sending the printer's newer labels before it lets
# the other printers have their turn (their RQ jobs then find them sent).
DRAIN_SECONDS = 1.0


class PrinterBusyError(Exception):
    """Another worker held the printer's lock for too long; RQ retries the job."""


@dataclass(frozen=True)
class Claim:
    job_id: str
    seq: int
    uri: str
    zpl: str
    attempt: int


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed label."""

    job_id: str
    state: str


@dataclass(frozen=True)
class Own:
    """The job the run is for: its RQ job raises (and retries) for it alone."""

    job_id: str
    seq: int
    retries_left: int


@dataclass
class Target:
    """The printer's row as locked in the current transaction."""

    name: str
    uri: str
    state: str
    paused: bool
    paused_reason: str | None


def send(sessions: sessionmaker, redis: Redis, job_id: str, *, retries_left: int, lock_seconds: int,
         worker: str = "", drain_seconds: float = DRAIN_SECONDS, sent_ahead: list[str] | None = None) -> str:
    """Send the job (and the printer's labels before it, and newer ones while time allows); its state.

    `sent_ahead` receives the ids of the other jobs this run sent, whose own RQ jobs have nothing left to do.
    """
    with standalone(sessions) as s:
        found = s.execute(sql.JOB, {"job_id": job_id}).first()
    if found is None or found.state not in (*WAITING, SENDING):
        return found.state if found is not None else "missing"
    own = Own(job_id, found.seq, retries_left)
    lock = redis.lock(f"print:lock:{found.printer}", timeout=lock_seconds, blocking_timeout=lock_seconds * 3)
    if not lock.acquire():
        busy = PrinterBusyError(f"printer {found.printer} stayed locked for {lock_seconds * 3}s")
        with standalone(sessions) as s:
            if _state(s, job_id, lock=True) in WAITING:
                _fail_or_retry(s, job_id, retries_left, str(busy))
        raise busy
    try:
        state = _send_locked(sessions, lock, found.printer, own, worker, drain_seconds, sent_ahead)
    finally:
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - an expired lock is already free
            log.warning("print lock of %s had expired", found.printer)
    if state is not None:
        return state
    with standalone(sessions) as s:
        return _state(s, job_id)


def _send_locked(sessions: sessionmaker, lock: Lock, printer: str, own: Own, worker: str, drain_seconds: float,
                 sent_ahead: list[str] | None) -> str | None:
    """The labels, one transaction each; the own job's state when this run wrote it, else None."""
    drain_until = time.monotonic() + drain_seconds
    renewed = time.monotonic()
    state = None
    with standalone(sessions) as s:
        claim = _claim_next(s, _lock_printer(s, printer), own.seq, worker)
    while claim is not None:
        # Renewed before a label unless that was just done (label after label in a drain).
        if time.monotonic() - renewed > min(1.0, lock.timeout / 3):
            lock.reacquire()
            renewed = time.monotonic()
        failure = _print(claim)
        upto = None if time.monotonic() < drain_until else own.seq
        with standalone(sessions) as s:
            raising, outcome, claim = _after_label(s, _lock_printer(s, printer), claim, failure, own, upto, worker)
        if outcome.job_id == own.job_id:
            state = outcome.state
        elif outcome.state == SENT and sent_ahead is not None:
            sent_ahead.append(outcome.job_id)
        if raising is not None:
            raise raising
    return state


def _after_label(s: Session, printer: Target, claim: Claim, failure: Exception | None, own: Own,
                 upto: int | None, worker: str) -> tuple[Exception | None, Outcome, Claim | None]:
    """Write down what became of a label and claim the next one, in one transaction.

    Returns the error the run's RQ job should raise, the label's outcome and the next claim.
    """
    if failure is None:
        _change(s, claim.job_id, SENT, "sent", error=None, sent_at=datetime.now(UTC))
        following = _claim_next(s, printer, upto, worker)
        if following is None:
            _printer_state(s, printer, drivers.READY)
        return None, Outcome(claim.job_id, SENT), following
    if isinstance(failure, drivers.PrinterHeldError):
        _pause(s, printer, failure.state)
        _change(s, claim.job_id, HELD, "held", error=failure.state, detail=str(failure))
        _hold_waiting(s, printer, upto)
        return None, Outcome(claim.job_id, HELD), None
    _printer_state(s, printer, drivers.OFFLINE)
    if claim.job_id == own.job_id:
        return failure, Outcome(claim.job_id, _fail_or_retry(s, claim.job_id, own.retries_left, str(failure))), None
    # Another job's turn: its own RQ job keeps its retries and tries it again.
    _change(s, claim.job_id, RETRYING, "retrying", error=str(failure))
    if claim.seq > own.seq:
        return None, Outcome(claim.job_id, RETRYING), None  # the run's own label is already done
    if _state(s, own.job_id, lock=True) in WAITING:
        # It waits behind the older one.
        _fail_or_retry(s, own.job_id, own.retries_left, f"waiting behind {claim.job_id}: {failure}")
    return failure, Outcome(claim.job_id, RETRYING), None


def _claim_next(s: Session, printer: Target, upto: int | None, worker: str) -> Claim | None:
    """Lock the printer's oldest waiting job (up to seq `upto`) and mark it sending (committed before I/O)."""
    job = s.execute(*_of_printer(sql.NEXT_JOB, sql.NEXT_JOB_UPTO, printer, (*WAITING, SENDING), upto)).first()
    if job is None:
        return None
    if printer.paused:
        _hold_waiting(s, printer, upto)
        return None
    if job.state == SENDING:
        if s.scalar(sql.EVENTS_OF, {"job_id": job.id, "event": "interrupted"}):
            _change(s, job.id, FAILED, "interrupted", error="interrupted twice while sending; not sent again")
            return _claim_next(s, printer, upto, worker)
        _change(s, job.id, SENDING, "interrupted",
                detail=f"attempt {job.attempts} stopped while sending; sending once more")
    _change(s, job.id, SENDING, "attempt", detail=f"worker {worker}" if worker else None, bump_attempts=True)
    _printer_state(s, printer, drivers.BUSY)
    return Claim(job.id, job.seq, printer.uri, job.zpl, job.attempts + 1)


def _print(claim: Claim) -> drivers.PrinterHeldError | drivers.PrinterOfflineError | None:
    """Hand one claimed label to its printer; what the printer said, or None when it took it."""
    try:
        drivers.for_uri(claim.uri).send(f"{claim.seq:012d}-{claim.job_id}", claim.zpl.encode("utf-8"))
    except (drivers.PrinterHeldError, drivers.PrinterOfflineError) as exc:
        return exc
    return None


def _fail_or_retry(s: Session, job_id: str, retries_left: int, reason: str) -> str:
    if retries_left > 0:
        _change(s, job_id, RETRYING, "retrying", error=reason, detail=f"{retries_left} retries left")
        return RETRYING
    _change(s, job_id, FAILED, "failed", error=reason)
    return FAILED


def _hold_waiting(s: Session, printer: Target, upto: int | None) -> None:
    for job in s.execute(*_of_printer(sql.ALL_JOBS, sql.ALL_JOBS_UPTO, printer, WAITING, upto)).all():
        _change(s, job.id, HELD, "held", error=printer.paused_reason, detail="printer paused")


def _of_printer(every: Select, upto_seq: Select, printer: Target, states: tuple[str, ...],
                upto: int | None) -> tuple[Select, dict[str, Any]]:
    """The statement and parameters of a query over the printer's jobs in `states`, up to seq `upto`."""
    params = {"printer": printer.name, "states": list(states)}
    if upto is None:
        return every, params
    return upto_seq, params | {"upto": upto}


def _change(s: Session, job_id: str, state: str, event: str, *, error: str | None | bool = False,
            detail: str | None = None, bump_attempts: bool = False, **values: Any) -> None:
    """Set the job's state (and `values`) and append `event` to its history, in one statement.

    The event carries the state and attempt count the job has after the change; `error` False
    leaves the job's error as it is, and the event's detail defaults to the error.
    """
    values |= {"state": state, "updated_at": datetime.now(UTC)}
    if error is not False:
        values["error"] = error
    params = {f"new_{column}": value for column, value in values.items()}
    params |= {"job_id": job_id, "event": event, "detail": detail or (error if isinstance(error, str) else None)}
    s.execute(sql.change(frozenset(values), bump_attempts=bump_attempts), params)


def _state(s: Session, job_id: str, *, lock: bool = False) -> str | None:
    return s.scalar(sql.JOB_STATE_LOCKED if lock else sql.JOB_STATE, {"job_id": job_id})


def _lock_printer(s: Session, name: str) -> Target:
    row = s.execute(sql.LOCK_PRINTER, {"printer": name}).one()
    return Target(row.name, row.uri, row.state, row.paused, row.paused_reason)


def _printer_state(s: Session, printer: Target, state: str) -> None:
    """Write the printer's state when it changes: one busy with label after label is written once."""
    if printer.state != state:
        s.execute(sql.PRINTER_STATE, {"printer": printer.name, "new_state": state, "at": datetime.now(UTC)})
        printer.state = state


def _pause(s: Session, printer: Target, reason: str) -> None:
    """The printer answered that it cannot print (paper out, head open...): paused until someone resumes it."""
    s.execute(sql.PAUSE_PRINTER, {"printer": printer.name, "reason": reason, "at": datetime.now(UTC)})
    printer.paused, printer.paused_reason, printer.state = True, reason, reason
