"""The RQ worker of `make run`: the shared queues plus every printer's own queue.

Printers are registered at run time, so the worker re-reads the set of printer queues between
dequeues (at most every PRINT_QUEUE_REFRESH_SECONDS) and its scheduler, which moves retries whose
backoff has passed back onto their queue, covers new printer queues too.

Jobs run in the worker process itself (RQ's SimpleWorker), not in a forked work horse: a print job
is a few milliseconds of database and socket work, and forking, re-importing and reconnecting to
PostgreSQL and Redis for each one cost a hundred times that. What the fork gave is kept:
- a job's timeout is RQ's SIGALRM death penalty, which works because the job runs in the main thread;
- a job that raises is failed or retried by RQ and the worker takes the next one;
- the job's heartbeat goes on while it runs (a thread of its own), so a killed worker's job counts as
  abandoned a minute and a half after its last beat, as with a work horse, and a long one never does;
- SIGTERM lets the running job finish; a second SIGTERM stops it.
Printer queues take turns (round robin, after the shared queues, which go first): a printer that
hangs holds the worker for at most one delivery, bounded by PRINT_SOCKET_TIMEOUT, between two jobs
of any other printer.

    python -m print_service.worker            # shipping, print, default and all printer queues
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time

from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
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


class PrinterWorker(SimpleWorker):
    """An RQ worker running jobs in its own process, on queues that follow the registered printers."""

    def __init__(self, base_queues: list[str], *args, **kwargs):  # type: ignore[no-untyped-def]
        self.base_queues = list(base_queues)
        self._refreshed_at = 0.0
        super().__init__(base_queues, *args, **kwargs)
        self.refresh_queues()

    def refresh_queues(self) -> None:
        self._refreshed_at = time.monotonic()
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
            # Busy, the set of printers is read once per refresh period rather than before every job.
            if time.monotonic() - self._refreshed_at >= refresh_seconds():
                self.refresh_queues()
            result = super().dequeue_job_and_maintain_ttl(refresh_seconds(), max_idle_time=refresh_seconds())
            if result is not None or self._stop_requested:
                return result
            self.refresh_queues()

    def reorder_queues(self, reference_queue: Queue) -> None:
        """The printer queue just served goes to the back of the printers; the shared queues stay first."""
        if not reference_queue.name.startswith(jobs.QUEUE_PREFIX):
            return
        shared = [q for q in self._ordered_queues if not q.name.startswith(jobs.QUEUE_PREFIX)]
        printers = [q for q in self._ordered_queues if q.name.startswith(jobs.QUEUE_PREFIX)]
        names = [q.name for q in printers]
        if reference_queue.name in names:
            cut = names.index(reference_queue.name) + 1
            printers = printers[cut:] + printers[:cut]
        self._ordered_queues = shared + printers

    def get_heartbeat_ttl(self, job: Job) -> int:
        """As a forking worker's: the next beat is due within job_monitoring_interval (see _beat)."""
        if job.timeout and job.timeout > 0:
            left = job.timeout - self.current_job_working_time
            return int(min(left, self.job_monitoring_interval)) + 60
        return self.job_monitoring_interval + 60

    def execute_job(self, job: Job, queue: Queue) -> None:
        done = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job, done), name="rq-heartbeat", daemon=True)
        beat.start()
        try:
            super().execute_job(job, queue)
        finally:
            done.set()
            beat.join()
            self.current_job_working_time = 0

    def _beat(self, job: Job, done: threading.Event) -> None:
        """Keep the running job's execution alive, as a forking worker's monitor loop does."""
        started = time.monotonic()
        while not done.wait(self.job_monitoring_interval):
            try:
                self.set_current_job_working_time(time.monotonic() - started)
                self.maintain_heartbeats(job)
            except Exception:  # noqa: BLE001 - Redis away for a moment: the next beat tries again
                self.log.warning("heartbeat of job %s failed", job.id, exc_info=True)

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


def warm_up() -> None:
    """Import now what the first label would otherwise import in the middle of its job."""
    import encodings.idna  # noqa: F401 - socket.getaddrinfo loads it on the first connection to a printer

    from print_service.domain import sending  # noqa: F401
    from print_service.drivers import cups, spool, tcp  # noqa: F401


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    warm_up()
    connection = Redis.from_url(os.environ["REDIS_URL"])
    base = os.environ.get("WORKER_QUEUES", ",".join(QUEUES)).split(",")
    worker = PrinterWorker(base, connection=connection, maintenance_interval=30)
    worker.work(with_scheduler="--no-scheduler" not in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
