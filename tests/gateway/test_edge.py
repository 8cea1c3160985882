"""The forwarding path: the edge and the Flask door answer alike, and the floor's rules hold on both.

The first tests serve the edge from this process (uvicorn, over real HTTP) in front of an echo
service and send the same request through each door; the last ones talk to the live stack under gunicorn.
"""
import http.client as http_client
import re
import socket
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote, unquote, urlsplit

import orjson
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client

import gateway
from common import auth
from common.auth import Identity, verify
from common.testing import TEST_SECRETS, asgi_peer, assert_error, free_port, http_peer, identity_headers, wait_for
from gateway.domain import sessions
from gateway.edge import Edge

TTL = 3600
STOCK_MANAGER = Identity(badge="EDB_KG001", name="杨帆", roles=("stock_manager",), lang="en", device="HH-03")
PASSED_BACK = ("Content-Type", "Idempotent-Replayed", "Location", "Content-Disposition", "Cache-Control")


class EchoService(BaseHTTPRequestHandler):
    """Answers with what it was sent; the path's last words choose the answer's status and headers."""

    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn answers
    seen: list[dict] = []

    def _answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = {"method": self.command, "target": self.path, "headers": dict(self.headers.items()),
                   "body": body.decode("latin-1")}
        self.seen.append(request)
        path = urlsplit(self.path).path
        chosen = re.search(r"/status/(\d+)", path)
        status = int(chosen.group(1)) if chosen else 200
        data = b"" if status == 204 else orjson.dumps(request)
        self.send_response(status)
        if not path.endswith("/untyped"):
            self.send_header("Content-Type", "application/json")
        if path.endswith("/full"):
            self.send_header("Location", "/api/stock/skus/T%E6%81%A4%20M")
            self.send_header("Content-Disposition", 'attachment; filename="moves.csv"')
            self.send_header("Cache-Control", "private, max-age=60")
            self.send_header("Idempotent-Replayed", "true")
            self.send_header("X-Kept-Inside", "the service's own")
            self.send_header("Set-Cookie", "a=b")
        if path.endswith("/chunked"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
            return
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815 - the names http.server calls

    def log_message(self, *args):
        pass


class EdgeAnswer:
    def __init__(self, raw: http_client.HTTPResponse):
        self.status_code = raw.status
        self.headers = CaseInsensitiveDict(raw.getheaders())
        self.content = raw.read()
        self.text = self.content.decode()

    def json(self):
        return orjson.loads(self.content)


class EdgeClient:
    """Requests to the edge over HTTP, the target as the werkzeug client sends it (the path quoted,
    the query as given) and no headers but those given."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.address = (parts.hostname, parts.port)

    def open(self, path, method="GET", headers=None, data=b""):
        path, _, query = path.partition("?")
        connection = http_client.HTTPConnection(*self.address, timeout=10)
        try:
            connection.request(method, quote(path, safe="/") + (f"?{query}" if query else ""), body=data,
                               headers=headers or {})
            return EdgeAnswer(connection.getresponse())
        finally:
            connection.close()

    def get(self, path, **kwargs):
        return self.open(path, "GET", **kwargs)

    def post(self, path, **kwargs):
        return self.open(path, "POST", **kwargs)


@pytest.fixture
def doors(test_env, clean, redis_conn):
    """(the edge, the Flask door, headers of a logged-in stock manager, the echo's log) for one gateway."""
    server, url = http_peer(EchoService)
    app = gateway.create_app({"service_urls": {"stock": url, "scan": url, "print": url}})
    token = sessions.open_session(redis_conn, STOCK_MANAGER, TTL)
    cache = app.extensions["session_cache"]
    cache.lookup(redis_conn, token, TTL)
    assert wait_for(cache._live.is_set, timeout=5), "session listener never subscribed"
    cache.lookup(redis_conn, token, TTL)
    edge, flask_calls = Edge(app), []

    def flask_door(environ, start_response):
        flask_calls.append(environ["PATH_INFO"])
        return app.wsgi_app(environ, start_response)

    edge.door_app = flask_door
    EchoService.seen = []
    with asgi_peer(edge) as edge_url:
        yield {"fast": EdgeClient(edge_url), "flask": Client(flask_door), "flask_calls": flask_calls,
               "auth": {"Authorization": f"Bearer {token}"}, "seen": EchoService.seen, "app": app}
    server.shutdown()


def answer_of(response):
    """What a client sees, less the request id (each request gets its own) and the server's Date."""
    headers = sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() not in ("x-request-id", "date"))
    body = response.get_data() if hasattr(response, "get_data") else response.content
    return response.status_code, headers, body


SAME_REQUESTS = [
    ("GET", "/api/stock/skus/T恤 50%/full", {}, b""),
    ("GET", "/api/scan/codes/recognize?code=%E4%B8%AD&raw=a|b", {"Accept": "application/json"}, b""),
    ("POST", "/api/stock/moves/full", {"Content-Type": "application/json", "Idempotency-Key": "k-1",
                                        "Accept-Language": "zh-CN"}, '{"sku": "T恤"}'.encode()),
    ("PUT", "/api/print/printers/P1", {"Content-Type": "application/json"}, b"{}"),
    ("PATCH", "/api/print/printers/P1", {"Content-Type": "application/json"}, b"{}"),
    ("DELETE", "/api/stock/skus/A/status/404", {}, b""),
    ("POST", "/api/scan/picks/status/409", {"Content-Type": "application/json"}, b"{}"),
    ("POST", "/api/stock/skus/import", {"Content-Type": "text/csv"}, b"sku,name\nA,a\n"),
    ("GET", "/api/scan/orders/untyped", {}, b""),
    ("GET", "/api/scan/orders/chunked", {}, b""),
    ("DELETE", "/api/print/jobs/7/status/204", {}, b""),
    ("POST", "/api/stock/skus/status/201/full", {"Content-Type": "application/json"}, b'{"sku":"A"}'),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), SAME_REQUESTS)
def test_the_edge_answers_as_the_flask_door(doors, method, path, headers, body, monkeypatch):
    """Same request, same answer: status, body byte for byte, every header; and the service saw the same."""
    # The service echoes the signed identity, which carries the second it was signed: one second for both.
    signed_at, sign = time.time(), auth.sign
    monkeypatch.setattr(auth, "sign", lambda identity, secret, now=None: sign(identity, secret, now=signed_at))
    sent = headers | doors["auth"] | {"X-Request-ID": "hh-07.scan:1"}
    fast = doors["fast"].open(path, method=method, headers=sent, data=body)
    assert doors["flask_calls"] == [], "the edge handed the request to Flask"
    flask = doors["flask"].open(path, method=method, headers=sent, data=body)
    assert answer_of(fast) == answer_of(flask)
    assert fast.headers["X-Request-ID"] == flask.headers["X-Request-ID"] == "hh-07.scan:1"
    first, second = (seen | {"headers": unsigned(seen["headers"])} for seen in doors["seen"])
    assert first == second


def unsigned(headers):
    """A request's headers less the identity's signature, which carries the second it was made."""
    return {name: value for name, value in headers.items() if not name.startswith("X-Identity")}


def test_what_the_service_is_sent(doors):
    """The path quoted, the query kept, the chosen headers, the internal token, the signed operator."""
    sent = doors["auth"] | {"Accept-Language": "zh-CN", "Idempotency-Key": "k-9", "Content-Type": "application/json",
                            "Cookie": "not=forwarded", "X-Request-ID": "bad id!"}
    answer = doors["fast"].post("/api/stock/skus/T恤 50%/full?x=1&y=%20", headers=sent, data=b'{"a":1}')
    assert answer.status_code == 200 and doors["flask_calls"] == []
    seen = doors["seen"][0]
    assert seen["target"] == "/api/stock/skus/T%E6%81%A4%2050%25/full?x=1&y=%20"
    assert unquote(urlsplit(seen["target"]).path) == "/api/stock/skus/T恤 50%/full"
    headers = seen["headers"]
    assert headers["X-Internal-Token"] == TEST_SECRETS["INTERNAL_TOKEN"]
    assert {k: headers[k] for k in ("Accept-Language", "Idempotency-Key", "Content-Type")} == {
        "Accept-Language": "zh-CN", "Idempotency-Key": "k-9", "Content-Type": "application/json"}
    assert "Cookie" not in headers and "Authorization" not in headers
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])  # a bad id is replaced
    assert headers["X-Request-ID"] == answer.headers["X-Request-ID"]
    secret = TEST_SECRETS["IDENTITY_SECRET"]
    assert verify(headers["X-Identity"], headers["X-Identity-Signature"], secret) == STOCK_MANAGER
    assert seen["body"] == '{"a":1}'


def test_only_the_listed_headers_come_back(doors):
    """The service's own headers stay inside; its Cache-Control is kept, else no-store; security headers added."""
    full = doors["fast"].get("/api/stock/skus/A/full", headers=doors["auth"])
    assert full.headers["Location"] == "/api/stock/skus/T%E6%81%A4%20M"
    assert full.headers["Content-Disposition"] == 'attachment; filename="moves.csv"'
    assert full.headers["Idempotent-Replayed"] == "true"
    assert full.headers["Cache-Control"] == "private, max-age=60"
    assert "X-Kept-Inside" not in full.headers and "Set-Cookie" not in full.headers
    plain = doors["fast"].get("/api/stock/skus/A", headers=doors["auth"])
    assert plain.headers["Cache-Control"] == "no-store"
    assert plain.headers["X-Frame-Options"] == "DENY" and plain.headers["X-Content-Type-Options"] == "nosniff"
    assert doors["flask_calls"] == []


HANDED_TO_FLASK = [
    # (method, path, headers, body, status, code)
    ("GET", "/api/stock/skus/A", {"Authorization": ""}, b"", 401, "unauthorized"),
    ("GET", "/api/stock/skus/A", {"Authorization": "Bearer never-issued"}, b"", 401, "session_expired"),
    ("POST", "/api/stock/internal/shipments", None, b"{}", 404, "not_found"),
    ("GET", "/api/ledger/entries", None, b"", 404, "not_found"),
    ("POST", "/api/scan/orders/import", None, b"x" * (2 * 1024 * 1024 + 1), 413, "payload_too_large"),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "status", "code"), HANDED_TO_FLASK)
def test_anything_unusual_gets_the_flask_doors_answer(doors, method, path, headers, body, status, code):
    answer = doors["fast"].open(path, method=method, headers=doors["auth"] if headers is None else headers, data=body)
    assert_error(answer, status, code)
    assert doors["flask_calls"] == [path]
    assert doors["seen"] == []  # nothing reached the service
    assert answer.headers["Cache-Control"] == "no-store" and answer.headers["X-Frame-Options"] == "DENY"


def test_a_token_read_from_redis_a_moment_ago_takes_the_fast_lane(doors, redis_conn):
    """A new login goes through Flask once (which reads Redis and fills the cache), then takes the lane."""
    token = sessions.open_session(redis_conn, STOCK_MANAGER, TTL)
    for _ in range(2):
        assert doors["fast"].get("/api/stock/skus/A", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert doors["flask_calls"] == ["/api/stock/skus/A"]


def test_a_service_that_cannot_answer_is_a_503_naming_it(doors, redis_conn):
    """The edge sends nothing twice: it hands the failure to Flask, which answers the api.md 503.

    Only the edge's connection is broken: had the Flask door forwarded again, the echo would have seen it.
    """
    forwarding = doors["app"].extensions["proxy"]
    forwarding.upstreams["print"].address = ("127.0.0.1", free_port())
    answer = doors["fast"].post("/api/print/jobs", headers=doors["auth"] | {"X-Request-ID": "hh-1"}, data=b"{}")
    details = assert_error(answer, 503, "service_unavailable")
    assert details["service"] == "print"
    assert answer.headers["X-Request-ID"] == "hh-1"
    assert doors["flask_calls"] == ["/api/print/jobs"]
    assert doors["seen"] == []


def test_a_request_cut_off_before_its_body_ended_is_not_forwarded(doors):
    """A handheld that loses the network mid-request: the service is sent nothing, the edge serves on."""
    edge = doors["fast"]
    with socket.create_connection(edge.address, timeout=5) as cut:
        cut.sendall(b"POST /api/scan/picks/7/scan HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Authorization: " + doors["auth"]["Authorization"].encode() + b"\r\n"
                    b"Content-Length: 40\r\n\r\n{\"code\": \"69")
    assert edge.get("/api/stock/skus/A", headers=doors["auth"]).status_code == 200
    assert [seen["target"] for seen in doors["seen"]] == ["/api/stock/skus/A"]


def test_a_logout_is_honoured_at_once(doors, redis_conn):
    """The edge trusts only what the cache holds, and a logout empties it before it answers."""
    auth = doors["auth"]
    assert doors["fast"].get("/api/stock/skus/A", headers=auth).status_code == 200
    assert doors["fast"].post("/api/auth/logout", headers=auth).status_code == 200
    assert_error(doors["fast"].get("/api/stock/skus/A", headers=auth), 401, "session_expired")
    assert len(doors["seen"]) == 1


def requests_counted(metrics: str, name: str = "wms_http_requests_total", **labels: str) -> float:
    """A counter of the gateway with these labels, from a /metrics page."""
    wanted = labels | {"service": "gateway"}
    return sum(sample.value for family in text_string_to_metric_families(metrics)
               for sample in family.samples
               if sample.name == name and sample.labels == wanted)


def test_forwarded_requests_are_counted_by_service(doors):
    def count(status):
        metrics = doors["fast"].get("/metrics").text
        return requests_counted(metrics, method="POST", endpoint="/api/scan/<path:rest>", status=str(status))

    def cpu():
        metrics = doors["fast"].get("/metrics").text
        return requests_counted(metrics, "wms_http_request_cpu_seconds_total", endpoint="/api/scan/<path:rest>")

    before_ok, before_conflict, before_cpu = count(201), count(409), cpu()
    for path in ("/api/scan/picks/status/201", "/api/scan/picks/status/201", "/api/scan/picks/status/409"):
        doors["fast"].post(path, headers=doors["auth"], data=b"{}")
    assert [path for path in doors["flask_calls"] if path != "/metrics"] == []
    assert (count(201) - before_ok, count(409) - before_conflict) == (2, 1)
    assert cpu() > before_cpu  # the edge's own CPU, counted under the same endpoint


def test_an_error_answer_is_logged_with_its_request_id(doors, caplog):
    with caplog.at_level("INFO", logger="wms.gateway.access"):
        doors["fast"].get("/api/scan/picks/status/409", headers=doors["auth"] | {"X-Request-ID": "hh-2"})
        doors["fast"].get("/api/scan/picks/1", headers=doors["auth"])
    assert [(r.status, r.request_id, r.operator, r.path) for r in caplog.records
            if r.name == "wms.gateway.access"] == [
        (409, "hh-2", "EDB_KG001", "/api/scan/picks/status/409")]


# The live stack: gunicorn in front of the real services.


@pytest.fixture
def manager(floor):
    http = floor.login("stock_manager")
    assert http.get(floor.url("/api/auth/me"), timeout=5).status_code == 200  # the gateway now holds the token
    return http


@pytest.mark.live
def test_live_a_scanned_code_with_chinese_spaces_and_percent(manager, floor):
    code = "T恤 红 50% M"
    answer = manager.get(floor.url("/api/stock/skus/" + quote(code)), timeout=5)
    assert assert_error(answer, 404, "unknown_sku") == {"sku": code}
    created = manager.post(floor.url("/api/stock/skus"), json={"sku": "TS 红-50%", "name": "T恤"}, timeout=5)
    assert created.status_code == 201, created.text
    read = manager.get(floor.url("/api/stock/skus/" + quote("TS 红-50%")), timeout=5)
    assert read.status_code == 200 and read.json()["name"] == "T恤"
    assert read.headers["Cache-Control"] == "no-store"


@pytest.mark.live
def test_live_the_body_is_the_services_byte_for_byte(manager, floor, live):
    manager.post(floor.url("/api/stock/skus"), json={"sku": "BAG-1", "name": "袋子"}, timeout=5)
    through = manager.get(floor.url("/api/stock/skus/BAG-1"), timeout=5)
    direct = requests.get(live.url("stock") + "/api/stock/skus/BAG-1", headers=identity_headers(), timeout=5)
    assert through.status_code == direct.status_code == 200
    assert through.content == direct.content
    assert through.headers["Content-Type"] == direct.headers["Content-Type"]


@pytest.mark.live
def test_live_request_id_round_trip(manager, floor):
    given = manager.get(floor.url("/api/stock/skus/NOPE"), headers={"X-Request-ID": "HH-07:scan.42"}, timeout=5)
    assert given.headers["X-Request-ID"] == "HH-07:scan.42"
    made = manager.get(floor.url("/api/stock/skus/NOPE"), headers={"X-Request-ID": "no spaces allowed"}, timeout=5)
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])


@pytest.mark.live
def test_live_refusals(manager, floor):
    assert_error(manager.post(floor.url("/api/stock/internal/shipments"), json={}, timeout=5), 404, "not_found")
    assert_error(manager.get(floor.url("/api/ledger/x"), timeout=5), 404, "not_found")
    too_big = manager.post(floor.url("/api/stock/skus/import"), data=b"x" * (2 * 1024 * 1024 + 1),
                           headers={"Content-Type": "text/csv"}, timeout=10)
    assert_error(too_big, 413, "payload_too_large")
    assert_error(requests.get(floor.url("/api/stock/skus/A"), timeout=5), 401, "unauthorized")


@pytest.mark.live
def test_live_logout_and_deactivation_are_honoured_at_once(floor):
    picker = floor.login("picker", badge="EDB_PH777")
    admin = floor.login("admin", badge="EDB_AD777")
    other = floor.login("picker", badge="EDB_PH778")
    for http in (picker, other):
        assert_error(http.get(floor.url("/api/stock/skus/NOPE"), timeout=5), 404, "unknown_sku")
    assert picker.post(floor.url("/api/auth/logout"), timeout=5).status_code == 200
    assert_error(picker.get(floor.url("/api/stock/skus/NOPE"), timeout=5), 401, "session_expired")
    deactivated = admin.patch(floor.url("/api/auth/operators/EDB_PH778"), json={"active": False}, timeout=5)
    assert deactivated.status_code == 200, deactivated.text
    assert_error(other.get(floor.url("/api/stock/skus/NOPE"), timeout=5), 401, "session_expired")


@pytest.mark.live
def test_live_a_stopped_service_is_a_503_naming_it(manager, floor, live):
    live.stop("print")
    try:
        for _ in range(2):
            details = assert_error(manager.get(floor.url("/api/print/printers"), timeout=10), 503,
                                   "service_unavailable")
            assert details["service"] == "print"
    finally:
        live.start("print")
    assert manager.get(floor.url("/api/print/printers"), timeout=10).status_code in (200, 403)


@pytest.mark.live
def test_live_forwarded_requests_are_counted(manager, floor):
    def count():
        metrics = requests.get(floor.url("/metrics"), timeout=5).text
        return requests_counted(metrics, method="GET", endpoint="/api/stock/<path:rest>", status="404")

    before = count()
    for _ in range(3):
        manager.get(floor.url("/api/stock/skus/NOPE"), timeout=5)
    assert count() - before == 3
