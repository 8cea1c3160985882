"""Demo data of the stock side of the floor."""
from __future__ import annotations

from typing import Any


def seed(client: Any) -> None:
    """Nothing yet beyond what the service creates itself."""
