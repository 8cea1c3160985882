"""Orders: import from the ERP, read with their timeline, notes, intercepts.

Screens: supervisor order list and order page (timeline: who picked, who packed), intercept list.
"""
from __future__ import annotations

import csv

from flask import Blueprint
from marshmallow import ValidationError

from common import csvfile, i18n
from common.auth import current
from common.db import transaction, unit
from common.endpoint import Api, Page
from common.errors import InvalidInputError, NotFoundError
from scan_service.api.support import stock, timezone
from scan_service.domain import order_import, order_views, orders
from scan_service.schemas.orders import (
    CancelIn,
    ImportQuery,
    NoteIn,
    NoteOut,
    OrderDetailOut,
    OrderIn,
    OrderOut,
    OrderQuery,
    load_orders,
)

bp = Blueprint("orders", __name__, url_prefix="/api/scan")
api = Api(bp, "scan")
MANAGE = ("supervisor",)
READ = ("supervisor", "verifier", "picker")
CSV_COLUMNS = ("order_no", "shop", "waybill_no", "carrier", "paid", "buyer_note", "seller_note", "sku", "qty",
               "merge_into")


@api.route("POST", "/orders", body=OrderIn, response=OrderOut, status=201, roles=MANAGE, errors=(409, 422))
def import_order(body: dict):
    """One order from the ERP: 201 new, 200 unchanged or updated before picking. Leads to: order page."""
    with transaction() as s:
        outcome = order_import.run(s, current(), [order_import.Incoming(1, body)], partial=False)
        if outcome.refused:
            raise outcome.refused[0][1]
        return orders.get(s, body["order_no"]), 201 if outcome.accepted[0].status == "created" else 200


@api.route("POST", "/orders/import", query=ImportQuery, content_type="text/csv", roles=MANAGE, errors=(422,))
def import_orders_csv(body: bytes, query: dict):
    """The same as CSV, one row per line; any bad row changes nothing unless ?partial=true."""
    groups, errors = _parse_csv(body)
    incoming = _load(groups, errors)
    with transaction() as s:
        outcome = order_import.run(s, current(), incoming, partial=query["partial"], file_has_errors=bool(errors))
    for item, exc in outcome.refused:
        errors.append(_row_error(item.row, item.order_no, exc.code, exc.message or str(exc), exc.details, exc.status))
    errors.sort(key=lambda e: e["row"])
    if errors and not query["partial"]:
        return {"created": 0, "updated": 0, "unchanged": 0, "errors": errors}
    return outcome.counts() | {"errors": errors}


def _load(groups: dict[str, tuple[int, dict]], errors: list[dict]) -> list[order_import.Incoming]:
    """Each order through the same schema as the JSON body; a bad one becomes a row error."""
    incoming = []
    for (order_no, (row_no, _data)), loaded in zip(groups.items(), load_orders([d for _r, d in groups.values()]),
                                                   strict=True):
        if isinstance(loaded, ValidationError):
            fields = loaded.normalized_messages()
            errors.append(_row_error(row_no, order_no, "invalid_input", _fields_text(fields), {"fields": fields}))
        else:
            incoming.append(order_import.Incoming(row_no, loaded))
    return incoming


def _row_error(row: int, order_no: str, code: str, text: str, details: dict, status: int = 422) -> dict:
    """One refused row as the import answers it: the error body's code, message and details, with its row.

    The message is in the operator's language, as a whole request's error would be; the details
    name the field, so a supervisor fixing the file knows which cell.
    """
    return {"row": row, "order_no": order_no, "code": code,
            "message": i18n.message(code, current().lang, text[:300], status), "details": details}


def _fields_text(fields: dict) -> str:
    """`carrier: Longer than maximum length 32.`: the schema's field errors as one line."""
    return "; ".join(f"{name}: {' '.join(map(str, problems)) if isinstance(problems, list) else problems}"
                     for name, problems in fields.items())


def _parse_csv(raw: bytes) -> tuple[dict[str, tuple[int, dict]], list[dict]]:
    with csvfile.refusing_bad_csv():
        return _groups(csvfile.dict_reader(csvfile.decode(raw)))


def _groups(reader: csv.DictReader) -> tuple[dict[str, tuple[int, dict]], list[dict]]:
    """The rows grouped by order (in the order first seen); a row whose qty is not a number is an error."""
    missing = {"order_no", "sku", "qty"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInputError(details={"columns": sorted(missing)})
    groups: dict[str, tuple[int, dict]] = {}
    errors: list[dict] = []
    for row_no, row in enumerate(reader, start=2):
        order_no = (row.get("order_no") or "").strip()
        try:
            qty = int((row.get("qty") or "").strip())
        except ValueError:
            errors.append(_row_error(row_no, order_no, "invalid_input", "qty: Not a whole number.",
                                     {"fields": {"qty": ["Not a whole number."]}}))
            continue
        if order_no not in groups:
            paid = (row.get("paid") or "true").strip().lower() not in ("false", "0", "no", "n", "否")
            data = {k: (row.get(k) or None) for k in ("shop", "waybill_no", "carrier", "buyer_note", "seller_note",
                                                      "merge_into")}
            data = {k: v for k, v in data.items() if v is not None}
            groups[order_no] = (row_no, {"order_no": order_no, "paid": paid, "lines": [], **data})
        groups[order_no][1]["lines"].append({"sku": (row.get("sku") or "").strip(), "qty": qty})
    return groups, errors


@api.route("GET", "/orders/<order_no>", response=OrderDetailOut, roles=READ, errors=(404,))
def get_order(order_no: str):
    """The order, its lines, notes (buyer's first) and timeline. Leads to: order page."""
    with unit() as work:
        return order_views.page(work, order_no)


@api.route("GET", "/orders", query=OrderQuery, response=OrderOut, page=True, roles=READ)
def list_orders(query: dict):
    """Orders by waybill, state, import date or text. Leads to: order list."""
    with unit() as work:
        rows, cursor = order_views.listing(work, waybill=query["waybill"], state=query["state"], day=query["date"],
                                           q=query["q"], timezone=timezone(), limit=query["limit"],
                                           cursor_=query["cursor"])
        return Page(rows, cursor)


@api.route("POST", "/orders/<order_no>/notes", body=NoteIn, response=NoteOut, status=201,
           roles=("supervisor", "verifier"), errors=(404,))
def add_note(order_no: str, body: dict):
    """Append a note; notes are never edited or deleted. Leads to: order page."""
    with transaction() as s:
        return orders.add_note(s, current(), order_no, body["text"])


@api.route("GET", "/orders/<order_no>/notes", response=NoteOut, page=True, roles=READ, errors=(404,))
def list_notes(order_no: str):
    """The notes of an order, buyer's requests first."""
    with transaction() as s:
        return Page(orders.sorted_notes(list(orders.get(s, order_no).notes)))


@api.route("POST", "/orders/<order_no>/cancel", body=CancelIn, response=OrderOut, roles=MANAGE, errors=(404, 409))
def cancel_order(order_no: str, body: dict):
    """Refund or change after print: the parcel is intercepted. Leads to: intercept list."""
    with transaction() as s:
        return orders.cancel(s, current(), order_no, body["reason"], stock())


@api.route("GET", "/orders/<order_no>/notes/<int:note_id>", response=NoteOut, roles=READ, errors=(404, 405))
def get_note(order_no: str, note_id: int):
    """One note; PUT, PATCH and DELETE answer 405: notes are append-only."""
    with transaction() as s:
        note = next((n for n in orders.get(s, order_no).notes if n.id == note_id), None)
        if note is None:
            raise NotFoundError(code="not_found", details={"note_id": note_id})
        return note
