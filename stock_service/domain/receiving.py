"""Receipts (expected vs received, into the receiving area) and putaway (receiving area → a bin)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import db
from common.errors import ConflictError, ForbiddenError, NotFoundError
from stock_service.domain import barcodes as codes
from stock_service.domain import ledger, stock
from stock_service.domain.ledger import Move
from stock_service.models import Receipt

# The default receiving area, as stock.first_of_kind finds it: the staging location of lowest code.
_RECEIVING_AREA = "(SELECT code FROM stock.locations WHERE kind = 'staging' ORDER BY code LIMIT 1)"
# What opening a receipt checks, in one statement: the ref not taken, the named location's kind,
# the default receiving area, and which of the lines' SKUs exist.
_CHECK_RECEIPT = f"""
SELECT (SELECT id FROM stock.receipts WHERE ref = %(ref)s),
       (SELECT kind FROM stock.locations WHERE code = %(location)s),
       {_RECEIVING_AREA},
       ARRAY(SELECT sku FROM stock.skus WHERE sku = ANY(%(skus)s::text[]))
"""  # noqa: S608 - a constant fragment; the values are parameters
# The receipt and its lines in one statement; a racing receipt of the same ref makes none (409).
_WRITE_RECEIPT = """
WITH r AS (INSERT INTO stock.receipts (ref, state, location, created_by)
           VALUES (%(ref)s, 'open', %(location)s, %(by)s) ON CONFLICT (ref) DO NOTHING
           RETURNING id, created_at),
     l AS (INSERT INTO stock.receipt_lines (receipt_id, sku, expected, received)
           SELECT r.id, x.sku, x.qty, 0 FROM r, unnest(%(skus)s::text[], %(qtys)s::int[]) WITH ORDINALITY
                AS x(sku, qty, n)
           ORDER BY x.n
           RETURNING id, sku, expected, received)
SELECT r.id, r.created_at, l.id, l.sku, l.expected, l.received FROM r, l ORDER BY l.id
"""


def create(s: Session, actor: Any, *, ref: str, lines: list[dict[str, Any]],
           location: str | None = None) -> dict[str, Any]:
    """Open a receipt for a delivery; its lines say what is expected."""
    rows = db.cursor(s)
    taken, kind, staging, known = rows.execute(_CHECK_RECEIPT, {
        "ref": ref, "location": location, "skus": sorted({line["sku"] for line in lines})}).fetchone()
    if taken is not None:
        raise ConflictError(code="receipt_exists", details={"ref": ref})
    if location is not None:
        if kind is None:
            raise NotFoundError(code="unknown_location", details={"location": location})
        if kind != "staging":
            raise ConflictError(code="not_a_staging_location", details={"location": location})
    else:
        location = staging or stock.first_of_kind(s, "staging", stock.RECEIVING)
    expected: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line["sku"] not in known:
            raise NotFoundError(code="unknown_sku", details={f"lines.{index}.sku": line["sku"]})
        expected[line["sku"]] = expected.get(line["sku"], 0) + line["qty"]
    written = rows.execute(_WRITE_RECEIPT, {"ref": ref, "location": location, "by": actor.badge,
                                            "skus": list(expected), "qtys": list(expected.values())}).fetchall()
    if not written:
        raise ConflictError(code="receipt_exists", details={"ref": ref})
    return {"id": written[0][0], "ref": ref, "state": "open", "location": location, "created_by": actor.badge,
            "created_at": written[0][1],
            "lines": [{"id": i, "sku": sku, "expected": e, "received": r} for _, _, i, sku, e, r in written]}


def get(s: Session, receipt_id: int, lock: bool = False) -> Receipt:
    stmt = select(Receipt).where(Receipt.id == receipt_id)
    receipt = s.scalar(stmt.with_for_update() if lock else stmt)
    if receipt is None:
        raise NotFoundError(code="unknown_receipt", details={"id": receipt_id})
    return receipt


# A receive locks its receipt and resolves the scanned code in one statement (the code as
# barcodes.resolve reads it: a barcode in any GTIN form, else the SKU code); the line's counter
# then changes in a second, whose UPDATE reads the row as the last receive committed it. The
# ORM's receipt, its lines and the flush cost a receive most of its time.
_LOCK_AND_RESOLVE = f"""
SELECT r.id, r.ref, r.state, r.location, {codes.SKU_OF_CODE}
FROM stock.receipts r WHERE r.id = %(id)s
FOR UPDATE OF r
"""  # noqa: S608 - a constant fragment; the values are parameters
_ADD_RECEIVED = """
UPDATE stock.receipt_lines SET received = received + %(qty)s
WHERE receipt_id = %(receipt)s AND sku = %(sku)s
RETURNING id, expected, received
"""
_NEW_LINE = """
INSERT INTO stock.receipt_lines (receipt_id, sku, expected, received) VALUES (%(receipt)s, %(sku)s, 0, %(qty)s)
RETURNING id, expected, received
"""


def receive(s: Session, actor: Any, key: str | None, receipt_id: int, *, code: str, qty: int,
            force: bool = False, lot: str = "") -> dict[str, Any]:
    """Count units of an item in; over what the receipt expects is refused unless a stock manager forces it.

    A refusal raised after the line's counter changed rolls the whole unit of work back.
    """
    rows = db.cursor(s)
    found = rows.execute(_LOCK_AND_RESOLVE, {"id": receipt_id, "forms": codes.candidates(code),
                                             "code": code}).fetchone()
    if found is None:
        raise NotFoundError(code="unknown_receipt", details={"id": receipt_id})
    _, ref, state, location, sku = found
    if state != "open":
        raise ConflictError(code="receipt_closed", details={"id": receipt_id, "state": state})
    if sku is None:
        raise NotFoundError(code="unknown_code", details={"code": code})
    params = {"receipt": receipt_id, "sku": sku, "qty": qty}
    line = rows.execute(_ADD_RECEIVED, params).fetchone()
    if line is None:
        if not force:
            raise ConflictError(code="not_on_receipt", details={"code": code, "sku": sku})
        line = rows.execute(_NEW_LINE, params).fetchone()
    line_id, expected, received = line
    over = received - expected
    if over > 0:
        if not force:
            raise ConflictError(code="over_receipt", details={
                "sku": sku, "expected": expected, "received": received - qty, "qty": qty})
        if not actor.has_any(("stock_manager",)):
            raise ForbiddenError(code="force_needs_stock_manager", details={"force": "stock_manager only"})
    ledger.apply(s, actor, [Move("receive", sku, qty, None, location, lot,
                                 reason="over_receipt" if over > 0 else "", reference=f"receipt:{ref}")], key)
    return {"id": line_id, "receipt_id": receipt_id, "sku": sku, "expected": expected, "received": received}


def close(s: Session, receipt_id: int) -> Receipt:
    """Close a receipt: what was not delivered stops counting as in transit."""
    receipt = get(s, receipt_id, lock=True)
    receipt.state = "closed"
    s.flush()
    return receipt


# Where to put a SKU away, in one statement. Per SKU: the bin holding most of it; its home bin
# and whether another SKU's units fill it; and only when neither answers (COALESCE and CASE run a
# subquery only when they reach it), the first empty bin in walking order of the home's zone, then
# of the floor. An empty bin holds nothing and is no other active SKU's home. Both are NOT IN an
# uncorrelated subquery, which PostgreSQL hashes once: a correlated NOT EXISTS on skus.home_bin
# (no index) could be planned as a scan of every SKU for each bin walked past.
_EMPTY_BIN = """
(SELECT e.code FROM stock.locations e
 WHERE e.kind = 'bin' AND {zone}
   AND e.code NOT IN (SELECT location FROM stock.balances WHERE qty <> 0)
   AND e.code NOT IN (SELECT home_bin FROM stock.skus WHERE home_bin IS NOT NULL AND sku <> %(sku)s AND active)
 ORDER BY e.sequence, e.code LIMIT 1)"""
_SUGGEST = f"""
SELECT holding.code, home.code, home.taken,
       CASE WHEN holding.code IS NULL AND (home.code IS NULL OR home.taken) THEN COALESCE(
         CASE WHEN home.zone <> '' THEN {_EMPTY_BIN.format(zone="e.zone = home.zone")} END,
         {_EMPTY_BIN.format(zone="true")}) END
FROM stock.skus s
LEFT JOIN LATERAL (SELECT l.code FROM stock.balances b JOIN stock.locations l ON l.code = b.location
                   WHERE b.sku = s.sku AND b.qty > 0 AND l.kind = 'bin'
                   ORDER BY b.qty DESC, l.sequence, l.code LIMIT 1) AS holding ON true
LEFT JOIN LATERAL (SELECT l.code, l.zone, EXISTS (SELECT 1 FROM stock.balances o
                                                  WHERE o.location = l.code AND o.qty <> 0 AND o.sku <> s.sku) AS taken
                   FROM stock.locations l WHERE l.code = s.home_bin) AS home ON true
WHERE s.sku = %(sku)s
"""  # noqa: S608 - constant fragments; the value is a parameter


def suggest(rows: db.Rows, sku: str) -> dict[str, Any]:
    """Where to put a SKU away: a bin already holding it, else its home bin, else an empty bin of its zone."""
    found = db.cursor(rows).execute(_SUGGEST, {"sku": sku}).fetchone()
    if found is None:
        raise NotFoundError(code="unknown_sku", details={"sku": sku})
    holding, home, taken, empty = found
    if holding is not None:
        return {"sku": sku, "location": holding, "reason": "holds_sku"}
    if home is not None and not taken:
        return {"sku": sku, "location": home, "reason": "home_bin"}
    if empty is None:
        raise NotFoundError(code="no_empty_bin", details={"sku": sku})
    return {"sku": sku, "location": empty, "reason": "empty_bin"}


# What a putaway checks, in one statement: the scanned item, the target's kind, the receiving area.
_PUTAWAY_CHECK = f"""
SELECT {codes.SKU_OF_CODE}, (SELECT kind FROM stock.locations WHERE code = %(to)s),
       {_RECEIVING_AREA}
"""  # noqa: S608 - a constant fragment; the values are parameters


def putaway(s: Session, actor: Any, key: str | None, *, code: str, qty: int, to: str,
            source: str | None = None, lot: str = "") -> ledger.Written:
    """Move received units from the receiving area to a bin."""
    sku, kind, staging = db.cursor(s).execute(_PUTAWAY_CHECK, {"forms": codes.candidates(code), "code": code,
                                                               "to": to}).fetchone()
    if sku is None:
        raise NotFoundError(code="unknown_code", details={"code": code})
    if kind is None:
        raise NotFoundError(code="unknown_location", details={"to": to})
    if kind != "bin":
        raise ConflictError(code="not_a_bin", details={"to": to})
    source = source or staging or stock.first_of_kind(s, "staging", stock.RECEIVING)
    return ledger.apply(s, actor, [Move("putaway", sku, qty, source, to, lot)], key)[0]
