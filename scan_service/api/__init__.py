"""Thin blueprints of scan_service, one module per scenario: schema in, domain call, serialise."""
from flask import Blueprint

from scan_service import messages  # noqa: F401 - registers the error and scan messages
from scan_service.api import codes, orders, picking, reports, verify

BLUEPRINTS: list[Blueprint] = [orders.bp, picking.bp, verify.bp, reports.bp, codes.bp]
