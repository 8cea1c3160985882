"""Printers: the supervisor registers, pauses, resumes and empties them; everyone who prints sees them.

Screens: print queue and printers (supervisor), print labels (handheld: choose a printer).
"""
from flask import Blueprint

from common.auth import current
from common.db import transaction
from common.endpoint import Api, Page
from common.redis import client as redis_client
from print_service.api.roles import MANAGING, PRINTING
from print_service.domain import printers
from print_service.schemas.printing import MoveIn, MoveOut, PrinterIn, PrinterOut, PrinterStatusOut

bp = Blueprint("printers", __name__, url_prefix="/api/print")
api = Api(bp, "print")


@api.route("POST", "/printers", body=PrinterIn, response=PrinterOut, status=201, roles=MANAGING,
           errors=(409, 422))
def create_printer(body: dict):
    """Register a label printer (tcp://, cups:// or file://); leads to the printers page."""
    with transaction() as s:
        return printers.create(s, redis_client(), **body)


@api.route("GET", "/printers", response=PrinterOut, page=True, roles=PRINTING)
def list_printers():
    """Every printer with its last known state and how many labels wait; the printers page."""
    with transaction() as s:
        return Page(printers.listing(s))


@api.route("GET", "/printers/<name>", response=PrinterOut, roles=PRINTING, errors=(404,))
def get_printer(name: str):
    """One printer as last seen; the printer's detail on the printers page."""
    with transaction() as s:
        return printers.get(s, name)


@api.route("GET", "/printers/<name>/status", response=PrinterStatusOut, roles=PRINTING, errors=(404,))
def printer_status(name: str):
    """Ask the printer now (~HS for tcp, lpstat for cups); the printers page's refresh."""
    with transaction() as s:
        printer, status = printers.ask(s, name)
        printer.detail = status.detail
        return printer


@api.route("POST", "/printers/<name>/pause", response=PrinterOut, roles=MANAGING, errors=(404,))
def pause_printer(name: str):
    """Stop a printer: its waiting labels are held until resume; the printers page."""
    with transaction() as s:
        return printers.pause(s, name, current())


@api.route("POST", "/printers/<name>/resume", response=PrinterOut, roles=MANAGING, errors=(404,))
def resume_printer(name: str):
    """Start a printer again: held labels print in their order; the printers page."""
    with transaction() as s:
        return printers.resume(s, redis_client(), name, current())


@api.route("POST", "/printers/<name>/move", body=MoveIn, response=MoveOut, roles=MANAGING, errors=(404, 422))
def move_jobs(name: str, body: dict):
    """Send a broken printer's waiting labels to another printer; the print queue page."""
    with transaction() as s:
        moved = printers.move(s, redis_client(), name, body["to"], current())
        return {"moved": [job.id for job in moved], "to": body["to"]}
