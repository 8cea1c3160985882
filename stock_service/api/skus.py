"""SKUs: the purchaser creates them, everyone reads them.

Screens: item lookup, receiving.
"""
from flask import Blueprint

from common.db import transaction
from common.endpoint import Api
from stock_service.domain import skus
from stock_service.schemas.skus import SkuIn, SkuOut

bp = Blueprint("skus", __name__, url_prefix="/api/stock")
api = Api(bp, "stock")


@api.route("POST", "/skus", body=SkuIn, response=SkuOut, status=201, roles=("stock_manager", "receiver"),
           errors=(409, 422))
def create_sku(body: dict):
    """Create a SKU with its barcodes."""
    with transaction() as s:
        return skus.create(s, **body)


@api.route("GET", "/skus/<sku>", response=SkuOut, errors=(404,))
def get_sku(sku: str):
    """One SKU with its barcodes."""
    with transaction() as s:
        return skus.get(s, sku)
