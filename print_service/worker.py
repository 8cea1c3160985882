"""The RQ worker of `make run`: the shared queues plus every printer's own queue.

Printers are registered at run time, so the worker re-reads the set of printer queues between
dequeues (every PRINT_QUEUE_REFRESH_SECONDS) and its scheduler, which moves retries whose backoff
has passed back onto their queue, covers new printer queues too.

    python -m print_service.worker            # shipping, print, default and all printer queues
"""
from __future__ import annotations

import logging
import os
import sys

from redis import Redis
from rq import Queue, Worker
from rq.scheduler import RQScheduler

from common.worker import QUEUES
from print_service import jobs


def refresh_seconds() -> int:
    return int(os.environ.get("PRINT_QUEUE_REFRESH_SECONDS") or 2)


class PrinterScheduler(RQScheduler):
    """RQ's scheduler, also taking the locks of printer queues registered after it started."""

    def __init__(self, *args, base_queues: list[str], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._base_queues = list(base_queues)

    def _refresh_names(self) -> None:
        self._queue_names = set(self._base_queues) | set(jobs.printer_queues(self.connection))

    @property
    def should_reacquire_locks(self) -> bool:
        self._refresh_names()
        if not self._queue_names - self._acquired_locks:
            return False
        if not self.lock_acquisition_time:
            return True
        from datetime import datetime

        return (datetime.now() - self.lock_acquisition_time).total_seconds() > refresh_seconds()


class PrinterWorker(Worker):
    """An RQ worker whose queues follow the printers registered in Redis."""

    def __init__(self, base_queues: list[str], *args, **kwargs):  # type: ignore[no-untyped-def]
        self.base_queues = list(base_queues)
        super().__init__(base_queues, *args, **kwargs)
        self.refresh_queues()

    def refresh_queues(self) -> None:
        wanted = self.base_queues + [name for name in jobs.printer_queues(self.connection)
                                     if name not in self.base_queues]
        if wanted != [q.name for q in self.queues]:
            self.queues = [Queue(name, connection=self.connection, job_class=self.job_class,
                                 serializer=self.serializer) for name in wanted]
            self._ordered_queues = self.queues[:]
            if self.birth_date is not None:
                self.connection.hset(self.key, "queues", ",".join(wanted))

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):  # type: ignore[no-untyped-def]
        while True:
            self.refresh_queues()
            result = super().dequeue_job_and_maintain_ttl(refresh_seconds(), max_idle_time=refresh_seconds())
            if result is not None or self._stop_requested:
                return result

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            found = jobs.requeue_stranded(jobs.worker_sessions(), self.connection)
        except Exception:  # noqa: BLE001 - maintenance must not stop the worker; next round tries again
            self.log.exception("requeueing stranded print jobs failed")
            return
        if found:
            self.log.warning("requeued %d print jobs that had no RQ job: %s", len(found), ", ".join(found))

    def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None,  # type: ignore[no-untyped-def]
                         log_format=None):
        from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT

        self.scheduler = PrinterScheduler(
            self.queues, connection=self.connection, base_queues=self.base_queues,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format or DEFAULT_LOGGING_DATE_FORMAT, log_format=log_format or DEFAULT_LOGGING_FORMAT,
            serializer=self.serializer, interval=1)
        self.scheduler._refresh_names()
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            self.scheduler.start()


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    connection = Redis.from_url(os.environ["REDIS_URL"])
    base = os.environ.get("WORKER_QUEUES", ",".join(QUEUES)).split(",")
    worker = PrinterWorker(base, connection=connection, maintenance_interval=30)
    worker.work(with_scheduler="--no-scheduler" not in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
