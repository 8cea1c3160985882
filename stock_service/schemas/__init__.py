"""Marshmallow schemas of stock_service: one request schema per endpoint (unknown fields raise)."""
