"""print_service: see ../README.md for what it owns."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from common.app import create_app as create_service_app
from print_service import messages  # noqa: F401 - registers the printing error messages
from print_service.api import BLUEPRINTS
from print_service.models import idempotency_keys


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    return create_service_app("print", BLUEPRINTS, idempotency_table=idempotency_keys, overrides=overrides)
