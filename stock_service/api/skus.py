"""SKUs: the purchaser creates and imports them, everyone looks items up.

Screens: item lookup, receiving, SKU set-up, stock reports.
"""
from flask import Blueprint

from common import i18n
from common.auth import current
from common.db import transaction, unit
from common.endpoint import Api
from stock_service.api.stock import SEES_STOCK
from stock_service.domain import imports, skus
from stock_service.schemas.skus import DisableIn, ImportQuery, LookupQuery, SkuIn, SkuOut

bp = Blueprint("skus", __name__, url_prefix="/api/stock")
api = Api(bp, "stock")


@api.route("POST", "/skus", body=SkuIn, response=SkuOut, status=201, roles=("stock_manager", "receiver"),
           errors=(404, 409, 422))
def create_sku(body: dict):
    """Create a SKU with its barcodes (SKU set-up, receiving an unknown item)."""
    with transaction() as s:
        return skus.create(s, **body)


@api.route("POST", "/skus/import", query=ImportQuery, content_type="text/csv", roles=("stock_manager",),
           errors=(422,))
def import_skus(query: dict, body: bytes):
    """Load the SKU master file (CSV `sku,name,spec,barcode,bin`, UTF-8 or GBK) on the SKU set-up page."""
    with transaction() as s:
        outcome = imports.run(s, body, query["partial"])
    lang = current().lang
    errors = [e | {"message": i18n.message(e["code"], lang, e["message"])} for e in outcome.errors]
    if outcome.errors and not query["partial"]:
        return {"created": 0, "updated": 0, "errors": errors, "applied": False}
    return {"created": outcome.created, "updated": outcome.updated, "errors": errors, "applied": True}


@api.route("GET", "/items/lookup", query=LookupQuery, errors=(404,))
def lookup_item(query: dict):
    """The item lookup screen: scan anything on an item → name, spec, picture, stock and bins."""
    with unit() as rows:  # plain SQL on the unit's cursor: no Session to make and close
        item = skus.lookup(rows, query["code"])
    if not current().has_any(SEES_STOCK):
        # A counter counts blind: the item, never what its bins should hold.
        item = {k: v for k, v in item.items() if k not in ("on_hand", "bins")}
    return item


@api.route("GET", "/skus/<sku>", response=SkuOut, errors=(404,))
def get_sku(sku: str):
    """One SKU with its barcodes."""
    with transaction() as s:
        return skus.get(s, sku)


@api.route("POST", "/skus/<sku>/disable", body=DisableIn, roles=("stock_manager",), errors=(404, 409))
def disable_sku(sku: str, body: dict):
    """Retire a SKU no longer sold (stock reports page): negative balances written off, bins freed."""
    with transaction() as s:
        return skus.disable(s, current(), sku, body["reason"])
