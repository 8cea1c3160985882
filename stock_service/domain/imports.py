"""The SKU master file as CSV (`sku,name,spec,barcode,bin`), applied with a few bulk statements.

A file in UTF-8 (with or without BOM) or GBK (what spreadsheets on Chinese Windows save). Several
rows may name the same SKU to give it several barcodes; a barcode cell may also hold several codes
separated by `|`. With any row in error nothing changes, unless `partial` keeps the good rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from codes import gtin
from common import csvfile
from common.errors import InvalidInputError
from stock_service.models import Barcode, Location, Sku

COLUMNS = ("sku", "name", "spec", "barcode", "bin")
MAX_ROWS = 50_000
LIMITS = {"sku": 64, "name": 200, "spec": 200, "barcode": 64, "bin": 64}
MESSAGES = {
    "missing_field": "A required field is empty.",
    "too_long": "A field is too long.",
    "invalid_barcode": "The barcode's check digit is wrong.",
    "barcode_taken": "The barcode belongs to another SKU.",
    "unknown_location": "The bin does not exist.",
    "control_characters": "A field contains control characters.",
}


@dataclass
class Row:
    number: int
    sku: str
    name: str
    spec: str
    barcodes: list[str]
    bin: str | None


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def parse(text: str) -> list[dict[str, str]]:
    with csvfile.refusing_bad_csv():
        reader = csvfile.dict_reader(text)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in ("sku", "name") if c not in header]
        if missing:
            raise InvalidInputError(code="invalid_csv", details={"columns": missing})
        reader.fieldnames = header
        rows = []
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise InvalidInputError(code="invalid_csv", details={"rows": f"at most {MAX_ROWS}"})
            rows.append({c: (row.get(c) or "").strip() for c in COLUMNS})
        return rows


def _error(outcome: Outcome, number: int, code: str, column: str) -> None:
    outcome.errors.append({"row": number, "code": code, "field": column, "message": MESSAGES[code]})


def _validate(raw_rows: list[dict[str, str]], outcome: Outcome) -> list[Row]:
    rows = []
    for number, raw in enumerate(raw_rows, start=2):
        bad = next((c for c in ("sku", "name") if not raw[c]), None)
        if bad:
            _error(outcome, number, "missing_field", bad)
            continue
        too_long = next((c for c in COLUMNS if len(raw[c]) > LIMITS[c] and c != "barcode"), None)
        if too_long:
            _error(outcome, number, "too_long", too_long)
            continue
        if any(not ch.isprintable() for c in COLUMNS for ch in raw[c]):
            _error(outcome, number, "control_characters", next(c for c in COLUMNS if not raw[c].isprintable()))
            continue
        found = [b.strip() for b in raw["barcode"].split("|") if b.strip()]
        if any(len(b) > LIMITS["barcode"] for b in found):
            _error(outcome, number, "too_long", "barcode")
            continue
        if any(gtin.looks_like_gtin(b) and not gtin.is_valid_gtin(b) for b in found):
            _error(outcome, number, "invalid_barcode", "barcode")
            continue
        rows.append(Row(number, raw["sku"], raw["name"], raw["spec"], found, raw["bin"] or None))
    return rows


def run(s: Session, raw: bytes, partial: bool) -> Outcome:
    """Check every row against the file and the database, then write all good rows in bulk."""
    outcome = Outcome()
    rows = _validate(parse(csvfile.decode(raw)), outcome)
    bins = {r.bin for r in rows if r.bin}
    known_bins = set(s.scalars(select(Location.code).where(Location.code.in_(bins)))) if bins else set()
    codes = {b for r in rows for b in r.barcodes}
    owners: dict[str, str] = {}
    if codes:
        owners = {r.code: r.sku for r in s.execute(select(Barcode.code, Barcode.sku).where(Barcode.code.in_(codes)))}
    good: list[Row] = []
    for row in rows:
        if row.bin and row.bin not in known_bins:
            _error(outcome, row.number, "unknown_location", "bin")
            continue
        clash = next((b for b in row.barcodes if owners.setdefault(b, row.sku) != row.sku), None)
        if clash:
            _error(outcome, row.number, "barcode_taken", "barcode")
            continue
        good.append(row)
    outcome.errors.sort(key=lambda e: e["row"])
    if outcome.errors and not partial:
        return outcome
    _write(s, good, outcome)
    return outcome


def _write(s: Session, rows: list[Row], outcome: Outcome) -> None:
    merged: dict[str, dict[str, Any]] = {}
    barcodes: dict[str, str] = {}
    for row in rows:
        merged[row.sku] = {"sku": row.sku, "name": row.name, "spec": row.spec, "home_bin": row.bin,
                           "active": True}
        for code in row.barcodes:
            barcodes[code] = row.sku
    if not merged:
        return
    existing = set(s.scalars(select(Sku.sku).where(Sku.sku.in_(list(merged)))))
    outcome.updated = len(existing)
    outcome.created = len(merged) - len(existing)
    # One statement each, sent as an executemany that psycopg batches into multi-row VALUES.
    stmt = insert(Sku)
    s.execute(stmt.on_conflict_do_update(index_elements=["sku"], set_={
        "name": stmt.excluded.name, "spec": stmt.excluded.spec,
        "home_bin": func.coalesce(stmt.excluded.home_bin, Sku.__table__.c.home_bin)}), list(merged.values()))
    if barcodes:
        s.execute(insert(Barcode).on_conflict_do_nothing(index_elements=["code"]),
                  [{"code": c, "sku": k} for c, k in barcodes.items()])
    s.flush()
