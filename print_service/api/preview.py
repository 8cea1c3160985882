"""A label preview before printing: the handheld's print screen shows it.

Screens: print labels (handheld), printers page (test label).
"""
from flask import Blueprint, Response

from common.db import transaction
from common.endpoint import Api
from print_service.api.roles import PRINTING
from print_service.domain import printers
from print_service.labels import png, templates
from print_service.labels.model import Size
from print_service.schemas.printing import PreviewIn

bp = Blueprint("print_preview", __name__, url_prefix="/api/print")
api = Api(bp, "print")


@api.route("POST", "/preview", body=PreviewIn, roles=PRINTING, produces="image/png", errors=(404, 422),
           idempotent=False)
def preview(body: dict):
    """Render a label to PNG without printing it (a printer's stock when `printer` is given)."""
    data = templates.load_data(body["template"], body["data"])
    size, font = Size(body["dpi"], body["width_mm"], body["height_mm"]), "E:ANMDS.TTF"
    if body.get("printer"):
        with transaction() as s:
            printer = printers.get(s, body["printer"])
            size, font = printers.size_of(printer), printer.font
    return Response(png.render(templates.build(body["template"], data, size, font)), mimetype="image/png")
