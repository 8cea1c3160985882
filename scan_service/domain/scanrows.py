"""The rows one scan (or a walk's completion) reads and changes, read and written as plain rows, not ORM objects.

A scan is the floor's most frequent request: it reads its pick (or check) with the tasks (or
lines) and bumps one counter. ORM objects cost several times the SQL itself, so the scan path
works on these small dataclasses, which have the attributes the rules in picking and verify read.

A scan reads with no lock and no transaction, and writes with a claim (common.db.optimistically):
its counters, journal line and idempotency key go as one statement whose main query claims the
version it read (scan.claim_pick, migration 0006). Every change to a pick or its tasks moves that
version in its transaction, so a claim holds only on what the scan read; one that fails undoes
the statement and the scan runs again on what its rival left.

A completion, and a scan's last try, lock instead: the pick, then its tasks read by a second
statement, which in READ COMMITTED is the first to see what a racing writer committed while
this one waited. Both run inside one function call (migrations 0005, 0006), one round trip.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, exists, func, literal_column, select, update

from common.db import Rows, claim, compiled, cursor, optimistic, with_commit
from scan_service.models import Order, OrderLine, OrderNote, Pick, PickTask, Verification, VerificationLine

TASKS, LINES, ORDERS = PickTask.__table__, VerificationLine.__table__, Order.__table__
ORDER_LINES, NOTES = OrderLine.__table__, OrderNote.__table__
# A pick, or a check, read with its tasks or lines, locked or not: one row per task or line, the
# pick's (check's) columns first, the task's (line's) NULL when it has none.
_LOCKED_PICK = "SELECT * FROM scan.locked_pick(%(id)s)"
_READ_PICK = (
    "SELECT p.id, p.state, p.location, p.picker, p.picker_name, p.basket, p.orders, p.version, t.id, t.seq, "
    "t.location, t.sku, t.name, t.image_url, t.barcodes, t.qty, t.picked, t.short "
    "FROM scan.picks AS p LEFT JOIN scan.pick_tasks AS t ON t.pick_id = p.id WHERE p.id = %(id)s ORDER BY t.seq, t.id")
_WALK_WIDTH = 8    # id, state, location, picker, picker_name, basket, orders, version
_LOCKED_CHECK = "SELECT * FROM scan.locked_check(%(id)s)"
_READ_CHECK = (
    "SELECT v.id, v.state, v.orders, v.version, l.id, l.sku, l.name, l.barcodes, l.expected, l.scanned "
    "FROM scan.verifications AS v LEFT JOIN scan.verification_lines AS l ON l.verification_id = v.id "
    "WHERE v.id = %(id)s ORDER BY l.id")
_CHECK_WIDTH = 4   # id, state, orders, version
# The version a scan read, claimed with what it changed on the pick itself (migration 0006).
_CLAIM_PICK = "SELECT scan.claim_pick(%(id)s, %(version)s, %(moves)s, %(location)s, %(picker)s, %(picker_name)s)"
_CLAIM_CHECK = "SELECT scan.claim_check(%(id)s, %(version)s, %(moves)s)"
# A new backend compiles each plpgsql function on its first call: a worker's warm-up calls them
# for a row that cannot exist (common/warmup.py), which locks and reads nothing; the claims of no
# row are refused, and the block catches the refusal.
WARM_UP = ("SELECT * FROM scan.locked_pick(0)", "SELECT * FROM scan.locked_check(0)",
           "DO $$ BEGIN PERFORM scan.claim_pick(0, 0, true, NULL, '', ''); PERFORM scan.claim_check(0, 0, true); "
           "EXCEPTION WHEN serialization_failure THEN NULL; END $$")
_ORDERED = (ORDERS.c.order_no, ORDERS.c.state, ORDERS.c.basket, ORDERS.c.picked_at, ORDERS.c.paid,
            ORDERS.c.waybill_no, ORDERS.c.merge_into, ORDERS.c.shop, ORDERS.c.intercept_reason)


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
    basket: str = ""
    orders: list[str] = field(default_factory=list)
    version: int = 0
    tasks: list[Task] = field(default_factory=list)
    loaded: tuple = field(default=(), repr=False)  # place and picked counts as read: what changed is written


@dataclass
class Wanted:
    sku: str
    qty: int


@dataclass
class Ordered:
    """An order as the start or completion of a walk or a check sees it: locked, with its lines (notes when asked)."""

    order_no: str
    state: str
    basket: str | None
    picked_at: datetime | None
    paid: bool
    waybill_no: str | None
    merge_into: str | None
    shop: str
    intercept_reason: str | None
    lines: list[Wanted] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


@dataclass
class Note:
    id: int
    order_no: str
    kind: str
    text: str
    operator: str
    created_at: datetime


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
    orders: list[str] = field(default_factory=list)
    version: int = 0
    lines: list[Line] = field(default_factory=list)


@dataclass
class Opened:
    """A verification as its opening answers it (VerificationOut): written as rows, not flushed as ORM objects."""

    id: int
    waybill: str
    verifier: str
    orders: list[str]
    lines: list[Line]
    parcel: list[Ordered] = field(default_factory=list, repr=False)  # the orders, for the answer's notes
    state: str = "open"


def compile_statements() -> None:
    """Compile the scan statements now (a new worker's warm-up), not on the worker's first scan."""
    _statements()


@cache
def _statements() -> dict[str, str]:
    """Compiled once and run on the unit of work's psycopg cursor (common.db.cursor): a scan compiles nothing."""
    picks, checks = Pick.__table__, Verification.__table__
    statements = {
        "task_picked": update(TASKS).where(TASKS.c.id == bindparam("task_id")).values(picked=bindparam("picked")),
        "line_scanned": update(LINES).where(LINES.c.id == bindparam("line_id")).values(scanned=bindparam("scanned")),
        "orders": select(*_ORDERED).where(ORDERS.c.order_no == func.any(bindparam("order_nos")))
        .order_by(ORDERS.c.order_no).with_for_update(),
        # The next waiting orders (none while the basket is on a walk); those claimed are skipped.
        "orders_waiting": select(*_ORDERED).where(ORDERS.c.state == bindparam("state"), ~_basket_busy(picks))
        .order_by(ORDERS.c.created_at, ORDERS.c.order_no).limit(bindparam("limit")).with_for_update(skip_locked=True),
        "order_notes": select(NOTES.c.id, NOTES.c.order_no, NOTES.c.kind, NOTES.c.text, NOTES.c.operator,
                              NOTES.c.created_at)
        .where(NOTES.c.order_no == func.any(bindparam("order_nos"))).order_by(NOTES.c.id),
        "parcel": select(*_ORDERED).where(ORDERS.c.waybill_no == bindparam("waybill"))
        .order_by(ORDERS.c.order_no).with_for_update(),
        "order_lines": select(ORDER_LINES.c.order_no, ORDER_LINES.c.sku, ORDER_LINES.c.qty)
        .where(ORDER_LINES.c.order_no == func.any(bindparam("order_nos"))).order_by(ORDER_LINES.c.id),
        "check_closed": update(checks).where(checks.c.id == bindparam("id"))
        .values(state=bindparam("state"), completed_at=func.now(), version=checks.c.version + literal_column("1")),
        "orders_shipped": update(ORDERS).where(ORDERS.c.order_no == func.any(bindparam("order_nos")))
        .values(state=bindparam("state"), shipped_at=func.now()),
        "orders_verifying": update(ORDERS).where(ORDERS.c.order_no == func.any(bindparam("order_nos")))
        .values(verified_at=func.now()),
        "basket_open": select(_basket_busy(picks)),
        "pick_closed": update(picks).where(picks.c.id == bindparam("pick_id"))
        .values(state=bindparam("state"), completed_at=func.now(), version=picks.c.version + literal_column("1")),
        "orders_picking": update(ORDERS).where(ORDERS.c.order_no == func.any(bindparam("order_nos")))
        .values(state=bindparam("state"), allocated=bindparam("allocated"), basket=bindparam("basket")),
    }
    return {name: compiled(statement) for name, statement in statements.items()} | {
        "new_pick": _NEW_PICK, "orders_picked": _ORDERS_PICKED, "new_check": _NEW_CHECK,
        "orders_named": _ORDERS_NAMED.format(columns=", ".join(c.name for c in _ORDERED))}


def _basket_busy(picks: Any) -> Any:
    """Whether the basket is on a walk (the open-basket unique index, partial on state = 'open', answers)."""
    return exists().where(picks.c.basket == bindparam("basket"), picks.c.state == literal_column("'open'"))


# A basket's orders named by number or waybill, and every order sharing a waybill with them, all
# locked by one statement in order-number order. The named orders' waybills are gathered first
# (an InitPlan): as `waybill_no IN (SELECT ...)` the condition could use no index, and every pick
# start read the whole orders table. None while the basket is on a walk: the start's check of the
# basket rides on its claim (a one-time filter), and is asked on its own only when nothing came.
_ORDERS_NAMED = (
    "SELECT {columns} FROM scan.orders WHERE (order_no = ANY(%(refs)s::text[]) "
    "OR waybill_no = ANY(%(waybills)s::text[] || ARRAY(SELECT waybill_no FROM scan.orders "
    "WHERE order_no = ANY(%(refs)s::text[]) AND waybill_no IS NOT NULL))) "
    "AND NOT EXISTS (SELECT FROM scan.picks WHERE basket = %(basket)s AND state = 'open') "
    "ORDER BY order_no FOR UPDATE")
# Each order of a completed pick to `picked` or `short`, in one statement.
_ORDERS_PICKED = ("UPDATE scan.orders SET state = r.state, picked_at = now() "
                  "FROM jsonb_to_recordset(%(orders)s) AS r(order_no text, state text) "
                  "WHERE orders.order_no = r.order_no")
# A verification and its lines in one statement; the LEFT JOIN answers its id even without lines.
_NEW_CHECK = """
WITH made AS (
  INSERT INTO scan.verifications (waybill, verifier, verifier_name, state, orders)
  VALUES (%(waybill)s, %(verifier)s, %(verifier_name)s, 'open', %(orders)s) RETURNING id),
lines AS (
  INSERT INTO scan.verification_lines (verification_id, sku, name, barcodes, expected, scanned)
  SELECT made.id, l.sku, l.name, l.barcodes, l.expected, 0
  FROM made, jsonb_to_recordset(%(lines)s) AS l(sku text, name text, barcodes jsonb, expected int, n int)
  ORDER BY l.n
  RETURNING id, sku)
SELECT made.id, lines.id, lines.sku FROM made LEFT JOIN lines ON true
"""
# A pick and its tasks in one statement however many: the tasks as one JSON array, read back as rows;
# the LEFT JOIN answers the pick's id and time even without tasks.
_NEW_PICK = """
WITH made AS (
  INSERT INTO scan.picks (basket, picker, picker_name, state, orders)
  VALUES (%(basket)s, %(picker)s, %(picker_name)s, 'open', %(orders)s) RETURNING id, created_at),
tasks AS (
  INSERT INTO scan.pick_tasks (pick_id, seq, location, sku, name, image_url, barcodes, qty, picked, short)
  SELECT made.id, t.seq, t.location, t.sku, t.name, t.image_url, t.barcodes, t.qty, 0, 0
  FROM made, jsonb_to_recordset(%(tasks)s) AS t(seq int, location text, sku text, name text, image_url text,
                                                barcodes jsonb, qty int)
  RETURNING id, seq)
SELECT made.id, made.created_at, tasks.id, tasks.seq FROM made LEFT JOIN tasks ON true
"""


def start_pick(s: Rows, basket: str, picker: str, picker_name: str, orders: list[str],
               plan: list[dict[str, Any]]) -> Started:
    """Write a new pick with its tasks in walking order, and its orders' move to `picking`, in two statements.

    The orders' update goes with the commit's one statement; a second open pick of the same
    basket fails the first statement (the open-basket unique index).
    """
    tasks = [Task(id=0, seq=task.get("seq", seq), location=task["location"], sku=task["sku"],
                  name=task.get("name") or task["sku"], image_url=task.get("image_url"),
                  barcodes=list(task.get("barcodes", [])), qty=task["qty"], picked=0, short=0)
             for seq, task in enumerate(plan, start=1)]
    sql = _statements()
    made = cursor(s).execute(sql["new_pick"], {"basket": basket, "picker": picker, "picker_name": picker_name,
                                               "orders": Jsonb(orders),
                                               "tasks": Jsonb([asdict(task) for task in tasks])}).fetchall()
    pick_id, created_at = made[0][:2]
    ids = {seq: task_id for _pick, _at, task_id, seq in made if task_id is not None}
    for task in tasks:
        task.id = ids[task.seq]
    with_commit(s, sql["orders_picking"], {"order_nos": orders, "basket": basket, "state": "picking",
                                           "allocated": True})
    return Started(pick_id, basket, picker, picker_name, orders, created_at, tasks)


def read_pick(s: Rows, pick_id: int) -> Walk | None:
    """The pick and its tasks: locked first (scan.locked_pick, one round trip), unless the unit is optimistic."""
    found = _with_children(s, _READ_PICK if optimistic(s) else _LOCKED_PICK, pick_id, _WALK_WIDTH)
    if found is None:
        return None
    head, children = found
    walk = Walk(*head, tasks=[Task(*child) for child in children])
    walk.loaded = (_place(walk), {task.id: task.picked for task in walk.tasks})
    return walk


def lock_orders(s: Rows, order_nos: list[str]) -> list[Ordered]:
    """These orders locked in order-number order (as imports and verifications lock them), then their lines.

    The lines are read after the lock, by a statement of their own, for the same reason a pick's tasks are.
    """
    found = _locked(s, "orders", {"order_nos": order_nos})
    return [found[no] for no in order_nos if no in found]


def basket_on_walk(s: Rows, basket: str) -> bool:
    return cursor(s).execute(_statements()["basket_open"], {"basket": basket}).fetchone()[0]


def lock_named(s: Rows, refs: list[str], waybills: list[str], basket: str) -> dict[str, Ordered]:
    """The orders numbered `refs` or under `waybills`, and the others sharing their waybills, locked, with
    lines; none while `basket` is on a walk."""
    return _locked(s, "orders_named", {"refs": refs, "waybills": waybills, "basket": basket})


def lock_waiting(s: Rows, limit: int, basket: str) -> list[Ordered]:
    """Up to `limit` of the oldest orders waiting to be picked that no one else is claiming, locked, with
    lines; none while `basket` is on a walk."""
    return list(_locked(s, "orders_waiting", {"state": "printed", "limit": limit, "basket": basket}).values())


def lock_parcel(s: Rows, waybill: str) -> list[Ordered]:
    """The orders under one waybill, locked in order-number order, main order first, with lines and notes."""
    found = _locked(s, "parcel", {"waybill": waybill})
    for note in notes_of(s, list(found)) if found else []:
        found[note.order_no].notes.append(note)
    return sorted(found.values(), key=lambda order: order.merge_into is not None)


# The tasks of every pick that carried one of these orders, latest pick first (the GIN index on picks.orders).
_PICKED_ITEMS = ("SELECT t.sku, t.name, t.barcodes FROM scan.pick_tasks t JOIN scan.picks p ON p.id = t.pick_id "
                 "WHERE p.orders ?| %(order_nos)s::text[] ORDER BY p.id DESC")


def picked_items(s: Rows, order_nos: list[str]) -> list[tuple[str, str, list[str]]]:
    return cursor(s).execute(_PICKED_ITEMS, {"order_nos": order_nos}).fetchall()


def notes_of(s: Rows, order_nos: list[str]) -> list[Note]:
    return [Note(*row) for row in cursor(s).execute(_statements()["order_notes"], {"order_nos": order_nos})]


def _locked(s: Rows, statement: str, params: dict[str, Any]) -> dict[str, Ordered]:
    rows, sql = cursor(s), _statements()
    found = {row[0]: Ordered(*row) for row in rows.execute(sql[statement], params)}
    if found:
        for no, sku, qty in rows.execute(sql["order_lines"], {"order_nos": list(found)}):
            found[no].lines.append(Wanted(sku, qty))
    return found


def close_pick(s: Rows, pick_id: int, state: str, order_states: dict[str, str]) -> None:
    """The pick and its orders' new states, sent with the commit's one statement (the database's clock)."""
    sql = _statements()
    with_commit(s, sql["pick_closed"], {"pick_id": pick_id, "state": state})
    if order_states:
        with_commit(s, sql["orders_picked"], {"orders": Jsonb([{"order_no": no, "state": state}
                                                               for no, state in order_states.items()])})


def open_check(s: Rows, waybill: str, verifier: str, verifier_name: str, orders: list[str],
               lines: list[Line]) -> Opened:
    """Write a verification and its lines (one statement); its orders' `verified_at` goes with the commit."""
    sql = _statements()
    made = cursor(s).execute(sql["new_check"], {
        "waybill": waybill, "verifier": verifier, "verifier_name": verifier_name, "orders": Jsonb(orders),
        "lines": Jsonb([{"sku": ln.sku, "name": ln.name, "barcodes": ln.barcodes, "expected": ln.expected, "n": n}
                        for n, ln in enumerate(lines)])}).fetchall()
    ids = {sku: line_id for _check, line_id, sku in made}
    for line in lines:
        line.id = ids[line.sku]
    with_commit(s, sql["orders_verifying"], {"order_nos": orders})
    return Opened(made[0][0], waybill, verifier, orders, lines)


def ship_check(s: Rows, check: Check, order_nos: list[str]) -> None:
    """The check and its orders shipped, sent with the commit's one statement (the database's clock)."""
    sql = _statements()
    with_commit(s, sql["check_closed"], {"id": check.id, "state": "shipped"})
    with_commit(s, sql["orders_shipped"], {"order_nos": order_nos, "state": "shipped"})
    check.state = "shipped"


def _place(walk: Walk) -> tuple:
    return walk.location, walk.picker, walk.picker_name


def save_pick(s: Rows, walk: Walk) -> None:
    """Write the tasks' picked counts the scan changed, and claim the version read: moved on with the pick's
    place and picker when anything changed, found unchanged when not (the answer still stood on it)."""
    place, picked = walk.loaded
    changed = [task for task in walk.tasks if task.picked != picked[task.id]]
    for task in changed:
        with_commit(s, _statements()["task_picked"], {"task_id": task.id, "picked": task.picked})
    claim(s, _CLAIM_PICK, {"id": walk.id, "version": walk.version, "moves": bool(changed) or _place(walk) != place,
                           "location": walk.location, "picker": walk.picker, "picker_name": walk.picker_name})


def read_check(s: Rows, verification_id: int) -> Check | None:
    """The check and its lines: locked first (scan.locked_check, one round trip), unless the unit is optimistic."""
    found = _with_children(s, _READ_CHECK if optimistic(s) else _LOCKED_CHECK, verification_id, _CHECK_WIDTH)
    if found is None:
        return None
    head, children = found
    return Check(*head, lines=[Line(*child) for child in children])


def _with_children(s: Rows, statement: str, id_: int, width: int) -> tuple[tuple, list[tuple]] | None:
    """A pick's or check's row (its first `width` columns) and its tasks' or lines' rows;
    None when there is no such pick or check. A row without a child has NULLs past `width`."""
    rows = cursor(s).execute(statement, {"id": id_}).fetchall()
    if not rows:
        return None
    return rows[0][:width], [row[width:] for row in rows if row[width] is not None]


def save_check(s: Rows, check: Check, scanned: Line | None) -> None:
    """Write the line the scan counted, if any, and claim the version read (moved on only by a count)."""
    if scanned is not None:
        with_commit(s, _statements()["line_scanned"], {"line_id": scanned.id, "scanned": scanned.scanned})
    claim(s, _CLAIM_CHECK, {"id": check.id, "version": check.version, "moves": scanned is not None})
