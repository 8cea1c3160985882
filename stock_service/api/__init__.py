"""Thin blueprints of stock_service, one module per scenario: schema in, domain call, serialise."""
from flask import Blueprint

from stock_service.api import skus

BLUEPRINTS: list[Blueprint] = [skus.bp]
