"""The handheld UI and the supervisor pages, served by the gateway as static files."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

STATIC = Path(__file__).parent / "static"

bp = Blueprint("ui", __name__)


@bp.get("/")
def handheld() -> Response:
    """The handheld app shell."""
    return send_from_directory(STATIC, "index.html")
