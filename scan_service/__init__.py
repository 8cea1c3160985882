"""scan_service: see ../README.md for what it owns."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from common import warmup
from common.app import create_app as create_service_app
from scan_service.api import BLUEPRINTS
from scan_service.domain import scanrows
from scan_service.models import idempotency_keys


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app("scan", BLUEPRINTS, idempotency_table=idempotency_keys, overrides=overrides)
    warmup.on_warm(app, scanrows.compile_statements)
    for statement in scanrows.WARM_UP:
        warmup.per_connection(app, statement)
    return app
