"""A long piece of work whose state lives in the database (the Huey message only says "run job N").

The row is the truth: who started it, how far it got (`progress` of `total`, and a `checkpoint` the
handler resumes from), which attempt runs it, and until when the worker holding it is trusted
(`lease_until`, pushed forward by its heartbeat). A job whose lease ran out is taken up again by the
sweep; the attempt number fences every write, so a worker that lost its lease cannot finish a job
another worker has taken over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.jobs import registry


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class JobError(models.TextChoices):
    """Why the last attempt did not finish (the detail, technical, is in `error`)."""

    WORKER_LOST = "worker_lost", _("The worker stopped (no heartbeat)")
    EXCEPTION = "exception", _("The work raised an error")
    UNKNOWN_KIND = "unknown_kind", _("No worker knows this kind of job")


OPEN_STATES = (JobState.QUEUED, JobState.RUNNING)


class Job(models.Model):
    kind = models.CharField(max_length=60)
    # One job per piece of work: enqueueing the same key again returns the first job.
    key = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    payload = models.JSONField(default=dict, blank=True)
    # The permission (`accounts.<codename>`) that shows the job to a person; its starter sees it too.
    perm = models.CharField(max_length=100, blank=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    checkpoint = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=20, choices=JobError.choices, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    run_after = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)  # last handed to the queue
    worker = models.CharField(max_length=100, blank=True)  # host:pid holding the lease
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        indexes = [
            # the sweep: running jobs by lease, queued jobs by due time
            models.Index(fields=["state", "lease_until"], name="job_state_lease_idx"),
            models.Index(fields=["state", "run_after"], name="job_state_due_idx"),
            models.Index(fields=["kind", "id"], name="job_kind_idx"),
            models.Index(fields=["object_type", "object_id"], name="job_object_idx"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.kind}, {self.state})"

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, self.progress * 100 // self.total)

    def lease_expired(self, now: datetime | None = None) -> bool:
        """Running, but its worker has not been heard of within the lease: it is stuck."""
        if self.state != JobState.RUNNING:
            return False
        return self.lease_until is None or self.lease_until < (now or timezone.now())

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def kind_label(self) -> str:
        return str(registry.label(self.kind))

    def as_dict(self) -> dict[str, Any]:
        """The job as the API shows it (`jobs.schemas.JobOut`)."""
        stamp = {
            f: (getattr(self, f).isoformat() if getattr(self, f) else None)
            for f in ("run_after", "heartbeat_at", "lease_until", "created_at", "started_at", "finished_at")
        }
        return {
            "id": self.pk,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "state": self.state,
            "state_label": str(self.get_state_display()),
            "progress": self.progress,
            "total": self.total,
            "percent": self.percent,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "error_code": self.error_code,
            "error": self.error,
            "result": self.result,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "created_by": self.created_by_name,
            "stuck": self.lease_expired(),
            **stamp,
        }
