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

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from functools import cache
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, func, insert, select, update

from common.db import Rows, compiled, cursor, with_commit
from scan_service.models import Order, Pick, PickTask, Verification, VerificationLine

TASKS, LINES, ORDERS = PickTask.__table__, VerificationLine.__table__, Order.__table__


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
class Started:
    """A pick as its start answers it (PickOut): written as rows, not flushed as ORM objects."""

    id: int
    basket: str
    picker: str
    picker_name: str
    orders: list[str]
    created_at: datetime
    tasks: list[Task]
    state: str = "open"
    location: str | None = None


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
    """Compiled once and run on the unit of work's psycopg cursor (common.db.cursor): a scan compiles nothing."""
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
        "new_pick": insert(picks).values({name: bindparam(name) for name in _NEW_PICK})
        .returning(picks.c.id, picks.c.created_at),
        "orders_picking": update(ORDERS).where(ORDERS.c.order_no == func.any(bindparam("order_nos")))
        .values(state=bindparam("state"), allocated=bindparam("allocated"), basket=bindparam("basket")),
    }
    return {name: compiled(statement) for name, statement in statements.items()} | {"new_tasks": _NEW_TASKS}


_NEW_PICK = ("basket", "picker", "picker_name", "state", "orders")
# A pick's tasks in one statement however many: one JSON array of them, read back as rows.
_NEW_TASKS = (
    "INSERT INTO scan.pick_tasks (pick_id, seq, location, sku, name, image_url, barcodes, qty, picked, short) "
    "SELECT %(pick_id)s, t.seq, t.location, t.sku, t.name, t.image_url, t.barcodes, t.qty, 0, 0 "
    "FROM jsonb_to_recordset(%(tasks)s) AS t(seq int, location text, sku text, name text, image_url text, "
    "barcodes jsonb, qty int) RETURNING id, seq")


def start_pick(s: Rows, basket: str, picker: str, picker_name: str, orders: list[str],
               plan: list[dict[str, Any]]) -> Started:
    """Write a new pick, its tasks in walking order, and its orders' move to `picking`, in three statements.

    The orders' update goes with the commit's one statement; a second open pick of the same
    basket fails the first statement (the open-basket unique index).
    """
    rows, sql = cursor(s), _statements()
    pick_id, created_at = rows.execute(sql["new_pick"], {"basket": basket, "picker": picker,
                                                         "picker_name": picker_name, "state": "open",
                                                         "orders": Jsonb(orders)}).fetchone()
    tasks = [Task(id=0, seq=task.get("seq", seq), location=task["location"], sku=task["sku"],
                  name=task.get("name") or task["sku"], image_url=task.get("image_url"),
                  barcodes=list(task.get("barcodes", [])), qty=task["qty"], picked=0, short=0)
             for seq, task in enumerate(plan, start=1)]
    ids = dict((seq, task_id) for task_id, seq in rows.execute(
        sql["new_tasks"], {"pick_id": pick_id, "tasks": Jsonb([asdict(task) for task in tasks])}))
    for task in tasks:
        task.id = ids[task.seq]
    with_commit(s, sql["orders_picking"], {"order_nos": orders, "basket": basket, "state": "picking",
                                           "allocated": True})
    return Started(pick_id, basket, picker, picker_name, orders, created_at, tasks)


def lock_pick(s: Rows, pick_id: int) -> Walk | None:
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


def save_pick(s: Rows, walk: Walk) -> None:
    """Write what the scan changed: the pick's place or picker, the tasks' picked counts."""
    sql = _statements()
    place, picked = walk.loaded
    if _place(walk) != place:
        with_commit(s, sql["pick_moved"], {"pick_id": walk.id, "location": walk.location, "picker": walk.picker,
                                           "picker_name": walk.picker_name})
    for task in walk.tasks:
        if task.picked != picked[task.id]:
            with_commit(s, sql["task_picked"], {"task_id": task.id, "picked": task.picked})


def lock_check(s: Rows, verification_id: int) -> Check | None:
    rows, sql = cursor(s), _statements()
    row = rows.execute(sql["check"], {"id": verification_id}).fetchone()
    if row is None:
        return None
    return Check(*row, lines=[Line(*line) for line in rows.execute(sql["lines"], {"id": verification_id})])


def save_line(s: Rows, line: Line) -> None:
    with_commit(s, _statements()["line_scanned"], {"line_id": line.id, "scanned": line.scanned})
