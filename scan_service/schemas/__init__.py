"""Marshmallow schemas of scan_service: one request schema per endpoint (unknown fields raise)."""
