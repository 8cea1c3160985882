"""Orders from the ERP in bulk: a file of thousands of orders checked in Python, written in a few statements.

One order or ten thousand go the same way. Every order the batch touches (its own number and the
main order it merges into) is locked in one statement, in order-number order, so two imports of
overlapping files wait for each other instead of crossing. What each order becomes is decided in
Python from that one read: `created`, `updated`, `unchanged` (same content hash: nothing written),
or refused with the same error a single import would get. Then the writes go out as one INSERT
per table and one UPDATE, each reading its rows from one JSON parameter (whatever the number of
rows: no limit on bound parameters, almost no work in Python).

A new order can still be inserted by another import between our read and our write (there was
no row to lock). The insert notices (ON CONFLICT DO NOTHING answers fewer rows), the attempt is
rolled back to its savepoint and decided again, now seeing that order as it was committed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, String, Table, any_, bindparam, column, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias

from common.auth import Identity
from common.errors import AppError, ConflictError, InvalidInputError, ServiceUnavailableError
from scan_service.domain.orders import EDITABLE_STATES, content_hash, merged_lines
from scan_service.models import Event, Order, OrderLine, OrderNote

# Each retry means another import committed one of our new orders meanwhile; a handful is plenty.
ATTEMPTS = 5
NOTE_KINDS = ("buyer", "seller")
ORDERS = Order.__table__
COLUMNS = ("shop", "waybill_no", "carrier", "paid", "merge_into", "content_hash")


@dataclass
class Incoming:
    """One order of a file (or one JSON body), already through its schema; `row` is where it starts."""

    row: int
    data: dict[str, Any]

    @property
    def order_no(self) -> str:
        return self.data["order_no"]

    @property
    def main(self) -> str | None:
        return self.data.get("merge_into") or None


class Standing(NamedTuple):
    """An order as the batch sees it: from the database, or as this file leaves it."""

    order_no: str
    state: str
    waybill_no: str | None
    carrier: str | None
    merge_into: str | None
    content_hash: str


@dataclass
class Accepted:
    incoming: Incoming
    data: dict[str, Any]  # with the main order's waybill filled in
    digest: str
    status: str  # created | updated | unchanged


@dataclass
class Outcome:
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[tuple[Incoming, AppError]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for item in self.accepted:
            counts[item.status] += 1
        return counts


class _Raced(Exception):
    """Another import committed one of our new orders between our lock and our insert."""


def run(s: Session, actor: Identity, orders: list[Incoming], *, partial: bool,
        file_has_errors: bool = False) -> Outcome:
    """Import the orders (one entry per order number); with any refusal (or `file_has_errors`:
    rows the caller already refused) nothing is written unless `partial` keeps the good ones."""
    for _attempt in range(ATTEMPTS):
        try:
            with s.begin_nested():
                outcome = _decide(s, orders)
                if (outcome.refused or file_has_errors) and not partial:
                    return outcome
                _write(s, actor, outcome)
                return outcome
        except _Raced:
            continue
    raise ServiceUnavailableError(code="import_busy", details={"orders": len(orders)})


def _decide(s: Session, orders: list[Incoming]) -> Outcome:
    """Lock what the batch touches and decide each order as a single import of it would, in one pass.

    Orders that merge into another are decided after the rest, so a main order in the same file
    counts as this file leaves it, wherever it stands in the file (a main order refused here counts
    as the database holds it). A main order that the file itself merges into another is refused as
    merged.
    """
    stored = _lock(s, sorted({o.order_no for o in orders} | {o.main for o in orders if o.main}))
    merged_in_file = {o.order_no for o in orders if o.main}
    after: dict[str, Standing] = {}
    outcome = Outcome()
    for incoming in sorted(orders, key=lambda o: o.main is not None):
        main = None
        if incoming.main is not None:
            main = after.get(incoming.main) or stored.get(incoming.main)
        try:
            data = _with_main(incoming, main, merged_in_file)
            accepted = _status(incoming, data, stored.get(incoming.order_no))
        except AppError as exc:
            outcome.refused.append((incoming, exc))
            continue
        outcome.accepted.append(accepted)
        after[incoming.order_no] = _standing_after(accepted, stored.get(incoming.order_no))
    outcome.accepted.sort(key=lambda a: a.incoming.row)
    outcome.refused.sort(key=lambda r: r[0].row)
    return outcome


def _lock(s: Session, order_nos: list[str]) -> dict[str, Standing]:
    """One statement, rows locked in order-number order: overlapping imports queue, never deadlock."""
    query = (select(ORDERS.c.order_no, ORDERS.c.state, ORDERS.c.waybill_no, ORDERS.c.carrier, ORDERS.c.merge_into,
                    ORDERS.c.content_hash)
             .where(ORDERS.c.order_no == any_(_array(order_nos)))
             .order_by(ORDERS.c.order_no).with_for_update())
    return {row.order_no: Standing(*row) for row in s.execute(query)}


def _array(values: list[str]) -> Any:
    """One array parameter instead of one parameter per value (PostgreSQL stops at 65,535)."""
    return bindparam("values", list(values), type_=ARRAY(String))


def _with_main(incoming: Incoming, main: Standing | None, merged_in_file: set[str]) -> dict[str, Any]:
    """The order's data with the main order's waybill, after the checks of a merge (first failing one wins)."""
    data = dict(incoming.data)
    if incoming.main is None:
        return data
    if incoming.main == incoming.order_no:
        raise InvalidInputError(details={"fields": {"merge_into": ["An order cannot merge into itself."]}})
    if incoming.main in merged_in_file or (main is not None and main.merge_into):
        raise InvalidInputError(details={"fields": {"merge_into": ["That order is itself merged."]}})
    if main is None:
        raise InvalidInputError(details={"fields": {"merge_into": ["Unknown order number."]}})
    if main.state not in EDITABLE_STATES:
        # The parcel is already being picked or packed: a late addition would ship without its goods.
        raise ConflictError(code="order_locked", details={"order_no": main.order_no, "state": main.state})
    # The merged parcel keeps the main order's waybill.
    data["waybill_no"] = data.get("waybill_no") or main.waybill_no
    data["carrier"] = data.get("carrier") or main.carrier
    if data["waybill_no"] != main.waybill_no:
        raise InvalidInputError(details={"fields": {"waybill_no": ["A merged order ships on the main waybill."]}})
    return data


def _status(incoming: Incoming, data: dict[str, Any], current: Standing | None) -> Accepted:
    digest = content_hash(data)
    if current is not None and current.content_hash == digest:
        return Accepted(incoming, data, digest, "unchanged")
    if current is not None and current.state not in EDITABLE_STATES:
        raise ConflictError(code="order_locked", details={"order_no": current.order_no, "state": current.state})
    return Accepted(incoming, data, digest, "updated" if current is not None else "created")


def _standing_after(accepted: Accepted, current: Standing | None) -> Standing:
    if accepted.status == "unchanged" and current is not None:
        return current
    row = _order_row(accepted)
    return Standing(row["order_no"], current.state if current else "printed", row["waybill_no"], row["carrier"],
                    row["merge_into"], accepted.digest)


def _order_row(accepted: Accepted) -> dict[str, Any]:
    data = accepted.data
    return {"order_no": data["order_no"], "shop": data.get("shop") or "", "waybill_no": data.get("waybill_no") or None,
            "carrier": data.get("carrier") or None, "paid": data.get("paid", True),
            "merge_into": data.get("merge_into") or None, "content_hash": accepted.digest}


def _write(s: Session, actor: Identity, outcome: Outcome) -> None:
    created = [a for a in outcome.accepted if a.status == "created"]
    updated = [a for a in outcome.accepted if a.status == "updated"]
    if created:
        _insert_new(s, created)
    if updated:
        _update(s, updated)
    changed = [a for a in outcome.accepted if a.status != "unchanged"]
    if not changed:
        return
    notes = _latest_notes(s, [a.incoming.order_no for a in updated]) if updated else {}
    _insert(s, OrderLine.__table__, [{"order_no": a.incoming.order_no, "sku": line["sku"], "qty": line["qty"],
                                      "returned": 0} for a in changed for line in merged_lines(a.data["lines"])])
    _insert(s, OrderNote.__table__, [note for a in changed
                                     for note in _notes_to_append(a, notes.get(a.incoming.order_no, {}), actor)])
    _insert(s, Event.__table__, [_event(a, actor) for a in changed])


def _rows(table: Table, rows: list[dict[str, Any]]) -> tuple[TableValuedAlias, dict[str, Any]]:
    """The rows as one JSON parameter read back by jsonb_to_recordset(): one statement for any number
    of rows, taken in the order given (so ids, and the order rows are locked in, follow it)."""
    names = list(rows[0])
    source = (func.jsonb_to_recordset(bindparam("rows", type_=JSONB))
              .table_valued(*(column(name, table.c[name].type) for name in names)).render_derived(with_types=True))
    return source, {"rows": rows}


def _insert(s: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        source, values = _rows(table, rows)
        s.execute(insert(table).from_select(list(rows[0]), select(source)), values)


def _insert_new(s: Session, created: list[Accepted]) -> None:
    """Insert in order-number order; a row someone else committed meanwhile comes back missing."""
    rows = sorted((_order_row(a) | {"state": "printed", "allocated": False} for a in created),
                  key=lambda r: r["order_no"])
    source, values = _rows(ORDERS, rows)
    stmt = (insert(ORDERS).from_select(list(rows[0]), select(source))
            .on_conflict_do_nothing(index_elements=["order_no"]).returning(ORDERS.c.order_no))
    if len(s.execute(stmt, values).all()) != len(rows):
        raise _Raced


def _update(s: Session, updated: list[Accepted]) -> None:
    """New header fields for orders already locked; their old lines go, the new ones come with the rest."""
    source, values = _rows(ORDERS, [_order_row(a) for a in updated])
    s.execute(update(ORDERS).where(ORDERS.c.order_no == source.c.order_no)
              .values({c: source.c[c] for c in COLUMNS} | {"updated_at": func.now()}), values)
    lines = OrderLine.__table__
    s.execute(delete(lines).where(lines.c.order_no == any_(_array([a.incoming.order_no for a in updated]))))


def _latest_notes(s: Session, order_nos: list[str]) -> dict[str, dict[str, str]]:
    """The newest buyer and seller note of each order, in one read (oldest first, the newest wins)."""
    query = (select(OrderNote.order_no, OrderNote.kind, OrderNote.text)
             .where(OrderNote.order_no == any_(_array(order_nos)), OrderNote.kind.in_(NOTE_KINDS))
             .order_by(OrderNote.id))
    latest: dict[str, dict[str, str]] = {}
    for order_no, kind, text in s.execute(query):
        latest.setdefault(order_no, {})[kind] = text
    return latest


def _notes_to_append(accepted: Accepted, previous: dict[str, str], actor: Identity) -> list[dict[str, Any]]:
    """A changed note is appended, never written over the old one (domain rule 1)."""
    notes = []
    for kind in NOTE_KINDS:
        text = accepted.data.get(f"{kind}_note") or ""
        if text and previous.get(kind) != text:
            notes.append({"order_no": accepted.incoming.order_no, "kind": kind, "text": text,
                          "operator": actor.badge})
    return notes


def _event(accepted: Accepted, actor: Identity) -> dict[str, Any]:
    return {"kind": "imported" if accepted.status == "created" else "updated", "operator": actor.badge, "qty": 0,
            "operator_name": actor.name, "device": actor.device, "order_no": accepted.incoming.order_no,
            "detail": {"waybill_no": accepted.data.get("waybill_no") or None,
                       "lines": merged_lines(accepted.data["lines"])}}
