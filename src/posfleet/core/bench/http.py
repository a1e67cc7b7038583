"""(d) The answer over HTTP: a real server in a subprocess, driven at a fixed rate.

Requests are sent on a fixed schedule (open loop: request i is due at t0 + i/rate, whether or not the
server has answered the previous ones), from a pool of threads with keep-alive connections, so a slow
server shows up as latency instead of silently lowering the offered load. Latency is measured from the
time each request was due, which counts any time it waited for a free client thread too.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from posfleet.accounts.models import ApiToken
from posfleet.core.bench.data import BenchData
from posfleet.core.bench.report import Report


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(port: int, workers: int) -> tuple[list[str], str]:
    """gunicorn when installed (what a deployment runs), else Django's runserver."""
    if importlib.util.find_spec("gunicorn") is not None:
        return (
            [
                sys.executable,
                "-m",
                "gunicorn",
                "posfleet.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            f"gunicorn ({workers} workers × 4 threads)",
        )
    return (
        [sys.executable, "-m", "posfleet", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        "django runserver (threaded)",
    )


@contextlib.contextmanager
def running_server(port: int, workers: int, log: Path) -> Iterator[str]:
    command, label = server_command(port, workers)
    env = os.environ | {"DEBUG": "0", "LOG_LEVEL": "WARNING"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/api/v1/health")
                    if conn.getresponse().status == 200:
                        conn.close()
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start; see {log}")
                time.sleep(0.2)
            yield label
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Driver:
    def __init__(self, port: int, token: str, tids: list[str], threads: int) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Connection": "keep-alive"}
        self.tids = tids
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench-http")
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.window = (0.0, 0.0)
        self.errors = 0
        self.statuses: dict[int, int] = {}

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self.local.conn = conn
        return conn

    def _one(self, tid: str, due: float, record: bool) -> None:
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request("GET", f"/api/v1/terminals/{tid}/eligibility", headers=self.headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self.local.conn = None
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    status = 0
        elapsed = time.perf_counter() - due
        if record:
            with self.lock:
                self.latencies.append(elapsed)
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if status != 200:
                    self.errors += 1

    def run(self, rate: float, seconds: float, record: bool) -> float:
        rng = random.Random(7)
        total = int(rate * seconds)
        start = time.perf_counter()
        futures = []
        for i in range(total):
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            futures.append(self.pool.submit(self._one, self.tids[rng.randrange(len(self.tids))], due, record))
        for f in futures:
            f.result()
        self.window = (start, time.perf_counter())
        return total / (time.perf_counter() - start)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def eligibility_over_http(
    report: Report, data: BenchData, *, seconds: float, rate: float, workers: int, threads: int, log: Path
) -> None:
    _token, raw = ApiToken.issue(data.user, "bench")
    port = _free_port()
    with running_server(port, workers, log) as label:
        driver = Driver(port, raw, data.answer_pool, threads)
        try:
            driver.run(rate, min(2.0, seconds), record=False)  # warm-up: connections, caches
            achieved = driver.run(rate, seconds, record=True)
        finally:
            driver.close()
    lat = [x * 1000 for x in driver.latencies]
    ok = len(lat) - driver.errors
    note = f"{label}; offered {rate:g} req/s for {seconds:g} s, {threads} client threads; statuses {driver.statuses}"
    report.figure("GET /terminals/{tid}/eligibility offered", rate, "req/s", note=note)
    # Achieved: answers with 200 over the time from the first request's due time to the last answer.
    span = driver.window[1] - driver.window[0]
    report.figure("  achieved (answered 200)", ok / span if span else 0.0, "req/s", target=rate * 0.99)
    report.figure("  p50 latency", statistics.median(lat) if lat else 0.0, "ms", higher_is_better=False)
    report.figure("  p99 latency", _pct(lat, 99) if lat else 0.0, "ms", target=10.0, higher_is_better=False)
    report.figure("  max latency", max(lat) if lat else 0.0, "ms", higher_is_better=False)
    report.meta["http_send_rate"] = achieved
