"""(d) The answer over HTTP: the production server in a subprocess, driven open-loop at a fixed rate.

granian with the deployed settings (`posfleet.server`, decision 0007, `DEBUG=0`) on a free port the
kernel picks; the load from `loadgen` in a process of its own. Request i is due at t0 + i/rate whatever the server does and
its latency counts from then, so a slow server shows as latency, never as a lower offered rate.
Reported: achieved rate, p50/p99/max latency, and in the note and JSON the statuses, the client's
send lag and CPU, and the server's CPU per answer.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from posfleet import server
from posfleet.accounts.models import ApiToken
from posfleet.devtools.bench.data import BenchData
from posfleet.devtools.bench.report import Report

PATH = "/api/v1/terminals/{tid}/eligibility"


def _free_port() -> int:
    """A port nobody listens on (the kernel's choice), so runs beside other servers do not collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(port: int, workers: int) -> tuple[list[str], str]:
    """The deployed server and settings (`posfleet.server`); only address and workers differ."""
    bind = f"127.0.0.1:{port}"
    label = server.settings(bind, workers).label
    return [sys.executable, "-m", "posfleet.server", "--bind", bind, "--workers", str(workers)], label


@contextlib.contextmanager
def running_server(port: int, workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """The server, up and answering /api/v1/health; yields (label, pid)."""
    command, label = server_command(port, workers)
    env = os.environ | {"DEBUG": "0", "LOG_LEVEL": "WARNING"}
    if env.get("POSFLEET_FASTPATH", "1") in {"0", "false", "no", "off"}:
        label += ", fast path off"
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
            yield label, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children, from /proc (0.0 where unavailable)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, ValueError, IndexError):
            continue
        pending.extend(int(c) for c in children)
    return total


def raw_requests(port: int, token: str, tids: list[str]) -> list[str]:
    """One raw HTTP/1.1 request per TID, as a terminal's switch would send it."""
    return [
        f"GET {PATH.format(tid=tid)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\nConnection: keep-alive\r\n\r\n"
        for tid in tids
    ]


def run_loadgen(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load generator in its own process (the spec, with the token, goes through stdin)."""
    budget = spec.get("warmup", 2.0) + spec["seconds"] + spec.get("timeout", 10.0) + 30
    done = subprocess.run(
        [sys.executable, "-m", "posfleet.devtools.bench.loadgen"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=budget,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def eligibility_over_http(
    report: Report,
    data: BenchData,
    *,
    seconds: float,
    rate: float,
    workers: int,
    connections: int,
    log: Path,
) -> dict[str, Any]:
    _token, raw = ApiToken.issue(data.user, "bench")
    port = _free_port()
    tids = list(data.answer_pool)
    random.Random(7).shuffle(tids)
    warmup = min(2.0, seconds)
    spec = {
        "port": port,
        "rate": rate,
        "seconds": seconds,
        "warmup": warmup,
        "connections": connections,
        "max_connections": max(64, connections),
        "requests": raw_requests(port, raw, tids),
    }
    with running_server(port, workers, log) as (label, pid):
        cpu_before, started = process_tree_cpu(pid), time.monotonic()
        result = run_loadgen(spec)
        server_cpu, wall = process_tree_cpu(pid) - cpu_before, time.monotonic() - started
    sent = round(rate * warmup) + result["requests"]
    result |= {
        "server": label,
        "server_cpu_s": server_cpu,
        "server_cpu_ms_per_request": 1000 * server_cpu / sent if sent else 0.0,
        "server_cpu_percent_of_one_core": 100 * server_cpu / wall if wall else 0.0,
    }
    lat, lag = result["latency_ms"], result["send_lag_ms"]
    note = (
        f"{label}; open loop from a separate asyncio process, {connections} keep-alive connections "
        f"(≤ {spec['max_connections']}), {result['connections_opened']} opened; statuses {result['statuses']}; "
        f"p90 {lat['p90']:.2f} ms, p99.9 {lat['p99_9']:.2f} ms; client send lag p99 {lag['p99']:.2f} ms; "
        f"client CPU {result['client_cpu_percent']:.0f} % of a core; "
        f"server CPU {result['server_cpu_ms_per_request']:.2f} ms per answer"
    )
    report.figure(f"GET {PATH} offered", rate, "req/s", note=note)
    report.figure("  achieved (answered 2xx)", result["achieved_rate"], "req/s", target=rate * 0.99)
    report.figure("  p50 latency", lat["p50"], "ms", higher_is_better=False)
    report.figure("  p99 latency", lat["p99"], "ms", target=10.0, higher_is_better=False)
    report.figure("  max latency", lat["max"], "ms", higher_is_better=False)
    report.meta["http"] = result
    return result
