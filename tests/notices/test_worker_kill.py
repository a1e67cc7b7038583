"""kill -9 of a real `posfleet worker` in the middle of sending an SMS: the next worker finds the
message sent (by its id) and records it; no number gets it twice, no delivery is lost."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from tests.jobs.test_worker_kill import Db, _env, _run, _stop, _worker


def _wait(db: Db, sql: str, until, timeout: float, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [dict(r) for r in db.con.execute(sql).fetchall()]
        db.con.commit()
        if until(rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"{sql} stayed {rows}; worker log:\n{log.read_text()[-4000:]}")


def test_kill_9_mid_send_then_the_next_worker_sends_nothing_twice(tmp_path):
    var = tmp_path / "live"
    var.mkdir()
    env = _env(var) | {"POSFLEET_SMS_BACKEND": "tests.notices.live.SlowFileBackend"}
    log = tmp_path / "worker.log"
    sms_dir = var / "sms"
    _run(env, "-m", "posfleet", "migrate", "-v", "0")
    (var / "slow-sms").touch()
    seeded = json.loads(_run(env, "-m", "tests.notices.live", "seed").strip().splitlines()[-1])
    assert len(seeded["notice_ids"]) == 2
    db = Db(var / "db.sqlite3")
    deliveries = "SELECT id, channel, state, attempts FROM notices_delivery ORDER BY id"

    # 1. A worker writes the first SMS and hangs before recording it; kill -9 it there.
    first = _worker(env, log)
    try:
        _wait(db, deliveries, lambda rows: any(r["state"] == "sending" for r in rows), 120, log)
        _wait(db, "SELECT 1", lambda _rows: any(sms_dir.glob("*.json")), 60, log)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    sending = [r for r in db.con.execute(deliveries).fetchall() if r["state"] == "sending"]
    db.con.commit()
    assert sending and all(r["channel"] == "sms" for r in sending)

    # 2. The next worker (after the lease ran out) finishes every delivery.
    (var / "slow-sms").unlink()
    time.sleep(2.5)
    second = _worker(env, log)
    try:
        rows = _wait(
            db,
            deliveries,
            lambda rows: all(
                r["state"] in ("sent", "delivered", "failed") or r["channel"] == "call" for r in rows
            ),
            180,
            log,
        )
    finally:
        _stop(second)
    sms_rows = [r for r in rows if r["channel"] == "sms"]
    # A delivery killed after its send is found sent (attempt 1); one killed before its file was written
    # is sent by the next worker (attempt 2). Either way, one message.
    assert len(sms_rows) == 2 and all(r["state"] == "sent" and r["attempts"] in (1, 2) for r in sms_rows)
    assert any(r["attempts"] == 1 for r in sms_rows)  # at least one was recovered, not sent again
    assert all(r["state"] == "delivered" for r in rows if r["channel"] == "portal")
    files = sorted(p.name for p in sms_dir.glob("*.json"))
    assert files == sorted(f"sms-{r['id']}.json" for r in sms_rows)  # one message per number, none twice
    assert not list(sms_dir.glob("*.part"))
