"""The history of a print job: every request, attempt and answer, append-only."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from print_service.models import JobEvent, PrintJob


def record(s: Session, job: PrintJob, event: str, *, operator: str | None = None, detail: str | None = None) -> None:
    s.add(JobEvent(job_id=job.id, event=event, state=job.state, attempt=job.attempts, operator=operator,
                   detail=detail))


def of(s: Session, job_id: str) -> list[JobEvent]:
    return list(s.scalars(select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)))
