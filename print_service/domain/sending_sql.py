"""The statements of the worker's hot path (domain/sending.py), built once with bind parameters.

SQLAlchemy caches a statement's compiled form, but building the statement object and its cache
key again on every call cost about as much CPU as the worker's whole round trip to PostgreSQL;
these are built once and only executed. States come in as parameters: the names live in sending.py.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import String, Text, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.dml import Insert

from print_service.models import JobEvent, Printer, PrintJob

JOBS, PRINTERS, EVENTS = PrintJob.__table__, Printer.__table__, JobEvent.__table__

LOCK_PRINTER = select(PRINTERS.c.name, PRINTERS.c.uri, PRINTERS.c.state, PRINTERS.c.paused,
                      PRINTERS.c.paused_reason).where(PRINTERS.c.name == bindparam("printer")).with_for_update()

JOB = select(JOBS.c.state, JOBS.c.printer, JOBS.c.seq).where(JOBS.c.id == bindparam("job_id"))
JOB_STATE = select(JOBS.c.state).where(JOBS.c.id == bindparam("job_id"))
JOB_STATE_LOCKED = JOB_STATE.with_for_update()

# `states` is a PostgreSQL array: an IN list would be re-rendered on every execution.
_OF_PRINTER = select(JOBS.c.id, JOBS.c.seq, JOBS.c.state, JOBS.c.attempts, JOBS.c.zpl).where(
    JOBS.c.printer == bindparam("printer"), JOBS.c.state == any_(bindparam("states", type_=ARRAY(String))))
# The printer's oldest job in one of `states`, locked; the second up to seq `upto` only.
NEXT_JOB = _OF_PRINTER.order_by(JOBS.c.seq).limit(1).with_for_update()
NEXT_JOB_UPTO = _OF_PRINTER.where(JOBS.c.seq <= bindparam("upto")).order_by(JOBS.c.seq).limit(1).with_for_update()
# Every job of the printer in one of `states`, locked in seq order.
ALL_JOBS = _OF_PRINTER.order_by(JOBS.c.seq).with_for_update()
ALL_JOBS_UPTO = _OF_PRINTER.where(JOBS.c.seq <= bindparam("upto")).order_by(JOBS.c.seq).with_for_update()

EVENTS_OF = select(func.count()).select_from(EVENTS).where(EVENTS.c.job_id == bindparam("job_id"),
                                                           EVENTS.c.event == bindparam("event"))

PRINTER_STATE = update(PRINTERS).where(PRINTERS.c.name == bindparam("printer")).values(
    state=bindparam("new_state"), checked_at=bindparam("at"))
PAUSE_PRINTER = update(PRINTERS).where(PRINTERS.c.name == bindparam("printer")).values(
    paused=True, paused_reason=bindparam("reason"), state=bindparam("reason"), checked_at=bindparam("at"))


@lru_cache(maxsize=32)
def change(columns: frozenset[str], *, bump_attempts: bool = False) -> Insert:
    """UPDATE the job's `columns` (parameters new_<column>, job_id), then INSERT its event (event,
    detail) with the state and attempt count the job has after the update, in one statement."""
    values = {column: bindparam(f"new_{column}") for column in columns}
    if bump_attempts:
        values["attempts"] = JOBS.c.attempts + 1
    changed = (update(JOBS).where(JOBS.c.id == bindparam("job_id")).values(**values)
               .returning(JOBS.c.id, JOBS.c.state, JOBS.c.attempts).cte("changed"))
    return insert(EVENTS).from_select(
        ["job_id", "event", "state", "attempt", "detail"],
        select(changed.c.id, bindparam("event", type_=String), changed.c.state, changed.c.attempts,
               bindparam("detail", type_=Text))).add_cte(changed)
