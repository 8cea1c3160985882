"""The queues every RQ worker serves, beside each printer's own (see print_service/worker.py).

`shipping` carries scan_service's outbox deliveries to stock; `print` and `default` are kept for
jobs that belong to no printer.
"""
from __future__ import annotations

QUEUES = ("shipping", "print", "default")
