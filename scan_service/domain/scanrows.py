"""The rows one scan locks and changes, read and written as plain rows, not ORM objects.

A scan is the floor's most frequent request: it locks its pick (or check), reads the tasks (or
lines) and bumps one counter. Loading ORM objects with their relationships and flushing them
cost several times the SQL itself, so the scan path works on these small dataclasses, which
have the attributes the rules in picking and verify read (`sku`, `barcodes`, `picked`, ...).

The tasks are read by a second statement, after the lock is held: in READ COMMITTED a
statement sees the rows committed before it began, and only the second one begins after a
racing scan of the same pick has committed. The counters it changes are queued
(common.db.with_commit) and go to PostgreSQL with the scan's journal line and idempotency key,
as one statement before the COMMIT.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from common.db import compiled, cursor, with_commit
from scan_service.models import Pick, PickTask, Verification, VerificationLine

TASKS, LINES = PickTask.__table__, VerificationLine.__table__


@dataclass
class Task:
    id: int
    seq: int
    location: str
    sku: str
    name: str
    image_url: str | None
    barcodes: list[str]
    qty: int
    picked: int
    short: int


@dataclass
class Walk:
    """A pick as a scan sees it: locked, with its tasks in walking order."""

    id: int
    state: str
    location: str | None
    picker: str
    picker_name: str
    tasks: list[Task] = field(default_factory=list)
    loaded: tuple = field(default=(), repr=False)  # what the row held when locked, to write only changes


@dataclass
class Line:
    id: int
    sku: str
    name: str
    barcodes: list[str]
    expected: int
    scanned: int


@dataclass
class Check:
    """A verification as a scan sees it: locked, with its lines."""

    id: int
    state: str
    lines: list[Line] = field(default_factory=list)


def _columns(table, cls) -> list:  # type: ignore[no-untyped-def]
    return [table.c[f.name] for f in fields(cls) if f.name in table.c]


@cache
def _statements() -> dict[str, str]:
    """Compiled once and run on the session's psycopg cursor (common.db.cursor): a scan compiles nothing."""
    picks, checks = Pick.__table__, Verification.__table__
    statements = {
        "pick": select(*_columns(picks, Walk)).where(picks.c.id == bindparam("id")).with_for_update(),
        "tasks": select(*_columns(TASKS, Task)).where(TASKS.c.pick_id == bindparam("id"))
        .order_by(TASKS.c.seq, TASKS.c.id),
        "pick_moved": update(picks).where(picks.c.id == bindparam("pick_id"))
        .values(location=bindparam("location"), picker=bindparam("picker"), picker_name=bindparam("picker_name")),
        "task_picked": update(TASKS).where(TASKS.c.id == bindparam("task_id")).values(picked=bindparam("picked")),
        "check": select(checks.c.id, checks.c.state).where(checks.c.id == bindparam("id")).with_for_update(),
        "lines": select(*_columns(LINES, Line)).where(LINES.c.verification_id == bindparam("id"))
        .order_by(LINES.c.id),
        "line_scanned": update(LINES).where(LINES.c.id == bindparam("line_id")).values(scanned=bindparam("scanned")),
    }
    return {name: compiled(statement) for name, statement in statements.items()}


def lock_pick(s: Session, pick_id: int) -> Walk | None:
    rows, sql = cursor(s), _statements()
    row = rows.execute(sql["pick"], {"id": pick_id}).fetchone()
    if row is None:
        return None
    walk = Walk(*row)
    walk.tasks = [Task(*task) for task in rows.execute(sql["tasks"], {"id": pick_id})]
    walk.loaded = (_place(walk), {task.id: task.picked for task in walk.tasks})
    return walk


def _place(walk: Walk) -> tuple:
    return walk.location, walk.picker, walk.picker_name


def save_pick(s: Session, walk: Walk) -> None:
    """Write what the scan changed: the pick's place or picker, the tasks' picked counts."""
    sql = _statements()
    place, picked = walk.loaded
    if _place(walk) != place:
        with_commit(s, sql["pick_moved"], {"pick_id": walk.id, "location": walk.location, "picker": walk.picker,
                                           "picker_name": walk.picker_name})
    for task in walk.tasks:
        if task.picked != picked[task.id]:
            with_commit(s, sql["task_picked"], {"task_id": task.id, "picked": task.picked})


def lock_check(s: Session, verification_id: int) -> Check | None:
    rows, sql = cursor(s), _statements()
    row = rows.execute(sql["check"], {"id": verification_id}).fetchone()
    if row is None:
        return None
    return Check(*row, lines=[Line(*line) for line in rows.execute(sql["lines"], {"id": verification_id})])


def save_line(s: Session, line: Line) -> None:
    with_commit(s, _statements()["line_scanned"], {"line_id": line.id, "scanned": line.scanned})
