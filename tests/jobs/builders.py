"""Jobs test builders: a job kind for the test (registered for it alone), and a worker that dies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from posfleet.jobs import runner
from posfleet.jobs import services as jobs
from posfleet.jobs.models import Job


class Killed(BaseException):
    """kill -9 as a test can have it: nothing after it runs (no `except Exception` catches it)."""


def enqueue(kind: str, payload: dict[str, Any] | None = None, **kwargs: Any) -> Job:
    with transaction.atomic():
        return jobs.enqueue(kind, payload or {}, send_now=False, **kwargs)


def expire(job: Job) -> None:
    """The worker holding `job` has been silent longer than the lease."""
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))


def die_in(job_id: int) -> Job:
    """Claim and run job `job_id` until the handler is killed; the row stays as the dead worker left it."""
    ctx = runner.claim(job_id)
    assert ctx is not None
    try:
        runner.execute(ctx)
    except Killed:
        pass
    return Job.objects.get(pk=job_id)
