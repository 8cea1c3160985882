"""Marshmallow schemas of print_service: one request schema per endpoint (unknown fields raise)."""
