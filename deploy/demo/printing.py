"""Demo data of the printing side of the floor: a spool printer under VAR_DIR and one test label."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SPOOL_PRINTER = "spool-1"


def spool_dir() -> Path:
    return Path(os.environ.get("VAR_DIR") or "var").resolve() / "spool" / SPOOL_PRINTER


def seed(client: Any) -> None:
    """A file:// printer whose labels land as .zpl files in VAR_DIR/spool/spool-1."""
    directory = spool_dir()
    directory.mkdir(parents=True, exist_ok=True)
    created = client.post("/api/print/printers", {"name": SPOOL_PRINTER, "uri": directory.as_uri(), "dpi": 203,
                                                  "width_mm": 60, "height_mm": 40, "location": "receiving"})
    if created.status_code == 201:
        client.post("/api/print/jobs", {"printer": SPOOL_PRINTER, "template": "location",
                                        "data": {"code": "A-01-01-01", "caption": "演示库位"}},
                    headers={"Idempotency-Key": "demo-print-first-label"})
