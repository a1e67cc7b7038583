"""Starting jobs, showing them to the people who own the work, and queueing another attempt.

`enqueue` is called inside the caller's transaction, beside the change that asks for the work: the
job row commits with it or not at all, and the worker is told only after commit. The row is the
truth; the queue message only says "run job N", so a lost message costs a delay (the sweep sends it
again), never the work.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound, PermissionDenied
from posfleet.jobs import registry, runner
from posfleet.jobs.models import Job, JobError, JobState
from posfleet.jobs.runner import lost_detail, send_on_commit

log = structlog.get_logger("posfleet.jobs")


def enqueue(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    actor: Actor | None = None,
    perm: str = "",
    object_type: str = "",
    object_id: str = "",
    total: int = 0,
    run_after: datetime | None = None,
    send_now: bool = True,
) -> Job:
    """Record a job of `kind` in the caller's transaction (sent to the worker after commit).

    `key` names the piece of work: a second enqueue with the same key returns the first job. `perm`
    (`accounts.<codename>`) shows the job to the people who own the work; its starter sees it too."""
    spec = registry.get(kind)
    if spec is None:
        raise LookupError(f"no handler for job kind {kind!r}")
    key = key or f"{kind}:{uuid.uuid4().hex}"
    existing = Job.objects.filter(key=key).first()
    if existing is not None:
        return existing
    now = timezone.now()
    user = actor.user if actor is not None and actor.kind == "user" else None
    job = Job(
        kind=kind,
        key=key,
        payload=payload or {},
        perm=perm,
        object_type=object_type,
        object_id=object_id,
        total=total,
        max_attempts=spec.max_attempts,
        run_after=run_after or now,
        created_by=user,
        created_by_name=actor.name if actor is not None else "system",
        created_at=now,
        sent_at=now if send_now else None,
    )
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:  # the same key, enqueued concurrently
        return Job.objects.get(key=key)
    if send_now:
        send_on_commit(job)
    return job


def run_now(kind: str, payload: dict[str, Any] | None = None, *, key: str, **kwargs: Any) -> Job:
    """Enqueue (once per `key`) and run the job in this process; a job already done is returned as is.

    For work that is already on a worker (a periodic job): the row still records it, so a death
    half-way is taken up by the sweep like any other job."""
    with transaction.atomic():
        job = enqueue(kind, payload, key=key, send_now=False, **kwargs)
    if job.state != JobState.QUEUED:
        return job
    return runner.run(job.pk) or job


def visible(actor: Actor) -> QuerySet[Job]:
    """The jobs `actor` may see: those of the work their roles own, and those they started."""
    qs = Job.objects.all()
    if actor.kind == "system":
        return qs
    user = actor.user
    if user is None or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(Q(perm__in=sorted(user.get_all_permissions())) | Q(created_by=user))


def get_job(actor: Actor, job_id: int) -> Job:
    job = visible(actor).select_related("created_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("No job %(id)s.") % {"id": job_id})
    return job


def restart(job: Job, *, now: datetime | None = None) -> Job:
    """Queue another attempt of `job` (row locked by the caller) if it failed or its worker is gone; a
    queued job is sent to the worker again (at once if it was waiting to retry after an error; a job
    scheduled for later keeps its time). A job done, or running on a live worker, is left alone."""
    now = now or timezone.now()
    if job.state == JobState.DONE or (job.state == JobState.RUNNING and not job.lease_expired(now)):
        return job
    fields = ["state", "lease_until", "worker", "sent_at", "finished_at", "max_attempts"]
    if job.state == JobState.RUNNING:  # the worker died and the sweep has not come by yet
        job.error_code = JobError.WORKER_LOST
        job.error = lost_detail(job)
        fields += ["error_code", "error"]
    if job.state != JobState.QUEUED or job.error_code:  # a retry waiting out its pause is brought forward
        job.run_after = min(job.run_after, now) if job.state == JobState.QUEUED else now
        fields.append("run_after")
    spec = registry.get(job.kind)
    if job.attempts >= job.max_attempts:  # a person asked again: a fresh set of attempts
        job.max_attempts = job.attempts + (spec.max_attempts if spec is not None else 3)
    job.state, job.lease_until, job.worker, job.sent_at, job.finished_at = (
        JobState.QUEUED,
        None,
        "",
        now,
        None,
    )
    job.save(update_fields=fields)
    send_on_commit(job)
    return job


def retry(actor: Actor, job_id: int) -> Job:
    """A person queues another attempt of a failed or stuck job (its owners' permission; audited)."""
    job = get_job(actor, job_id)
    if not (actor.has_perm(job.perm) or (actor.user is not None and job.created_by_id == actor.user_id)):
        raise PermissionDenied()
    job = Job.objects.select_for_update().get(pk=job.pk)
    before = {"state": job.state, "attempts": job.attempts}
    if job.state == JobState.DONE:
        raise Conflict(_("This job is done."), code="job_done")
    if job.state == JobState.RUNNING and not job.lease_expired():
        raise Conflict(
            _("This job is running and its worker is alive; wait for it to finish."), code="job_running"
        )
    restart(job)
    record(
        actor,
        Change("job", str(job.pk), "job.retry", before, {"state": job.state, "kind": job.kind}, "retry"),
    )
    return job
