"""Picking (配货): a basket and a picker's badge, tasks in walking order, bin then item, shortages."""
from __future__ import annotations

import logging
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import select
from sqlalchemy.orm import Session

from codes.recognize import recognize
from common.auth import Identity
from common.db import Rows
from common.errors import ConflictError, InvalidInputError, NotFoundError
from common.http import ServiceError
from scan_service.domain import journal, orders, scanrows
from scan_service.domain.stock import Stock
from scan_service.domain.verify import allows_unpaid, match
from scan_service.models import Pick, PickTask

DEFAULT_BATCH = 5
# A pick as the ORM loads it, or as a scan locks it (scanrows): the rules below read either.
AnyPick = Pick | scanrows.Walk
log = logging.getLogger(__name__)


def start(s: Rows, actor: Identity, basket: str, refs: list[str] | None, stock: Stock,
          picker: Identity | None = None, max_orders: int = DEFAULT_BATCH) -> scanrows.Started:
    """Bind basket and picker, claim the orders, allocate their stock and plan the walk."""
    scan = recognize(basket)
    if scan.kind != "basket":
        raise InvalidInputError(details={"fields": {"basket": ["Not a basket label (e.g. BK-017)."]}})
    basket = scan.value
    worker = picker or actor
    claimed = _claim(s, basket, refs, max_orders)  # none while the basket is on a walk
    if not claimed:
        _refuse_busy(s, basket)
        raise ConflictError(code="no_waiting_orders", details={})
    allocated = [order.order_no for order in claimed]
    plan = _allocate(stock, claimed)
    # Each task carries its item's name, picture and barcodes: the scans match them without
    # asking stock again.
    try:
        pick = scanrows.start_pick(s, basket, worker.badge, worker.name, allocated, plan)
    except UniqueViolation as exc:
        _release(stock, allocated)
        if exc.diag.constraint_name == "uq_picks_open_basket":  # the basket is on another walk
            raise ConflictError(code="basket_in_use", details={"basket": basket}) from exc
        raise
    except Exception:
        _release(stock, allocated)
        raise
    for order in claimed:
        journal.append(s, worker, "pick_started", order_no=order.order_no, pick_id=pick.id,
                       detail={"basket": basket, "started_by": actor.badge})
    return pick


def _allocate(stock: Stock, claimed: list[scanrows.Ordered]) -> list[dict[str, Any]]:
    """The basket's orders in one call to stock, all or none; the tasks of their pick plan.

    A refusal (an answer with an error) leaves nothing held. No answer at all leaves it unknown,
    so every order is released, which is harmless for one never allocated.
    """
    try:
        answer = stock.allocate_orders([{"order_no": order.order_no,
                                         "lines": [{"sku": line.sku, "qty": line.qty} for line in order.lines]}
                                        for order in claimed], plan=True)
    except ServiceError as exc:
        if exc.code == "insufficient_stock":
            raise ConflictError(code="insufficient_stock", details=exc.details) from exc
        raise
    except Exception:
        _release(stock, [order.order_no for order in claimed])
        raise
    return answer["plan"]["tasks"]


def _release(stock: Stock, order_nos: list[str]) -> None:
    for order_no in order_nos:
        try:
            stock.release(order_no)
        except Exception:  # noqa: BLE001 - the first error is the one to report
            log.warning("allocation of %s not released; stock's release is idempotent, retry later", order_no)


def _refuse_busy(s: Rows, basket: str) -> None:
    """409 basket_in_use when the basket is on another walk: asked only when the claim found nothing."""
    if scanrows.basket_on_walk(s, basket):
        raise ConflictError(code="basket_in_use", details={"basket": basket})


def _claim(s: Rows, basket: str, refs: list[str] | None, max_orders: int) -> list[scanrows.Ordered]:
    """The orders for this basket, locked; given as order numbers or waybills, or the next waiting.

    A merged parcel is picked whole: the other orders under the same waybill come along, locked by
    the same statement. While the basket is on a walk nothing is locked, and nothing found.
    """
    if not refs:
        waiting = scanrows.lock_waiting(s, max_orders, basket)
        unpaid = [order.order_no for order in waiting if not order.paid]
        notes = scanrows.notes_of(s, unpaid) if unpaid else []
        found = [o for o in waiting if o.paid or allows_unpaid([n for n in notes if n.order_no == o.order_no])]
        return _with_merged(s, basket, found)
    waybills = {ref: recognize(ref, "waybill").value for ref in refs}   # in order, once each
    by_number = scanrows.lock_named(s, list(waybills), list(waybills.values()), basket)
    found: list[scanrows.Ordered] = []
    for ref, waybill in waybills.items():
        matches = [by_number[ref]] if ref in by_number else _under(by_number, waybill)
        if not matches:
            _refuse_busy(s, basket)
            raise NotFoundError(code="unknown_order", details={"order": ref})
        found.extend(m for m in matches if m not in found)
    for order in found:
        if order.state == "intercepted":
            raise ConflictError(code="order_intercepted", details={"order_no": order.order_no})
        if order.state != "printed":
            raise ConflictError(code="order_not_waiting", details={"order_no": order.order_no, "state": order.state})
    return _with_merged(s, basket, found, by_number)


def _under(orders: dict[str, scanrows.Ordered], waybill: str) -> list[scanrows.Ordered]:
    """The orders shipping under one waybill, main order first."""
    return sorted((o for o in orders.values() if o.waybill_no == waybill), key=lambda o: o.merge_into is not None)


def _with_merged(s: Rows, basket: str, found: list[scanrows.Ordered],
                 locked: dict[str, scanrows.Ordered] | None = None) -> list[scanrows.Ordered]:
    """Each order followed by the waiting orders sharing its waybill, main order first.

    Orders named were locked with the rest of their waybills' orders (`locked`); the next waiting
    orders bring theirs with one more locked statement, only when one of them has a waybill.
    """
    waybills = sorted({order.waybill_no for order in found if order.waybill_no})
    if locked is None:
        locked = scanrows.lock_named(s, [], waybills, basket) if waybills else {}
    taken = {order.order_no for order in found}
    result = list(found)
    for waybill in dict.fromkeys(order.waybill_no for order in found if order.waybill_no):
        siblings = [o for o in _under(locked, waybill) if o.order_no not in taken and o.state == "printed"]
        taken.update(o.order_no for o in siblings)
        result.extend(siblings)
    return result


def get(s: Session, pick_id: int, *, lock: bool = False) -> Pick:
    """A pick; `lock=True` to change it, which moves its version: a scan that read it before tries again."""
    query = select(Pick).where(Pick.id == pick_id)
    if lock:
        query = query.with_for_update()
    pick = s.execute(query).scalar_one_or_none()
    if pick is None:
        raise NotFoundError(code="unknown_pick", details={"id": pick_id})
    if lock:
        pick.version += 1
    return pick


def _open(pick: AnyPick) -> None:
    if pick.state != "open":
        raise ConflictError(code="pick_closed", details={"id": pick.id, "state": pick.state})


def _next_task(pick: AnyPick) -> PickTask | scanrows.Task | None:
    return next((t for t in pick.tasks if t.picked + t.short < t.qty), None)


def _done(pick: Pick) -> bool:
    return _next_task(pick) is None


def scan(s: Rows, actor: Identity, pick_id: int, code: str, stock: Stock) -> dict[str, Any]:
    """A bin code sets where the picker stands; an item code picks one unit there."""
    pick = scanrows.read_pick(s, pick_id)
    if pick is None:
        raise NotFoundError(code="unknown_pick", details={"id": pick_id})
    _open(pick)
    read = recognize(code, expect="item")
    task: scanrows.Task | None = None
    if read.kind == "bin":
        here = [t for t in pick.tasks if t.location == read.value and t.picked + t.short < t.qty]
        if here:
            pick.location, task, result = read.value, here[0], "ok"
        else:
            result, task = "wrong_location", _next_task(pick)
    elif read.kind == "badge":
        # The picker's badge tag dropped in the basket: from now on the work counts for them.
        if read.value != pick.picker:
            pick.picker, pick.picker_name = read.value, ""
        result, task = "ok", _next_task(pick)
    elif read.kind in ("item", "waybill"):
        result, task = _pick_item(pick, read, stock)
    else:
        result, task = "unknown_code", _next_task(pick)
    journal.append(s, pick_worker(pick, actor), "pick_scan", pick_id=pick.id, code=code[:256], result=result,
                   sku=task.sku if task is not None and read.kind in ("item", "waybill") else None,
                   qty=1 if result == "ok" and read.kind in ("item", "waybill") else 0,
                   detail={"scan": read.as_dict(), "location": pick.location, "scanned_by": actor.badge})
    scanrows.save_pick(s, pick)
    following = _next_task(pick)
    done = following is None
    if done:
        state = "complete"
    elif following is not None and pick.location != following.location:
        state = "scan_bin"
    else:
        state = "scan_item"
    return {"result": result, "task": task, "next_task": following, "done": done, "next_state": state,
            "location": pick.location, "scan": read.as_dict()}


def pick_worker(pick: AnyPick, actor: Identity) -> Identity:
    """The picker whose badge is in the basket: the work counts for them (domain rule 9)."""
    return Identity(badge=pick.picker, name=pick.picker_name, roles=actor.roles, lang=actor.lang,
                    device=actor.device)


def _pick_item(pick: scanrows.Walk, read: Any, stock: Stock) -> tuple[str, scanrows.Task | None]:
    if pick.location is None:
        return "wrong_location", _next_task(pick)
    here = [t for t in pick.tasks if t.location == pick.location]
    task = match(here, read)
    if task is None:
        elsewhere = match(pick.tasks, read)
        if elsewhere is not None:
            return "wrong_location", elsewhere
        try:
            known = stock.lookup(read.gtin or read.value) is not None
        except Exception:  # noqa: BLE001 - stock away: still not an item of this pick
            known = True
        return ("wrong_item" if known else "unknown_code"), _next_task(pick)
    open_here = [t for t in here if t.sku == task.sku and t.picked + t.short < t.qty]
    if not open_here:
        return "over_qty", task
    open_here[0].picked += 1
    return "ok", open_here[0]


def report_short(s: Session, actor: Identity, pick_id: int, location: str, sku: str, qty: int,
                 stock: Stock, key: str) -> dict[str, Any]:
    """The bin holds less than the task: record the shortage and open a count of that bin."""
    pick = get(s, pick_id, lock=True)
    _open(pick)
    location = location.strip().upper()
    task = next((t for t in pick.tasks if t.location == location and t.sku == sku), None)
    if task is None:
        raise NotFoundError(code="unknown_task", details={"location": location, "sku": sku})
    if qty > task.qty - task.picked - task.short:
        raise ConflictError(code="over_qty", details={"open": task.qty - task.picked - task.short})
    task.short += qty
    count = stock.open_count(location, f"pick-short:{pick.id}:{key}")
    journal.record(s, pick_worker(pick, actor), "pick_short", pick_id=pick.id, sku=sku, qty=qty,
                   detail={"location": location, "count_id": (count or {}).get("id"), "reported_by": actor.badge})
    s.flush()
    return {"task": task, "count": count, "next_task": _next_task(pick), "done": _done(pick)}


def complete(s: Rows, actor: Identity, pick_id: int, stock: Stock) -> scanrows.Walk:
    """Close the walk: the picked units move bin → basket; orders short of goods go to `short`."""
    pick = scanrows.read_pick(s, pick_id)
    if pick is None:
        raise NotFoundError(code="unknown_pick", details={"id": pick_id})
    if pick.state != "open":
        return pick
    remaining = _next_task(pick)
    if remaining is not None:
        gaps = [{"seq": t.seq, "location": t.location, "sku": t.sku, "qty": t.qty, "picked": t.picked,
                 "short": t.short} for t in pick.tasks if t.picked + t.short < t.qty]
        raise ConflictError(code="pick_incomplete", details={"tasks": gaps})
    moved = [{"sku": t.sku, "qty": t.picked, "from": t.location} for t in pick.tasks if t.picked]
    if moved:
        stock.move_to_basket(f"pick:{pick.id}", pick.basket, moved)
    available: dict[str, int] = {}
    for t in pick.tasks:
        available[t.sku] = available.get(t.sku, 0) + t.picked
    worker = pick_worker(pick, actor)
    states: dict[str, str] = {}
    for order in orders.locked(s, pick.orders):
        served = all(available.get(line.sku, 0) >= line.qty for line in order.lines)
        for line in order.lines:
            available[line.sku] = available.get(line.sku, 0) - min(line.qty, available.get(line.sku, 0))
        if order.state != "picking":
            continue  # intercepted while the picker walked: it stays intercepted
        states[order.order_no] = "picked" if served else "short"
        journal.append(s, worker, "picked" if served else "pick_short_order",
                       order_no=order.order_no, pick_id=pick.id,
                       qty=sum(line.qty for line in order.lines) if served else 0, detail={"basket": pick.basket})
    pick.state = "short" if "short" in states.values() or any(t.short for t in pick.tasks) else "picked"
    scanrows.close_pick(s, pick.id, pick.state, states)
    return pick
