"""Print jobs: ask for labels, follow them, cancel, reprint, see the ZPL.

Screens: print labels (handheld), receiving (all labels of a receipt as a batch), print queue.
"""
from flask import Blueprint, Response

from common.auth import current
from common.db import transaction, unit
from common.endpoint import Api, Page
from common.redis import client as redis_client
from print_service.api.roles import PRINTING
from print_service.domain import history, jobs, printers
from print_service.labels import png, templates
from print_service.schemas.printing import BatchIn, BatchOut, JobDetailOut, JobIn, JobOut, JobQuery, ReprintIn

bp = Blueprint("print_jobs", __name__, url_prefix="/api/print")
api = Api(bp, "print")


# Asking for labels writes nothing until its commit, and calls out only after it (RQ): a double
# tap's copy runs into the first's Idempotency-Key at the commit and is answered as the first was.
@api.route("POST", "/jobs", body=JobIn, response=JobOut, status=202, roles=PRINTING, errors=(404, 422),
           key_read_first=False)
def create_job(body: dict):
    """Print a label (a double tap with one Idempotency-Key prints once); leads to the job's state."""
    with unit() as rows:
        return jobs.create(rows, redis_client(), current(), **body)


@api.route("POST", "/batches", body=BatchIn, response=BatchOut, status=202, roles=PRINTING, errors=(404, 422),
           key_read_first=False)
def create_batch(body: dict):
    """Print many labels in order (e.g. a receipt's); one bad label refuses the batch."""
    with unit() as rows:
        batch_id, printer, made = jobs.create_batch(rows, redis_client(), current(), **body)
        return {"id": batch_id, "printer": printer, "jobs": made}


@api.route("GET", "/jobs", query=JobQuery, response=JobOut, page=True, roles=PRINTING)
def list_jobs(query: dict):
    """The print queue, newest first, by printer, state or batch; the print queue page."""
    with transaction() as s:
        found, cursor = jobs.listing(s, **query)
        return Page(found, cursor)


@api.route("GET", "/jobs/<job_id>", response=JobDetailOut, roles=PRINTING, errors=(404,))
def get_job(job_id: str):
    """One job with its history: who asked, every attempt and the printer's answers."""
    with transaction() as s:
        job = jobs.get(s, job_id)
        job.history = history.of(s, job_id)
        return job


@api.route("POST", "/jobs/<job_id>/cancel", response=JobOut, roles=PRINTING, errors=(404, 409))
def cancel_job(job_id: str):
    """Cancel a label not yet sent; back to the print queue."""
    with transaction() as s:
        return jobs.cancel(s, redis_client(), job_id, current())


@api.route("POST", "/jobs/<job_id>/reprint", body=ReprintIn, response=JobOut, status=202, roles=PRINTING,
           errors=(404, 422))
def reprint_job(job_id: str, body: dict):
    """Print the same label again as a new job linked to this one (reprint_of)."""
    with transaction() as s:
        return jobs.reprint(s, redis_client(), job_id, current(), **body)


@api.route("GET", "/jobs/<job_id>/zpl", roles=PRINTING, produces="text/plain", errors=(404,))
def job_zpl(job_id: str):
    """The exact ZPL the printer receives."""
    with transaction() as s:
        return Response(jobs.get(s, job_id).zpl, mimetype="text/plain", content_type="text/plain; charset=utf-8")


@api.route("GET", "/jobs/<job_id>/preview.png", roles=PRINTING, produces="image/png", errors=(404,))
def job_preview(job_id: str):
    """The job's label as an image, from the same label model as its ZPL."""
    with transaction() as s:
        job = jobs.get(s, job_id)
        printer = printers.get(s, job.printer)
        label = templates.build(job.template, job.data, printers.size_of(printer), printer.font)
    return Response(png.render(label), mimetype="image/png")
