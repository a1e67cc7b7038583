"""The sweep: every minute and when a worker starts, take up what a dead worker or a lost message left.

A running job whose lease has run out (its worker stopped sending heartbeats: killed, out of memory,
machine gone) is queued again, or failed for good once it has used its attempts; a queued job that is
due and was last sent to the queue more than a lease ago is sent again. Both are safe to overlap with
a live worker: claiming is conditional and every write names its attempt.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from posfleet.jobs import runner
from posfleet.jobs.models import Job, JobError, JobState
from posfleet.jobs.runner import lost_detail, send_on_commit

BATCH = 500


def sweep(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    with transaction.atomic():
        stuck = list(
            Job.objects.select_for_update(skip_locked=True)
            .filter(state=JobState.RUNNING, lease_until__lt=now)
            .order_by("lease_until", "id")[:BATCH]
        )
        for job in stuck:
            job.error_code, job.error = JobError.WORKER_LOST, lost_detail(job)
            if job.attempts >= job.max_attempts:
                runner.mark_failed(job, now)
                counts["failed"] += 1
                continue
            job.state, job.run_after, job.lease_until, job.worker, job.sent_at = (
                JobState.QUEUED, now, None, "", now,
            )  # fmt: skip
            job.save(
                update_fields=[
                    "state",
                    "run_after",
                    "lease_until",
                    "worker",
                    "sent_at",
                    "error_code",
                    "error",
                ]
            )
            send_on_commit(job)
            counts["requeued"] += 1
    with transaction.atomic():
        lost = list(
            Job.objects.select_for_update(skip_locked=True)
            .filter(state=JobState.QUEUED, run_after__lte=now)
            .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=now - runner.lease()))
            .order_by("run_after", "id")[:BATCH]
        )
        if lost:
            Job.objects.filter(pk__in=[j.pk for j in lost]).update(sent_at=now)
        for job in lost:
            send_on_commit(job)
        counts["resent"] = len(lost)
    return counts
