"""Enqueue, claim, run, fail and retry: the job row is the truth and every write names its attempt."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from posfleet.audit.models import AuditEvent
from posfleet.core.errors import Conflict, ValidationFailed
from posfleet.jobs import runner
from posfleet.jobs import services as jobs
from posfleet.jobs.models import Job
from posfleet.jobs.runner import LeaseLost
from posfleet.registry.models import TerminalModel
from tests.jobs import builders as jb

pytestmark = pytest.mark.django_db


def test_enqueue_in_the_callers_transaction_sends_after_commit_and_runs_once(
    kind, django_capture_on_commit_callbacks
):
    ran = []
    name = kind("tests.echo", lambda job, ctx: ran.append(job.payload["n"]) or {"n": job.payload["n"]})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            job = jobs.enqueue(name, {"n": 7}, key="echo:7")
            assert ran == []  # nothing runs before the commit
            again = jobs.enqueue(name, {"n": 8}, key="echo:7")
    assert again.pk == job.pk and len(callbacks) == 1
    job.refresh_from_db()
    assert (job.state, job.result, job.attempts, ran) == ("done", {"n": 7}, 1, [7])
    assert runner.run(job.pk).state == "done" and ran == [7]  # a second message does nothing


def test_a_rolled_back_request_leaves_no_job(kind, django_capture_on_commit_callbacks):
    name = kind("tests.nothing", lambda job, ctx: None)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            jobs.enqueue(name, key="never")
            raise RuntimeError("the request failed")
    assert callbacks == [] and not Job.objects.filter(key="never").exists()


def test_a_job_is_claimed_once(kind):
    job = jb.enqueue(kind("tests.claim", lambda job, ctx: None))
    first = runner.claim(job.pk)
    assert first is not None and first.attempt == 1
    assert runner.claim(job.pk) is None
    job.refresh_from_db()
    assert job.state == "running" and job.lease_until > job.heartbeat_at and job.worker == runner.WORKER


def test_a_failing_attempt_is_retried_later_then_failed_for_good(kind):
    calls = []

    def broken(job, ctx):
        calls.append(ctx.attempt)
        raise OSError("disk full")

    failed_hook = []
    name = kind("tests.broken", broken, max_attempts=2, on_failed=lambda job: failed_hook.append(job.pk))
    job = jb.enqueue(name)
    job = runner.run(job.pk)
    assert (job.state, job.attempts, job.error_code) == ("queued", 1, "exception")
    assert "disk full" in job.error and job.run_after > job.created_at  # waits before the next attempt
    assert runner.run(job.pk).state == "queued" and calls == [1]  # not due yet
    Job.objects.filter(pk=job.pk).update(run_after=job.created_at)
    job = runner.run(job.pk)
    assert (job.state, job.attempts, calls, failed_hook) == ("failed", 2, [1, 2], [job.pk])
    event = AuditEvent.objects.get(action="job.failed", object_id=str(job.pk))
    assert event.after["attempts"] == 2 and "disk full" not in event.reason


def test_a_domain_refusal_is_not_retried_but_a_conflict_is(kind):
    def refuse(job, ctx):
        raise ValidationFailed("bad date")

    def busy(job, ctx):
        raise Conflict("running elsewhere")

    assert runner.run(jb.enqueue(kind("tests.refuse", refuse)).pk).state == "failed"
    assert runner.run(jb.enqueue(kind("tests.busy", busy)).pk).state == "queued"


def test_a_job_of_an_unknown_kind_fails_at_once(kind):
    job = jb.enqueue(kind("tests.gone", lambda job, ctx: None))
    from posfleet.jobs import registry

    registry._KINDS.pop("tests.gone")
    job = runner.run(job.pk)
    assert (job.state, job.error_code) == ("failed", "unknown_kind")


def test_a_worker_that_lost_its_lease_can_neither_record_nor_finish(kind):
    """Attempt 1 stalls, the sweep gives the job to attempt 2: attempt 1's writes roll back."""
    name = kind("tests.fenced", lambda job, ctx: None)
    job = jb.enqueue(name)
    stale = runner.claim(job.pk)
    jb.expire(job)
    from posfleet.jobs.sweep import sweep

    assert sweep()["requeued"] == 1
    fresh = runner.claim(job.pk)
    assert fresh is not None and fresh.attempt == 2
    with pytest.raises(LeaseLost), transaction.atomic():
        TerminalModel.objects.create(name="STALE", manufacturer="x")
        stale.save({"step": 1}, progress=1)
    assert not TerminalModel.objects.filter(name="STALE").exists()
    with pytest.raises(LeaseLost), transaction.atomic():
        stale.done({"by": "attempt 1"})
    with transaction.atomic():
        fresh.save({"step": 1}, progress=1)
        fresh.done({"by": "attempt 2"})
    job.refresh_from_db()
    assert (job.state, job.result, job.checkpoint) == ("done", {"by": "attempt 2"}, {"step": 1})


def test_run_now_runs_a_keyed_job_once(kind):
    ran = []
    name = kind("tests.daily", lambda job, ctx: ran.append(1) or {"ran": len(ran)})
    first = jobs.run_now(name, {}, key="daily:2026-01-05")
    second = jobs.run_now(name, {}, key="daily:2026-01-05")
    assert first.pk == second.pk and second.state == "done" and ran == [1]


def test_restart_leaves_done_and_live_jobs_alone(kind):
    name = kind("tests.restart", lambda job, ctx: None)
    job = jb.enqueue(name)
    runner.claim(job.pk)
    job.refresh_from_db()
    with transaction.atomic():
        assert jobs.restart(job).state == "running"  # its worker is alive
    jb.expire(job)
    job.refresh_from_db()
    with transaction.atomic():
        job = jobs.restart(job)
    assert (job.state, job.attempts, job.error_code) == ("queued", 1, "worker_lost")
    assert runner.run(job.pk).state == "done"


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_the_lease_and_writes_reported_progress(kind, settings):
    settings.JOBS_LEASE_SECONDS = 1  # a beat every 0.25 s
    seen = {}

    def slow(job, ctx):
        first = Job.objects.get(pk=job.pk).lease_until
        for n in range(1, 6):
            ctx.report(n)
            time.sleep(0.3)
        seen["lease_moved"] = Job.objects.get(pk=job.pk).lease_until > first
        seen["progress"] = Job.objects.get(pk=job.pk).progress
        return {}

    job = jb.enqueue(kind("tests.slow", slow), total=5)
    assert runner.run(job.pk).state == "done"
    assert seen["lease_moved"] and seen["progress"] >= 3
