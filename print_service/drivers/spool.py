"""A directory as a printer (development, tests, a print server that watches a folder).

One file per job, written to a temporary name and renamed, so a reader never sees half a label;
a repeat of the same job replaces its file instead of adding a second one.
"""
from __future__ import annotations

import os
import tempfile

from print_service.drivers import OFFLINE, READY, PrinterOfflineError, Status


class SpoolDriver:
    def __init__(self, directory: str):
        self.directory = directory

    def status(self) -> Status:
        if os.path.isdir(self.directory) and os.access(self.directory, os.W_OK):
            return Status(READY)
        return Status(OFFLINE, f"{self.directory} is not a writable directory")

    def send(self, name: str, data: bytes) -> None:
        try:
            os.makedirs(self.directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=self.directory)
            try:
                # Readable by the print server that watches the folder (mkstemp makes files 0600).
                os.fchmod(fd, 0o644)
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, os.path.join(self.directory, f"{name}.zpl"))
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise PrinterOfflineError(f"spool {self.directory}: {exc.strerror or exc.__class__.__name__}") from exc
