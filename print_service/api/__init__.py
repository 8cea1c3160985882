"""Thin blueprints of print_service, one module per scenario: schema in, domain call, serialise."""
from flask import Blueprint

BLUEPRINTS: list[Blueprint] = []
