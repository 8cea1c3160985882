"""Keyset paging by a growing integer id: the cursor is the last id of the page."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from common.errors import InvalidInputError


def page(s: Session, stmt: Select, id_column: Any, limit: int, cursor: str | None,
         scalars: bool = True) -> tuple[list[Any], str | None]:
    """Rows after `cursor` in id order, at most `limit`, and the cursor of the next page (None at the end)."""
    if cursor:
        if not cursor.isdigit():
            raise InvalidInputError(details={"cursor": "not a cursor of this list"})
        stmt = stmt.where(id_column > int(cursor))
    stmt = stmt.order_by(id_column).limit(limit + 1)
    rows = list(s.scalars(stmt) if scalars else s.execute(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    next_cursor = None
    if more and last is not None:
        next_cursor = str(getattr(last, id_column.key))
    return rows, next_cursor
