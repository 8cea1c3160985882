"""What a scanned code is, as every step reads it.

Screens: any scan screen that wants to say what it read (item, waybill, bin, basket, badge).
"""
from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from codes.recognize import recognize
from common.endpoint import Api
from common.schemas import Code, QuerySchema

bp = Blueprint("codes", __name__, url_prefix="/api/scan")
api = Api(bp, "scan")


class RecognizeQuery(QuerySchema):
    code = Code(required=True)
    expect = fields.String(load_default=None, validate=validate.OneOf(("item", "waybill", "bin", "basket", "badge")))


@api.route("GET", "/codes/recognize", query=RecognizeQuery)
def recognize_code(query: dict):
    """Tell what a scan is: kind, value, symbology, GTIN, lot, expiry, serial, carrier."""
    return recognize(query["code"], expect=query["expect"]).as_dict()
