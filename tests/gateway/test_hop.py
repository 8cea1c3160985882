"""The keep-alive hops to a service: framing read right, a stale connection retried only when safe.

Each rule holds for both: `Hop`, a thread's blocking connection (the Flask door, ServiceClient), and
`Upstream`, the edge's connections on an event loop (uvloop, as the gateway runs it, in a thread here).
"""
import asyncio
import socket
import threading

import pytest
import uvloop

from common.errors import ServiceUnavailableError
from common.http import Hop
from common.testing import free_port
from gateway import upstream
from gateway.upstream import Upstream

CLOSE = "then close"
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"


class ScriptedService:
    """A socket server answering each request with what `script(connection_no, request)` returns.

    None closes the connection without an answer, as a service does with a keep-alive connection it
    dropped just as the next request arrived; (answer, CLOSE) answers, then closes while idle.
    """

    def __init__(self, script):
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn, number):
        reader = conn.makefile("rb")
        with conn, reader:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = next((int(h.split(b":")[1]) for h in head.split(b"\r\n")
                               if h.lower().startswith(b"content-length:")), 0)
                request = head + reader.read(length)
                self.requests.append(request)
                answer = self.script(number, request)
                if answer is None:
                    return
                if isinstance(answer, tuple):
                    conn.sendall(answer[0])
                    return
                conn.sendall(answer)

    def close(self):
        self.listener.close()


class OnLoop:
    """An Upstream driven from the test's thread, as a Hop is: each send runs on the loop's thread."""

    def __init__(self, loop, base_url, **kwargs):
        self.loop = loop
        self.upstream = Upstream(base_url, **kwargs)

    def send(self, *args, **kwargs):
        return asyncio.run_coroutine_threadsafe(self.upstream.send(*args, **kwargs), self.loop).result(timeout=10)


@pytest.fixture(scope="module")
def loop():
    running = uvloop.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(timeout=5)


@pytest.fixture(params=["Hop", "Upstream"])
def make_hop(request, loop):
    """Hop or Upstream, called alike: make_hop(url, name=..., timeout=...).send(method, path, ...)."""
    if request.param == "Hop":
        return Hop
    return lambda url, **kwargs: OnLoop(loop, url, **kwargs)


@pytest.fixture
def scripted():
    made = []

    def make(script):
        service = ScriptedService(script)
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


def test_one_connection_carries_many_requests(make_hop, scripted):
    service = scripted(lambda number, request: OK)
    hop = make_hop(service.url, name="scan", timeout=2)
    for _ in range(3):
        answer = hop.send("GET", "/api/scan/_bench/bare", headers={"Accept": "application/json"})
        assert (answer.status, answer.data, answer.headers["content-type"]) == (200, b'{"ok":true}', "application/json")
    assert service.connections == 1
    assert service.requests[0].startswith(b"GET /api/scan/_bench/bare HTTP/1.1\r\nHost: 127.0.0.1:")


def test_the_request_goes_out_with_its_body_and_length(make_hop, scripted):
    service = scripted(lambda number, request: OK)
    make_hop(service.url + "/prefix", name="scan").send("POST", "/api/scan/picks", body="拣货".encode(),
                                                  headers={"Content-Type": "application/json"})
    head, _, body = service.requests[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /prefix/api/scan/picks HTTP/1.1\r\n")
    assert b"\r\nContent-Length: 6" in head and b"\r\nContent-Type: application/json" in head
    assert body == "拣货".encode()


def test_chunked_and_repeated_headers_are_read(make_hop, scripted):
    answer = (b"HTTP/1.1 201 CREATED\r\nTransfer-Encoding: chunked\r\nCache-Control: private\r\n"
              b"Cache-Control: max-age=0\r\n\r\n4\r\nWiki\r\n6;x=1\r\npedia \r\n0\r\nTrailer: t\r\n\r\n")
    service = scripted(lambda number, request: answer)
    hop = make_hop(service.url, name="stock")
    got = hop.send("GET", "/x", headers={})
    assert (got.status, got.data, got.headers["cache-control"]) == (201, b"Wikipedia ", "private, max-age=0")
    hop.send("GET", "/x", headers={})
    assert service.connections == 1  # the chunked body was read to its end: the connection stays usable


def test_an_answer_that_ends_with_the_connection(make_hop, scripted):
    """HTTP/1.0 without a length: the body is what comes until the service closes."""
    service = scripted(lambda number, request: (b"HTTP/1.0 200 OK\r\nContent-Type: text/csv\r\n\r\na,b\n1,2\n", CLOSE))
    hop = make_hop(service.url, name="stock")
    for _ in range(2):
        assert hop.send("GET", "/x", headers={}).data == b"a,b\n1,2\n"
    assert service.connections == 2


def test_connection_close_opens_a_new_one(make_hop, scripted):
    service = scripted(lambda number, request: OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
    hop = make_hop(service.url, name="stock")
    hop.send("GET", "/x", headers={})
    hop.send("GET", "/x", headers={})
    assert service.connections == 2


def test_a_service_that_closed_an_idle_connection_is_not_asked_on_it(make_hop, scripted):
    """The service's close reached us while the connection was idle: a new one is opened, nothing is lost."""
    service = scripted(lambda number, request: (OK, CLOSE))
    hop = make_hop(service.url, name="stock")
    hop.send("POST", "/x", body=b"{}", headers={})
    threading.Event().wait(0.2)  # the service's FIN arrives while the connection is idle
    assert hop.send("POST", "/x", body=b"{}", headers={}).status == 200
    assert len(service.requests) == 2 and service.connections == 2


def test_a_dropped_keep_alive_connection_repeats_a_get(make_hop, scripted):
    """The second request meets a connection the service dropped: a GET is safe to send again."""
    service = scripted(lambda number, request: None if number == 1 and len(service.requests) == 2 else OK)
    hop = make_hop(service.url, name="stock")
    hop.send("GET", "/x", headers={})
    assert hop.send("GET", "/x", headers={}).status == 200
    assert len(service.requests) == 3 and service.connections == 2


def test_a_dropped_keep_alive_connection_never_repeats_a_post(make_hop, scripted):
    """A POST that may have reached the service is not sent twice: the caller gets a 503 naming the service."""
    service = scripted(lambda number, request: None if number == 1 and len(service.requests) == 2 else OK)
    hop = make_hop(service.url, name="stock")
    hop.send("POST", "/x", body=b"{}", headers={})
    with pytest.raises(ServiceUnavailableError) as exc:
        hop.send("POST", "/x", body=b"{}", headers={})
    assert exc.value.details == {"service": "stock", "reason": "ConnectionResetError"}
    assert len(service.requests) == 2


def test_a_slow_service_times_out_once(make_hop, scripted):
    """A timeout is not a stale connection: even a GET is not repeated (the caller would wait twice)."""
    gate = threading.Event()
    service = scripted(lambda number, request: OK if len(service.requests) == 1 or gate.wait(2) else OK)
    hop = make_hop(service.url, name="scan", timeout=0.2)
    hop.send("GET", "/x", headers={})
    with pytest.raises(ServiceUnavailableError) as exc:
        hop.send("GET", "/x", headers={})
    gate.set()
    assert exc.value.details == {"service": "scan", "reason": "TimeoutError"}
    assert len(service.requests) == 2


def test_nobody_listening_is_a_503_naming_the_service(make_hop):
    with pytest.raises(ServiceUnavailableError) as exc:
        make_hop(f"http://127.0.0.1:{free_port()}", name="print", timeout=1).send("POST", "/x", body=b"", headers={})
    assert exc.value.details == {"service": "print", "reason": "ConnectionRefusedError"}


def test_a_refused_connection_is_tried_again(make_hop, scripted, monkeypatch):
    """Nothing was sent when the connection could not be made: trying again is safe, even for a POST."""
    service = scripted(lambda number, request: OK)
    calls = []

    def refusing_once(real):
        def connect(*args, **kwargs):
            calls.append(args)
            if len(calls) == 1:
                raise ConnectionRefusedError()
            return real(*args, **kwargs)
        return connect

    monkeypatch.setattr(socket, "create_connection", refusing_once(socket.create_connection))
    monkeypatch.setattr(upstream, "open_link", refusing_once(upstream.open_link))
    assert make_hop(service.url, name="stock").send("POST", "/x", body=b"{}", headers={}).status == 200
    assert len(calls) == 2 and len(service.requests) == 1


# The edge's connections only: many requests in flight at once on one loop.


def test_requests_in_flight_together_each_get_their_own_answer(scripted, loop):
    """Forty requests at once: as many connections as needed, no answer given to another's request."""
    def echo_path(number, request):
        path = request.split(b" ")[1]
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(path), path)

    service = scripted(echo_path)
    edge = Upstream(service.url, name="scan", max_idle=8)

    async def burst():
        return await asyncio.gather(*(edge.send("GET", f"/scan/{n}", headers={}) for n in range(40)))

    for _ in range(2):
        answers = asyncio.run_coroutine_threadsafe(burst(), loop).result(timeout=20)
        assert [answer.data for answer in answers] == [f"/scan/{n}".encode() for n in range(40)]
    assert len(service.requests) == 80
    # All forty start before any answer: forty connections; eight kept idle, reused by the second burst.
    assert service.connections == 40 + 32
    assert len(edge._idle) <= 8


def test_a_late_answer_is_never_read_as_the_next_ones(scripted, loop):
    """A request that timed out leaves its connection closed: the next request gets its own answer."""
    gate = threading.Event()

    def slow_first(number, request):
        if number == 1:
            gate.wait(2)
            return b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate"
        return OK

    service = scripted(slow_first)
    edge = OnLoop(loop, service.url, name="scan", timeout=0.2)
    with pytest.raises(ServiceUnavailableError):
        edge.send("GET", "/x", headers={})
    gate.set()
    assert edge.send("GET", "/x", headers={}).data == b'{"ok":true}'
    assert service.connections == 2
