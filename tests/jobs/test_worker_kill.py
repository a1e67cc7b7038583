"""kill -9 of a real `posfleet worker` in the middle of a case export loses nothing.

Everything runs in subprocesses against one file database (SQLite, WAL) and one file queue in a
temporary directory: `posfleet migrate`, the seed (`tests.jobs.live`), and `posfleet worker` twice.
The test reads the shared database directly. The lease is 2 seconds so that the second worker's
start-up sweep finds the first one's job expired.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

ROWS = 40_000
ROOT = Path(__file__).resolve().parents[2]


def _env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "HUEY_IMMEDIATE")}
    env.update(
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        POSFLEET_VAR_DIR=str(var),
        POSFLEET_JOB_LEASE_SECONDS="2",
        LOG_LEVEL="INFO",
    )
    return env


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "posfleet", "worker"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # the Huey consumer's graceful stop
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Db:
    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, timeout=30)
        self.con.row_factory = sqlite3.Row

    def one(self, sql: str, *params: object) -> sqlite3.Row:
        row = self.con.execute(sql, params).fetchone()
        self.con.commit()  # end the read so the next one sees new commits
        return row

    def job(self, job_id: int) -> sqlite3.Row:
        return self.one("SELECT * FROM jobs_job WHERE id = ?", job_id)

    def wait_job(self, job_id: int, until: object, timeout: float, log: Path) -> sqlite3.Row:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = self.job(job_id)
            if until(row):  # type: ignore[operator]
                return row
            time.sleep(0.05)
        pytest.fail(f"job {job_id} stayed {dict(self.job(job_id))}; worker log:\n{log.read_text()[-4000:]}")


def test_kill_9_mid_export_then_the_next_worker_finishes_it(tmp_path):
    var = tmp_path / "live"
    var.mkdir()
    env = _env(var)
    log = tmp_path / "worker.log"
    exports = var / "files" / "exports"
    _run(env, "-m", "posfleet", "migrate", "-v", "0")
    seeded = json.loads(_run(env, "-m", "tests.jobs.live", "seed_export", str(ROWS)).strip().splitlines()[-1])
    db = Db(var / "db.sqlite3")
    job_id = seeded["job_id"]
    assert db.job(job_id)["state"] == "queued"

    # 1. A worker takes the export; kill -9 it once a part of the file is written.
    first = _worker(env, log)
    try:
        running = db.wait_job(
            job_id, lambda j: j["state"] == "running" and 0 < j["progress"] < j["total"], 180, log
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert running["total"] == ROWS and running["attempts"] == 1
    stuck = db.job(job_id)
    assert stuck["state"] == "running"  # nobody is left to say otherwise
    partial_name = json.loads(stuck["checkpoint"])["file"] + ".part"
    assert (exports / partial_name).stat().st_size > 0
    assert not (exports / json.loads(stuck["checkpoint"])["file"]).exists()
    assert (
        db.one("SELECT state FROM cases_caseexport WHERE id = ?", seeded["export_id"])["state"] == "running"
    )

    # 2. Once its lease has run out, a new worker's start-up sweep takes the job up again.
    lease_until = datetime.fromisoformat(stuck["lease_until"])
    time.sleep(max(0.0, (lease_until - datetime.now(lease_until.tzinfo)).total_seconds()) + 0.5)
    second = _worker(env, log)
    try:
        done = db.wait_job(job_id, lambda j: j["state"] in ("done", "failed"), 300, log)
    finally:
        _stop(second)
    assert done["state"] == "done", f"{dict(done)}\n{log.read_text()[-6000:]}"
    assert done["attempts"] == 2 and done["error_code"] == "worker_lost"

    # 3. The right file, and only it: no partial file is left behind.
    export = db.one("SELECT * FROM cases_caseexport WHERE id = ?", seeded["export_id"])
    assert (export["state"], export["rows"], export["progress"]) == ("done", ROWS, 100)
    assert sorted(p.name for p in exports.iterdir()) == [export["stored_name"]]
    data = (exports / export["stored_name"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == export["sha256"] == json.loads(done["result"])["sha256"]
    expected = json.loads(_run(env, "-m", "tests.jobs.live", "expected_sha256", str(seeded["merchant_id"])))
    assert expected == {"sha256": export["sha256"], "rows": ROWS}  # as if never interrupted
    lines = list(csv.reader(io.StringIO(data.decode())))
    assert len(lines) == ROWS + 1 and len({line[0] for line in lines[1:]}) == ROWS  # each row once
    events = db.one(
        "SELECT COUNT(*) AS n FROM audit_auditevent WHERE action = 'case.export_done' AND object_id = ?",
        str(seeded["case_id"]),
    )
    assert events["n"] == 1
    assert "intact" in _run(env, "-m", "posfleet", "audit_verify").lower()
