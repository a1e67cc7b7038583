"""An open-loop HTTP/1.1 load generator for the (d) figure, run in a process of its own.

One asyncio loop (no Django) writing raw requests on keep-alive connections: 500 req/s costs it a few
percent of a core (16 threads under the bench's GIL could only send 262 req/s). Request i is due at
t0 + i/rate; its latency runs from then to the answer's last byte, and the client's own send lag is
reported apart, so neither a slow server nor a busy client can hide. The spec comes on stdin (it holds
a bearer token); one JSON object of figures goes to stdout.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import resource
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any

# --- statistics (pure) -------------------------------------------------------------------------------


def due_offsets(rate: float, seconds: float) -> list[float]:
    """When each request is due, in seconds from the start: a fixed schedule of round(rate × seconds)."""
    if rate <= 0 or seconds <= 0:
        return []
    return [i / rate for i in range(round(rate * seconds))]


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list: the smallest value with at least p % at or below
    it (p99 of 1,000 values is the 990th). Nearest rank never interpolates below an observed value."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(round(p / 100 * len(ordered), 9)))  # round: 99.9 % of 1,000 is 999, not 999.0…01
    return ordered[min(rank, len(ordered)) - 1]


def summarize(
    latencies: list[float],
    statuses: dict[int, int],
    *,
    offered_rate: float,
    span: float,
    send_lags: list[float] | None = None,
) -> dict[str, Any]:
    """The figures of one run. `latencies` and `send_lags` in seconds (reported in ms); `span` is the time
    from the first request's due time to the last answer; achieved counts 2xx answers only."""
    ordered = sorted(latencies)
    lags = sorted(send_lags or [])
    ok = sum(n for code, n in statuses.items() if 200 <= code < 300)
    ms = 1000.0
    return {
        "offered_rate": offered_rate,
        "requests": sum(statuses.values()),
        "ok": ok,
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
        "span_s": span,
        "achieved_rate": ok / span if span > 0 else 0.0,
        "latency_ms": {
            "p50": percentile(ordered, 50) * ms,
            "p90": percentile(ordered, 90) * ms,
            "p99": percentile(ordered, 99) * ms,
            "p99_9": percentile(ordered, 99.9) * ms,
            "max": (ordered[-1] if ordered else 0.0) * ms,
            "mean": (sum(ordered) / len(ordered) if ordered else 0.0) * ms,
        },
        "send_lag_ms": {
            "p50": percentile(lags, 50) * ms,
            "p99": percentile(lags, 99) * ms,
            "max": (lags[-1] if lags else 0.0) * ms,
        },
    }


def parse_head(head: bytes) -> tuple[int, int | None, bool]:
    """(status, Content-Length or None, server closes) from a response head without its blank line."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    status = int(parts[1])
    length: int | None = None
    close = parts[0] == b"HTTP/1.0"
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection":
            token = value.strip().lower()
            close = token == b"close" or (close and token != b"keep-alive")
    return status, length, close


# --- the client --------------------------------------------------------------------------------------


class Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bool]] | None = None
        self.closed = False
        self.requests = 0  # requests written on this connection so far
        self.received = False  # bytes of the current answer have arrived
        self.sent_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received = True
        self.buffer += data
        self._complete()

    def eof_received(self) -> bool | None:
        self._fail(ConnectionError("closed by the server"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"connection lost: {exc}" if exc else "connection lost"))

    def _fail(self, exc: BaseException) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    def _complete(self) -> None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None or self.waiter.done():
            return
        try:
            status, length, close = parse_head(bytes(self.buffer[:end]))
        except ValueError as exc:
            self.waiter.set_exception(exc)
            return
        if length is None:  # a body without a length runs to the end of the connection: not expected here
            self.waiter.set_exception(ValueError("response without Content-Length"))
            return
        if len(self.buffer) < end + 4 + length:
            return
        del self.buffer[: end + 4 + length]
        self.waiter.set_result((status, close))

    async def request(self, payload: bytes) -> tuple[int, bool]:
        """Write one request and wait for its answer: (status, the server closes the connection)."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        self.received = False
        self.requests += 1
        self.sent_at = loop.time()
        self.transport.write(payload)
        return await self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


@dataclass
class Spec:
    port: int
    rate: float
    seconds: float
    requests: list[str]
    host: str = "127.0.0.1"
    warmup: float = 2.0
    connections: int = 8  # opened before the run
    max_connections: int = 64
    timeout: float = 10.0
    seed: int = 7


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    send_lags: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    last_answer: float = 0.0


class LoadGenerator:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.payloads = [r.encode("latin-1") for r in spec.requests]
        self.idle: deque[Connection] = deque()
        self.open = 0
        self.opened = 0
        self.waiting: deque[asyncio.Future[Connection]] = deque()
        self.rng = random.Random(spec.seed)
        self.background: set[asyncio.Task[None]] = set()

    async def _connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        self.open += 1
        self.opened += 1
        try:
            _transport, conn = await loop.create_connection(Connection, self.spec.host, self.spec.port)
        except BaseException:
            self.open -= 1
            raise
        return conn

    async def _acquire(self) -> Connection:
        while self.idle:
            conn = self.idle.popleft()
            if not conn.closed:
                return conn
            self.open -= 1
        if self.open < self.spec.max_connections:
            return await self._connect()
        waiter: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        return await waiter

    def _release(self, conn: Connection, reusable: bool) -> None:
        if not reusable or conn.closed:
            conn.close()
            self.open -= 1
            if self.waiting:  # a request waits for a connection: open a fresh one for it
                task = asyncio.ensure_future(self._connect_for(self.waiting.popleft()))
                self.background.add(task)
                task.add_done_callback(self.background.discard)
            return
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self.idle.append(conn)

    async def _connect_for(self, waiter: asyncio.Future[Connection]) -> None:
        try:
            conn = await self._connect()
        except OSError as exc:
            if not waiter.done():
                waiter.set_exception(exc)
            return
        if waiter.done():  # its request timed out meanwhile
            self._release(conn, True)
        else:
            waiter.set_result(conn)

    async def _send(self, payload: bytes) -> tuple[int, float]:
        """(status, when the request was written). A kept-alive connection the server closed just before
        the request went out gave no answer: the request is sent again, once, on a new connection."""
        conn = await self._acquire()
        for attempt in (1, 2):
            reused = conn.requests > 0
            try:
                status, close = await conn.request(payload)
            except ConnectionError:
                self._release(conn, False)
                if attempt == 2 or not reused or conn.received:
                    raise
                conn = await self._connect()
                continue
            except BaseException:
                self._release(conn, False)
                raise
            self._release(conn, not close)
            return status, conn.sent_at
        raise AssertionError("unreachable")

    async def _one(self, payload: bytes, due: float, run: Run | None) -> None:
        loop = asyncio.get_running_loop()
        sent = 0.0
        try:
            async with asyncio.timeout(self.spec.timeout):
                status, sent = await self._send(payload)
        except (OSError, TimeoutError, ValueError):
            status = 0
        if run is not None:
            now = loop.time()
            run.send_lags.append(max(0.0, (sent or now) - due))
            run.latencies.append(now - due)
            run.statuses[status] = run.statuses.get(status, 0) + 1
            run.last_answer = max(run.last_answer, now)

    async def _drive(self, seconds: float, run: Run | None) -> tuple[float, Run | None]:
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task[None]] = set()
        start = loop.time() + 0.01
        for offset in due_offsets(self.spec.rate, seconds):
            due = start + offset
            pause = due - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
            payload = self.payloads[self.rng.randrange(len(self.payloads))]
            task = loop.create_task(self._one(payload, due, run))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=self.spec.timeout + 1)
        return start, run

    async def run(self) -> dict[str, Any]:
        for _ in range(self.spec.connections):
            self.idle.append(await self._connect())
        if self.spec.warmup > 0:
            await self._drive(self.spec.warmup, None)
        before = resource.getrusage(resource.RUSAGE_SELF)
        start, run = await self._drive(self.spec.seconds, Run())
        after = resource.getrusage(resource.RUSAGE_SELF)
        assert run is not None
        for conn in self.idle:
            conn.close()
        span = run.last_answer - start
        result = summarize(
            run.latencies, run.statuses, offered_rate=self.spec.rate, span=span, send_lags=run.send_lags
        )
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        result |= {
            "seconds": self.spec.seconds,
            "connections_opened": self.opened,
            "max_connections": self.spec.max_connections,
            "client_cpu_s": cpu,
            "client_cpu_percent": 100 * cpu / span if span > 0 else 0.0,
        }
        return result


def run(spec: Spec) -> dict[str, Any]:
    return asyncio.run(LoadGenerator(spec).run())


def main() -> None:
    spec = Spec(**json.loads(sys.stdin.read()))
    json.dump(run(spec), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
