"""The code patterns of the floor, loaded from the JSON files beside this module (data, not code)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class CarrierPattern:
    carrier: str
    name: str
    regex: re.Pattern[str]
    digits_only: bool


@lru_cache(maxsize=1)
def carriers() -> tuple[CarrierPattern, ...]:
    """Waybill patterns in matching order, from carriers.json."""
    data = json.loads((HERE / "carriers.json").read_text(encoding="utf-8"))
    return tuple(CarrierPattern(c["carrier"], c["name"], re.compile(c["pattern"]), bool(c.get("digits_only")))
                 for c in data["carriers"])


@lru_cache(maxsize=1)
def floor_labels() -> dict[str, re.Pattern[str]]:
    """Bin, basket and badge label patterns, from floor.json."""
    data = json.loads((HERE / "floor.json").read_text(encoding="utf-8"))
    return {kind: re.compile(pattern) for kind, pattern in data.items() if not kind.startswith("_")}


def carrier_of(code: str) -> CarrierPattern | None:
    """The first carrier whose pattern matches the whole (upper-cased) code."""
    upper = code.upper()
    for pattern in carriers():
        if pattern.regex.fullmatch(upper):
            return pattern
    return None
