"""The load generator: simulated handhelds on asyncio streams, one HTTP/1.1 keep-alive connection each.

Written on the standard library's streams rather than aiohttp or httpx because it does the least
work per request (no cookie jar, no header objects, no redirects): what it spends is measured and
reported (`Run.cpu_share`), so a slow generator cannot pass for a slow server.

    stats = Stats()
    hands = [Handheld(url, token, device, stats) for ...]
    run = await drive(hands, scenario, seconds=10)     # scenario(handheld, deadline) -> None
    stats.summary("move", run.elapsed)

Closed loop by default: a handheld sends its next request as soon as the answer came, which
measures saturation throughput. Given a `Pace`, a handheld is open loop instead: its requests are
due on a fixed schedule whatever the server does, and each latency runs from the request's due
time, so a queue in front of a slow server shows in the latency instead of hiding in a lower rate
(coordinated omission).
"""
from __future__ import annotations

import asyncio
import itertools
import math
import resource
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

REPLAYED = "idempotent-replayed"
NO_ANSWER = 0   # the status recorded when the connection failed before an answer came
# Answers after which a POST may or may not have been done (the gateway stopped waiting for the
# service, or no answer came): sent again with the same key (Handheld._settled).
UNKNOWN_FATE = frozenset({502, 503, 504, NO_ANSWER})
RESEND_TRIES = 10


class ProtocolError(RuntimeError):
    """The server answered something this client cannot read as HTTP/1.1."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class Connection:
    """One keep-alive connection; reconnects when the server closed it between requests."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Answer:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            try:
                self.writer.write(raw)
                return await self._read()
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                await self.close()
                # A keep-alive connection the server dropped while idle: send once more on a new one.
                if attempt == 2:
                    raise ProtocolError(f"connection lost: {exc!r}") from exc
        raise ProtocolError("unreachable")

    async def _read(self) -> Answer:
        status_line = await self.reader.readuntil(b"\r\n")
        if not status_line.strip():
            raise asyncio.IncompleteReadError(status_line, None)
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunks()
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, headers, body)

    async def _chunks(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


class Stats:
    """Latency and status of every request, by label (e.g. `pick_scan`)."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.started: dict[str, list[float]] = defaultdict(list)   # when each was due (monotonic), as latencies
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.refusals: dict[str, Counter] = defaultdict(Counter)   # label → error code of 4xx/5xx answers

    def add(self, label: str, seconds: float, status: int) -> None:
        self.latencies[label].append(seconds)
        self.started[label].append(time.monotonic() - seconds)
        self.statuses[label][status] += 1

    def ok(self, label: str) -> int:
        return sum(n for status, n in self.statuses[label].items() if 200 <= status < 300)

    def summary(self, label: str, elapsed: float) -> dict[str, Any]:
        """count, 2xx, per second, p50/p95/p99/max in ms and the non-2xx statuses of one label."""
        return summarize(label, self.latencies[label], self.statuses[label], elapsed)

    def overall(self, elapsed: float, labels: list[str] | None = None) -> dict[str, Any]:
        """The same over several labels together (every label when none are given)."""
        labels = list(self.latencies) if labels is None else labels
        statuses: Counter = Counter()
        for label in labels:
            statuses.update(self.statuses[label])
        return summarize("overall", [t for label in labels for t in self.latencies[label]], statuses, elapsed)


    def latencies_since(self, since: float, labels: list[str]) -> list[float]:
        """The latencies of the requests due at `since` or later (monotonic), over `labels`."""
        return [latency for label in labels
                for latency, due in zip(self.latencies[label], self.started[label], strict=True) if due >= since]


def summarize(label: str, latencies: list[float], statuses: Counter, elapsed: float) -> dict[str, Any]:
    times = sorted(latencies)
    count = len(times)
    return {"label": label, "count": count, "ok": sum(n for s, n in statuses.items() if 200 <= s < 300),
            "per_second": count / elapsed if elapsed else 0.0,
            "p50_ms": percentile(times, 50) * 1000, "p95_ms": percentile(times, 95) * 1000,
            "p99_ms": percentile(times, 99) * 1000, "max_ms": (times[-1] if times else 0.0) * 1000,
            "errors": {s: n for s, n in statuses.items() if not 200 <= s < 300}}


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class ShiftOver(Exception):  # noqa: N818 - not an error: the end of a paced run
    """A paced handheld reached the end of its run: it stops wherever it is in its work."""


class Pace:
    """Open loop: a handheld's k-th request is due at `first + k × period`, whatever the answers did.

    `late` counts requests whose due time came while the previous answer was still awaited (the
    handheld could not keep its schedule: the server is behind); `lags` are how late the generator
    itself woke an idle handheld (the generator is behind). Both are reported: only the first
    is the server's doing.
    """

    def __init__(self, first: float, period: float, end: float):
        self.first, self.period, self.end = first, period, end
        self.sent = 0
        self.late = 0
        self.lags: list[float] = []
        self.over = False   # the run's end stopped it (not its work running out)

    def due(self) -> float:
        return self.first + self.sent * self.period

    async def turn(self) -> float:
        """Wait for the next request's due time and return it; ShiftOver once the run is over."""
        due = self.due()
        now = time.monotonic()
        if due >= self.end or now >= self.end:
            self.over = True
            raise ShiftOver
        if due > now:
            await asyncio.sleep(due - now)
            self.lags.append(max(0.0, time.monotonic() - due))
        else:
            self.late += 1
        self.sent += 1
        return due

    def missed(self) -> int:
        """Requests due before the end that were never sent (the handheld was still behind)."""
        if not self.over:
            return 0
        # Less a hair: end and due are sums of floats, and a due time exactly at the end is not due.
        return max(0, math.ceil((self.end - self.due()) / self.period - 1e-9))


class Handheld:
    """One simulated handheld: its operator's token, its device id, its own connection."""

    _keys = itertools.count(1)

    def __init__(self, base_url: str, token: str | None, device: str, stats: Stats):
        self.conn = Connection(base_url)
        self.device = device
        self.stats = stats
        self.headers = {"X-Device": device, "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.sent: Counter = Counter()   # requests answered 2xx, by label, replays excluded
        self.pace: Pace | None = None    # None: closed loop

    async def call(self, label: str, method: str, path: str, body: bytes = b"",
                   content_type: str = "application/json", key: str | None = None, *,
                   resend_of: str | None = None) -> Answer:
        """One request, on the handheld's schedule; `resend_of`: sent again at once, for that label."""
        headers = dict(self.headers)
        if body:
            headers["Content-Type"] = content_type
        if key:
            headers["Idempotency-Key"] = key
        paced = self.pace is not None and resend_of is None
        started = await self.pace.turn() if paced else time.monotonic()
        try:
            answer = await self.conn.request(method, path, headers, body)
        except ProtocolError:
            self.stats.add(label, time.monotonic() - started, NO_ANSWER)
            raise
        self.stats.add(label, time.monotonic() - started, answer.status)
        if answer.status >= 400:
            self.stats.refusals[label][_error_code(answer)] += 1
        if 200 <= answer.status < 300 and (resend_of or answer.headers.get(REPLAYED) != "true"):
            self.sent[resend_of or label] += 1  # a resend's answer is the request's only one, replayed or not
        return answer

    async def get(self, label: str, path: str) -> Answer:
        return await self.call(label, "GET", path)

    async def post(self, label: str, path: str, payload: Any = None, *, replay: bool = False) -> Answer:
        """A POST with a new Idempotency-Key, as the handhelds send; `replay` sends it a second time."""
        key = f"{self.device}-{next(self._keys)}-{uuid.uuid4().hex[:8]}"
        body = orjson.dumps(payload if payload is not None else {})
        try:
            answer = await self.call(label, "POST", path, body, key=key)
        except ProtocolError:
            answer = Answer(NO_ANSWER, {}, b"")
        answer = await self._settled(label, path, body, key, answer)
        if replay:
            try:
                again = await self.call(label + "_replay", "POST", path, body, key=key)
            except (ShiftOver, ProtocolError):
                return answer   # the run ended, or the resend found no answer: the first answer stands
            if again.status != answer.status or (answer.status < 400 and again.headers.get(REPLAYED) != "true"):
                self.stats.add(label + "_replay_mismatch", 0.0, again.status)
        return answer

    async def _settled(self, label: str, path: str, body: bytes, key: str, answer: Answer) -> Answer:
        """A POST whose fate the answer left unknown, sent again with its key until the fate is known.

        A gateway that stopped waiting for a busy service answers 502/503/504 while the service may
        still do the work; a dropped connection says nothing either. The handheld's outbox
        (gateway/ui/static/js/outbox.js) sends such a POST again with the same key, and its answer,
        a replay when the first try had landed, is the request's one answer; so does this one.
        """
        for _ in range(RESEND_TRIES):
            if answer.status not in UNKNOWN_FATE:
                return answer
            try:
                answer = await self.call(label + "_resent", "POST", path, body, key=key, resend_of=label)
            except ProtocolError:
                answer = Answer(NO_ANSWER, {}, b"")
        if answer.status == NO_ANSWER:
            raise ProtocolError(f"{label}: no answer after {RESEND_TRIES} resends")
        return answer

    async def close(self) -> None:
        await self.conn.close()


@dataclass
class Run:
    """One driven phase: wall time, and the generator's own CPU over it (share of one core)."""

    elapsed: float
    cpu_seconds: float

    @property
    def cpu_share(self) -> float:
        return self.cpu_seconds / self.elapsed if self.elapsed else 0.0


Scenario = Callable[[Handheld, float], Awaitable[None]]


async def drive(handhelds: list[Handheld], scenario: Scenario, seconds: float) -> Run:
    """Run `scenario` on every handheld at once; each stops itself at the deadline it is given."""
    cpu0 = own_cpu()
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(scenario(h, deadline) for h in handhelds))
    return Run(time.perf_counter() - started, own_cpu() - cpu0)


def repeat(label: str, method: str, path: str, payload: Callable[[Handheld], Any] | None = None) -> Scenario:
    """A scenario sending the same kind of request back to back until the deadline."""

    async def scenario(hand: Handheld, deadline: float) -> None:
        while time.monotonic() < deadline:
            if method == "POST":
                await hand.post(label, path, payload(hand) if payload else {})
            else:
                await hand.get(label, path)

    return scenario


def _error_code(answer: Answer) -> str:
    """The api.md error code of a refusal, or its status when the body is not an error body."""
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return str(answer.status)


def own_cpu() -> float:
    """CPU seconds this process (the generator) has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
