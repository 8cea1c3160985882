"""Printing endpoints in-process: printers, jobs, previews, and bad input that changes nothing."""
from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import text

from common.testing import assert_error

SKU = {"sku": "TS-001-RED-M", "name": "纯棉T恤 红色 M码", "spec": "100%棉", "barcode": "6901234567892"}


def add_printer(client, name="zebra-1", uri="file:///tmp/wms-print-test-spool", **extra):
    answer = client.post("/api/print/printers", json={"name": name, "uri": uri, **extra})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def job_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM print.jobs")).scalar()


def decode(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_post_printers_creates_and_lists(service):
    """A supervisor registers a printer; it is listed with state and waiting count."""
    client = service("print", "supervisor")
    created = add_printer(client, location="receiving")
    assert created["state"] == "unknown" and created["dpi"] == 203 and created["paused"] is False
    listed = client.get("/api/print/printers").get_json()["items"]
    assert [(p["name"], p["state"], p["waiting"]) for p in listed] == [("zebra-1", "unknown", 0)]


def test_post_printers_bad_uri_is_422(service, engine):
    """An address that is not tcp/cups/file is refused and nothing is stored."""
    client = service("print", "supervisor")
    for uri in ("http://printer", "tcp://", "file://relative/dir", "cups://bad queue"):
        details = assert_error(client.post("/api/print/printers", json={"name": "p1", "uri": uri}), 422,
                               "invalid_printer_uri")
        assert details["field"] == "uri"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM print.printers")).scalar() == 0


def test_post_printers_duplicate_and_roles(service):
    """The same name twice is a 409; a labeler may not register printers."""
    client = service("print", "supervisor")
    add_printer(client)
    assert_error(client.post("/api/print/printers", json={"name": "zebra-1", "uri": "cups://q1"}), 409,
                 "printer_exists")
    labeler = service("print", "labeler")
    assert_error(labeler.post("/api/print/printers", json={"name": "zebra-2", "uri": "cups://q1"}), 403, "forbidden")


def test_post_jobs_queues_and_stores_zpl(service, engine):
    """A labeler's job is queued with its ZPL stored; the history says who asked."""
    add_printer(service("print", "supervisor"))
    client = service("print", "labeler", badge="EDB_DY001")
    answer = client.post("/api/print/jobs", json={"printer": "zebra-1", "template": "sku", "data": SKU, "copies": 2})
    assert answer.status_code == 202, answer.get_json()
    job = answer.get_json()
    assert job["state"] == "queued" and job["attempts"] == 0 and job["reprint_of"] is None
    detail = client.get(f"/api/print/jobs/{job['id']}").get_json()
    assert [(e["event"], e["operator"]) for e in detail["history"]] == [("requested", "EDB_DY001")]
    zpl = client.get(f"/api/print/jobs/{job['id']}/zpl")
    assert zpl.mimetype == "text/plain"
    body = zpl.get_data(as_text=True)
    assert "^CI28" in body and "^BEN" in body and "^FD690123456789^FS" in body and "^PQ2\n" in body
    assert "纯棉T恤 红色 M码" in body
    assert decode(client.get(f"/api/print/jobs/{job['id']}/preview.png").get_data()) == ["6901234567892"]


def test_post_jobs_answer_is_the_job_stored_and_a_repeat_replays_it(service, engine):
    """The 202 answer is the job as stored; the same key again answers it once more and adds nothing."""
    add_printer(service("print", "supervisor"))
    client = service("print", "labeler", badge="EDB_DY002")
    body = {"printer": "zebra-1", "template": "location", "data": {"code": "A-01-02"}}
    first = client.post("/api/print/jobs", json=body, headers={"Idempotency-Key": "tap-1"})
    assert first.status_code == 202, first.get_json()
    job = first.get_json()
    stored = client.get(f"/api/print/jobs/{job['id']}").get_json()
    assert {name: stored[name] for name in job} == job
    again = client.post("/api/print/jobs", json=body, headers={"Idempotency-Key": "tap-1"})
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == job
    assert job_count(engine) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM print.job_events")).scalar() == 1


@pytest.mark.parametrize(("body", "status", "code", "where"), [
    ({"printer": "zebra-1", "template": "poster", "data": {}}, 422, "invalid_input", "template"),
    ({"printer": "nope", "template": "location", "data": {"code": "A-01"}}, 404, "unknown_printer", None),
    ({"printer": "zebra-1", "template": "sku", "data": {"sku": "X"}}, 422, "invalid_input", "data"),
    ({"printer": "zebra-1", "template": "location", "data": {"code": "A-01", "colour": "red"}}, 422,
     "invalid_input", "data"),
    ({"printer": "zebra-1", "template": "location", "data": {"code": "A-01"}, "copies": 0}, 422, "invalid_input",
     "copies"),
    ({"printer": "zebra-1", "template": "location", "data": {"code": "A-01"}, "copies": 10000}, 422,
     "invalid_input", "copies"),
    ({"printer": "zebra-1", "template": "sku", "data": {**SKU, "barcode": "6901234567890"}}, 422,
     "invalid_barcode", None),
    ({"printer": "zebra-1", "template": "sku", "data": {**SKU, "barcode": "条码123"}}, 422, "invalid_barcode", None),
    ({"printer": "zebra-1", "template": "sku", "data": {**SKU, "barcode": "12345", "symbology": "ean13"}}, 422,
     "invalid_barcode", None),
    ({"printer": "zebra-1", "template": "location", "data": {"code": "A" * 48}}, 422, "invalid_barcode", None),
    ({"printer": "zebra-1", "template": "badge", "data": {"badge": "EDB_PH001"}}, 422, "invalid_input", "data"),
    ({"printer": "zebra-1", "template": "raw", "data": {}}, 422, "invalid_input", "data"),
    ({"printer": "zebra-1", "template": "location", "data": "A-01"}, 422, "invalid_input", "data"),
])
def test_post_jobs_bad_input_is_4xx_and_no_job(service, engine, body, status, code, where):
    """Unknown template or printer, missing fields, an unprintable barcode, bad copies: an error, no job."""
    add_printer(service("print", "supervisor"))
    client = service("print", "labeler")
    details = assert_error(client.post("/api/print/jobs", json=body), status, code)
    if where:
        assert where in details.get("fields", {}), details
    assert job_count(engine) == 0


def test_post_jobs_wrong_role_is_403(service, engine):
    """A picker does not print labels."""
    add_printer(service("print", "supervisor"))
    answer = service("print", "picker").post("/api/print/jobs", json={"printer": "zebra-1", "template": "location",
                                                                       "data": {"code": "A-01"}})
    assert_error(answer, 403, "forbidden")
    assert job_count(engine) == 0


def test_post_preview_each_template_decodes(service):
    """POST /preview gives a PNG whose barcode reads back exactly the data asked for."""
    client = service("print", "labeler")
    cases = [("sku", SKU, "6901234567892"), ("sku", {"sku": "INT-42", "name": "Mug"}, "INT-42"),
             ("location", {"code": "A-01-02-03"}, "A-01-02-03"), ("basket", {"code": "BK-017"}, "BK-017"),
             ("badge", {"badge": "EDB_PH001", "name": "张伟"}, "EDB_PH001"),
             ("badge", {"badge": "EDB_PH001", "name": "张伟", "symbology": "qr"}, "EDB_PH001")]
    for dpi in (203, 300):
        for template, data, expected in cases:
            answer = client.post("/api/print/preview", json={"template": template, "data": data, "dpi": dpi,
                                                             "width_mm": 60, "height_mm": 40})
            assert answer.status_code == 200 and answer.mimetype == "image/png", answer.get_data()[:200]
            image = Image.open(io.BytesIO(answer.get_data()))
            assert image.size == ((480, 320) if dpi == 203 else (720, 480))
            assert decode(answer.get_data()) == [expected], (dpi, template)


def test_post_jobs_cancel_and_reprint(service):
    """A queued job cancels once (then 409); a reprint is a new job linked to the original."""
    add_printer(service("print", "supervisor"))
    client = service("print", "labeler")
    job = client.post("/api/print/jobs", json={"printer": "zebra-1", "template": "basket",
                                               "data": {"code": "BK-017"}}).get_json()
    cancelled = client.post(f"/api/print/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    assert_error(client.post(f"/api/print/jobs/{job['id']}/cancel"), 409, "job_not_cancellable")
    again = client.post(f"/api/print/jobs/{job['id']}/reprint", json={"copies": 3})
    assert again.status_code == 202
    assert again.get_json()["reprint_of"] == job["id"] and again.get_json()["copies"] == 3
    assert again.get_json()["state"] == "queued"
    assert_error(client.post("/api/print/jobs/no-such-job/reprint", json={}), 404, "unknown_print_job")


def test_post_batches_all_or_nothing(service, engine):
    """A batch with one bad label creates no job; a good one creates all, in order."""
    add_printer(service("print", "supervisor"))
    client = service("print", "receiver")
    labels = [{"template": "location", "data": {"code": f"A-01-0{i}"}} for i in range(3)]
    bad = labels + [{"template": "sku", "data": {**SKU, "barcode": "6901234567890"}}]
    details = assert_error(client.post("/api/print/batches", json={"printer": "zebra-1", "labels": bad}), 422,
                           "invalid_barcode")
    assert details["label"] == 3
    assert job_count(engine) == 0
    made = client.post("/api/print/batches", json={"printer": "zebra-1", "labels": labels})
    assert made.status_code == 202, made.get_json()
    jobs = made.get_json()["jobs"]
    assert len(jobs) == 3
    listed = client.get(f"/api/print/jobs?batch={made.get_json()['id']}").get_json()["items"]
    assert [j["data"]["code"] for j in reversed(listed)] == ["A-01-00", "A-01-01", "A-01-02"]


def test_post_batches_of_the_largest_size_keeps_the_order_given(service, engine):
    """A receipt's 500 labels in one batch: 500 jobs, one event each, their seq in the order given."""
    add_printer(service("print", "supervisor"))
    client = service("print", "receiver")
    codes = [f"A-{n // 100:02d}-{n % 100:02d}" for n in range(500)]
    made = client.post("/api/print/batches", json={"printer": "zebra-1", "labels": [
        {"template": "location", "data": {"code": code}} for code in codes]})
    assert made.status_code == 202, made.get_json()
    assert [job["data"]["code"] for job in made.get_json()["jobs"]] == codes
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT j.data->>'code', count(e.id) FROM print.jobs j "
                                   "JOIN print.job_events e ON e.job_id = j.id GROUP BY j.seq, j.data "
                                   "ORDER BY j.seq")).all()
    assert [tuple(row) for row in stored] == [(code, 1) for code in codes]


def test_post_printers_pause_holds_new_jobs(service):
    """A paused printer's new jobs wait as held; resume queues them again."""
    supervisor = service("print", "supervisor")
    add_printer(supervisor)
    client = service("print", "labeler")
    first = client.post("/api/print/jobs", json={"printer": "zebra-1", "template": "location",
                                                 "data": {"code": "A-01"}}).get_json()
    assert supervisor.post("/api/print/printers/zebra-1/pause").get_json()["paused"] is True
    second = client.post("/api/print/jobs", json={"printer": "zebra-1", "template": "location",
                                                  "data": {"code": "A-02"}}).get_json()
    assert second["state"] == "held"
    assert client.get(f"/api/print/jobs/{first['id']}").get_json()["state"] == "held"
    assert_error(client.post("/api/print/printers/zebra-1/resume"), 403, "forbidden")
    supervisor.post("/api/print/printers/zebra-1/resume")
    states = [client.get(f"/api/print/jobs/{j['id']}").get_json()["state"] for j in (first, second)]
    assert states == ["queued", "queued"]


def test_post_jobs_lost_enqueue_is_requeued_by_the_sweep(service, redis_conn, test_env):
    """A queued job whose RQ job is gone (Redis lost it after commit) is enqueued again, once."""
    from rq.job import Job

    from print_service import jobs as print_jobs

    add_printer(service("print", "supervisor"))
    client = service("print", "labeler")
    job = client.post("/api/print/jobs", json={"printer": "zebra-1", "template": "location",
                                               "data": {"code": "A-01"}}).get_json()
    sessions = print_jobs.worker_sessions()
    assert print_jobs.requeue_stranded(sessions, redis_conn, older_than_s=0) == []
    Job.fetch(job["id"], connection=redis_conn).delete()
    assert print_jobs.requeue_stranded(sessions, redis_conn, older_than_s=0) == [job["id"]]
    assert Job.fetch(job["id"], connection=redis_conn).origin == "print:zebra-1"
    assert print_jobs.requeue_stranded(sessions, redis_conn, older_than_s=0) == []


def test_post_jobs_errors_in_chinese(service):
    """A zh-CN operator reads the printing errors in Chinese."""
    client = service("print", "labeler")
    client.lang = "zh-CN"
    answer = client.post("/api/print/jobs", json={"printer": "nope", "template": "location", "data": {"code": "A"}})
    assert_error(answer, 404, "unknown_printer")
    assert answer.get_json()["error"]["message"] == "没有这个打印机。"


def test_get_openapi_lists_printing_endpoints(service):
    """The print service's OpenAPI document carries every printing path."""
    doc = service("print", "labeler").get("/api/print/openapi.json").get_json()
    for path in ("/api/print/printers", "/api/print/printers/{name}/status", "/api/print/printers/{name}/pause",
                 "/api/print/printers/{name}/resume", "/api/print/printers/{name}/move", "/api/print/jobs",
                 "/api/print/batches", "/api/print/jobs/{job_id}", "/api/print/jobs/{job_id}/cancel",
                 "/api/print/jobs/{job_id}/reprint", "/api/print/jobs/{job_id}/zpl",
                 "/api/print/jobs/{job_id}/preview.png", "/api/print/preview"):
        assert path in doc["paths"], path
