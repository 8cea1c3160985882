"""Thin blueprints of print_service, one module per scenario: schema in, domain call, serialise."""
from flask import Blueprint

from print_service.api import jobs, preview, printers

BLUEPRINTS: list[Blueprint] = [printers.bp, jobs.bp, preview.bp]
