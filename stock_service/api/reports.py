"""Stock reports for the supervisor pages: negative balances, low stock, SKUs to retire."""
from flask import Blueprint

from common.db import transaction
from common.endpoint import Api, Page
from common.schemas import PageQuery
from stock_service.api.stock import SEES_STOCK
from stock_service.domain import reports
from stock_service.schemas.skus import LowQuery, RetireQuery
from stock_service.schemas.stock import BalanceOut

bp = Blueprint("reports", __name__, url_prefix="/api/stock")
api = Api(bp, "stock")


@api.route("GET", "/reports/negative", query=PageQuery, response=BalanceOut, page=True, roles=SEES_STOCK)
def negative(query: dict):
    """Balances below zero (stock reports page); each leads to a count of its bin."""
    with transaction() as s:
        return Page(*reports.negative(s, query["limit"], query["cursor"]))


@api.route("GET", "/reports/low", query=LowQuery, page=True, roles=SEES_STOCK)
def low(query: dict):
    """Active SKUs with fewer units on hand than the threshold (stock reports page, replenishment)."""
    with transaction() as s:
        return Page(*reports.low(s, query["threshold"], query["limit"], query["cursor"]))


@api.route("GET", "/reports/retire", query=RetireQuery, page=True, roles=SEES_STOCK)
def retire(query: dict):
    """SKUs below zero and no longer sold (stock reports page); each leads to POST /skus/{sku}/disable."""
    with transaction() as s:
        return Page(*reports.retire(s, query["idle_days"], query["limit"], query["cursor"]))
