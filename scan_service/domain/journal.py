"""The floor's journal: every step and scan with who, which device and when; the warehouse's day."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, insert
from sqlalchemy.orm import Session

from common.auth import Identity
from common.db import Rows, compiled, with_commit
from scan_service.models import Event


def record(s: Session, actor: Identity, kind: str, **fields: Any) -> Event:
    """Append one event; the timeline, the stats and the audit all read these rows."""
    event = Event(kind=kind, operator=actor.badge, operator_name=actor.name, device=actor.device,
                  detail=fields.pop("detail", {}) or {}, **fields)
    s.add(event)
    return event


# Every column a scan's event may set: the one statement below serves them all.
_COLUMNS = ("kind", "operator", "operator_name", "device", "detail", "order_no", "pick_id", "verification_id",
            "code", "result", "sku", "qty")
_APPEND = compiled(insert(Event.__table__).values({name: bindparam(name) for name in _COLUMNS}))


def append(s: Rows, actor: Identity, kind: str, **fields: Any) -> None:
    """`record` without an ORM object: the event goes to PostgreSQL with the commit's one statement."""
    row = dict.fromkeys(_COLUMNS) | {"qty": 0} | fields
    row |= {"kind": kind, "operator": actor.badge, "operator_name": actor.name, "device": actor.device,
            "detail": Jsonb(row.get("detail") or {})}
    with_commit(s, _APPEND, row)


def day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """Start and end of a calendar day on the warehouse's clock (its midnight, not UTC's)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def event_dict(event: Event) -> dict[str, Any]:
    return {"kind": event.kind, "at": event.at, "operator": event.operator, "operator_name": event.operator_name,
            "device": event.device, "code": event.code, "result": event.result, "sku": event.sku,
            "qty": event.qty, "pick_id": event.pick_id, "verification_id": event.verification_id,
            "detail": event.detail}
