"""Bulk holds beyond BULK_INLINE_MAX terminals are jobs: a dead worker's hold is finished by the next
attempt, and no terminal is held, released or audited twice."""

from __future__ import annotations

import pytest
from django.db import transaction

from posfleet.audit.models import AuditEvent
from posfleet.audit.services import verify
from posfleet.core.errors import StepUpRequired
from posfleet.jobs import runner
from posfleet.jobs.models import Job
from posfleet.jobs.sweep import sweep
from posfleet.lifecycle import bulk, holds
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold, HoldTerminal
from posfleet.notices.channel import DELIVER_JOB
from tests import builders
from tests.api.builders import Api, totp_code
from tests.jobs import builders as jb

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small(settings, monkeypatch):
    """Jobs from three terminals on, two terminals per chunk."""
    settings.BULK_INLINE_MAX = 2
    monkeypatch.setattr(bulk, "CHUNK", 2)


def _place(terminals, actor=None, **kw):
    with transaction.atomic():
        return bulk.place(
            actor or builders.actor("technician"),
            kind="maintenance",
            reason="upgrade",
            terminals=terminals,
            **kw,
        )


def _die_on_chunk(monkeypatch, target, n):
    """The worker is killed while it writes chunk `n` (counting from 1)."""
    real = getattr(bulk, target)
    calls = []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise jb.Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, target, dying)
    return lambda: monkeypatch.setattr(bulk, target, real)


def test_up_to_the_inline_limit_the_hold_is_placed_in_the_request():
    ts = [builders.terminal() for _ in range(2)]
    hold = _place(ts)
    # no bulk-hold job (the notices' deliveries are jobs of their own)
    assert isinstance(hold, Hold) and hold.links.count() == 2
    assert not Job.objects.exclude(kind=DELIVER_JOB).exists()


def test_beyond_it_a_job_places_it_with_the_same_checks(django_capture_on_commit_callbacks):
    ts = [builders.terminal() for _ in range(5)]
    with pytest.raises(StepUpRequired):
        _place(ts, builders.actor("technician", stepped_up=False))
    assert not Job.objects.exists()
    technician = builders.actor("technician")
    with django_capture_on_commit_callbacks(execute=True):
        job = _place(ts + ts[:1], technician)
    assert isinstance(job, Job)
    job.refresh_from_db()
    hold = Hold.objects.get(pk=job.result["hold_id"])
    assert (job.state, job.progress, job.total, job.result["placed"]) == ("done", 5, 5, 5)
    assert (job.object_type, job.object_id, job.perm) == ("hold", str(hold.pk), "accounts.hold_maintenance")
    assert hold.bulk and hold.placed_by_id == technician.user_id
    assert sorted(hold.links.values_list("terminal_id", flat=True)) == sorted(t.pk for t in ts)
    events = AuditEvent.objects.filter(action="hold.place").order_by("seq")
    assert [e.object_id for e in events] == [t.tid for t in ts]
    assert all(e.actor_name == technician.name and e.after["hold_id"] == hold.pk for e in events)
    assert not any(may_transact(t.tid).allowed for t in ts)
    assert verify().ok


def test_a_dead_workers_bulk_hold_is_finished_with_each_terminal_once(monkeypatch):
    ts = [builders.terminal() for _ in range(5)]
    job = _place(ts)
    revive = _die_on_chunk(monkeypatch, "_link", 2)
    dead = jb.die_in(job.pk)
    assert (dead.state, dead.attempts, dead.checkpoint["done"]) == ("running", 1, 2)
    hold_id = dead.checkpoint["hold_id"]
    assert HoldTerminal.objects.filter(hold_id=hold_id).count() == 2  # the first chunk committed
    revive()
    jb.expire(dead)
    assert sweep()["requeued"] == 1
    done = runner.run(job.pk)
    assert (done.state, done.attempts, done.result) == (
        "done",
        2,
        {"hold_id": hold_id, "placed": 5, "skipped": 0, "notices": 5},
    )
    assert Hold.objects.count() == 1
    links = list(HoldTerminal.objects.filter(hold_id=hold_id).values_list("terminal_id", flat=True))
    assert sorted(links) == sorted(t.pk for t in ts)
    placed = [e.object_id for e in AuditEvent.objects.filter(action="hold.place").order_by("seq")]
    assert placed == [t.tid for t in ts]  # each terminal once, in order
    assert verify().ok


def test_a_dead_workers_release_is_finished_with_each_terminal_once(monkeypatch):
    ts = [builders.terminal() for _ in range(5)]
    hold = holds.place_bulk(builders.actor("technician"), kind="maintenance", reason="upgrade", terminals=ts)
    with transaction.atomic():
        holds.release_hold(builders.actor("technician"), hold.pk, reason="this one is fixed", tid=ts[3].tid)
    with transaction.atomic():
        job = bulk.release(builders.actor("technician"), hold.pk, reason="window over")
    assert isinstance(job, Job) and job.total == 4
    with transaction.atomic():
        again = bulk.release(builders.actor("technician"), hold.pk, reason="window over")
    assert again.pk == job.pk  # asking again while it runs returns the same job
    revive = _die_on_chunk(monkeypatch, "record_bulk", 2)
    dead = jb.die_in(job.pk)
    assert (dead.state, dead.checkpoint["done"]) == ("running", 2)
    assert may_transact(ts[0].tid).allowed and not may_transact(ts[4].tid).allowed
    revive()
    jb.expire(dead)
    sweep()
    done = runner.run(job.pk)
    assert (done.state, done.attempts, done.result) == ("done", 2, {"hold_id": hold.pk, "released": 4})
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.closed and hold.release_reason == "window over"
    assert all(may_transact(t.tid).allowed for t in ts)
    released = [e.object_id for e in AuditEvent.objects.filter(action="hold.release").order_by("seq")]
    assert released == [ts[3].tid, ts[0].tid, ts[1].tid, ts[2].tid, ts[4].tid]  # each terminal once
    assert verify().ok


def test_the_api_answers_202_with_the_job():
    api = Api("technician")
    device = api.enrol_totp()
    ts = [builders.terminal("active") for _ in range(3)]
    body = {"tids": [t.tid for t in ts], "kind": "maintenance", "reason": "firmware push"}
    r = api.post("/holds/bulk", body, **{"X-OTP": totp_code(device)})
    assert r.status_code == 202, r.content
    job = Job.objects.get(pk=r.json()["id"])
    assert r.json()["kind"] == "lifecycle.bulk_hold" and r.json()["total"] == 3
    runner.run(job.pk)  # what the worker does
    answer = api.get(f"/jobs/{job.pk}").json()
    assert answer["state"] == "done" and answer["result"]["placed"] == 3
    hold_id = answer["result"]["hold_id"]
    r = api.post(f"/holds/{hold_id}/release", {"reason": "all done"})
    assert r.status_code == 202 and r.json()["kind"] == "lifecycle.bulk_release"
    runner.run(r.json()["id"])
    assert api.get(f"/holds/{hold_id}").json()["released_at"] is not None
