"""Thin blueprints of stock_service, one module per scenario: schema in, domain call, serialise."""
from flask import Blueprint

from stock_service import messages  # noqa: F401 - registers the service's error messages
from stock_service.api import counts, internal, receiving, reports, skus, stock

BLUEPRINTS: list[Blueprint] = [skus.bp, stock.bp, receiving.bp, counts.bp, reports.bp, internal.bp]
