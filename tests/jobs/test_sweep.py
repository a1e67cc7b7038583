"""The sweep takes up what a dead worker or a lost message left; a live worker's job is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from posfleet.audit.models import AuditEvent
from posfleet.jobs import runner
from posfleet.jobs.models import Job
from posfleet.jobs.sweep import sweep
from tests.jobs import builders as jb

pytestmark = pytest.mark.django_db


def test_an_expired_lease_is_queued_again_and_run(kind, django_capture_on_commit_callbacks):
    name = kind("tests.sweep", lambda job, ctx: {"attempt": ctx.attempt})
    job = jb.enqueue(name)
    live = jb.enqueue(name)
    runner.claim(job.pk)
    runner.claim(live.pk)
    jb.expire(job)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep() == {"requeued": 1, "failed": 0, "resent": 0}
    job.refresh_from_db()
    live.refresh_from_db()
    assert (job.state, job.attempts, job.result, job.error_code) == ("done", 2, {"attempt": 2}, "worker_lost")
    assert "attempt 1" in job.error and runner.WORKER in job.error
    assert live.state == "running" and live.attempts == 1


def test_an_expired_lease_after_the_last_attempt_fails_the_job(kind):
    hooked = []
    name = kind(
        "tests.sweep_fail", lambda job, ctx: None, max_attempts=1, on_failed=lambda j: hooked.append(j.pk)
    )
    job = jb.enqueue(name)
    runner.claim(job.pk)
    jb.expire(job)
    assert sweep()["failed"] == 1
    job.refresh_from_db()
    assert (job.state, job.error_code, hooked) == ("failed", "worker_lost", [job.pk])
    assert AuditEvent.objects.filter(action="job.failed", object_id=str(job.pk)).count() == 1


def test_a_queued_job_whose_message_was_lost_is_sent_again(kind, django_capture_on_commit_callbacks):
    name = kind("tests.lost", lambda job, ctx: None)
    never_sent = jb.enqueue(name)
    just_sent = jb.enqueue(name)
    Job.objects.filter(pk=just_sent.pk).update(sent_at=timezone.now())
    later = jb.enqueue(name, run_after=timezone.now() + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep()["resent"] == 1
    states = dict(Job.objects.values_list("pk", "state"))
    assert states == {never_sent.pk: "done", just_sent.pk: "queued", later.pk: "queued"}


def test_worker_once_sweeps_and_runs_the_jobs_that_are_due(kind, capsys):
    name = kind("tests.once", lambda job, ctx: None)
    due = jb.enqueue(name)
    stuck = jb.enqueue(name)
    runner.claim(stuck.pk)
    jb.expire(stuck)
    not_yet = jb.enqueue(name, run_after=timezone.now() + timedelta(hours=1))
    call_command("worker", "--once")
    out = capsys.readouterr().out
    assert "jobs sweep: {'requeued': 1" in out and "ran 2 queued job(s)" in out
    states = dict(Job.objects.filter(kind=name).values_list("pk", "state"))
    assert states == {due.pk: "done", stuck.pk: "done", not_yet.pk: "queued"}
    assert Job.objects.get(kind="settlement.run").state == "done"  # the daily run, a job as well
