"""Running one job: claim it, keep its lease alive, let the handler record its progress, finish it.

Claiming is one conditional write (queued → running, attempt + 1, a lease), taken under the row
lock on PostgreSQL (`SELECT … FOR UPDATE SKIP LOCKED`) and the write lock on SQLite (transactions
begin IMMEDIATE), so two workers never run the same job. While the handler works, a heartbeat thread
pushes the lease forward; every write about the job names the attempt that holds it, so a worker that
was presumed dead (its lease ran out and the sweep queued the job again) can no longer record
progress or finish: its write finds no row and its transaction rolls back (`LeaseLost`).
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone
from huey.contrib.djhuey import db_task

from posfleet.audit.services import Change, record
from posfleet.core import context
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, DomainError
from posfleet.jobs import registry
from posfleet.jobs.models import Job, JobError, JobState

log = structlog.get_logger("posfleet.jobs")
WORKER = f"{socket.gethostname()}:{os.getpid()}"


def lease() -> timedelta:
    return timedelta(seconds=settings.JOBS_LEASE_SECONDS)


def backoff(attempts: int) -> timedelta:
    """How long a failed attempt waits before the next: 30 s, 1 min, 2 min, … at most 30 min."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


class LeaseLost(Exception):
    """This worker no longer holds the job (another attempt took it over): stop, write nothing."""


class Context:
    """What a handler gets besides its job: where the last attempt got to, and how to record progress."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.attempt = job.attempts
        self.checkpoint: dict[str, Any] = dict(job.checkpoint or {})
        self.finished = False
        self.lost = threading.Event()
        self.reported: int | None = None  # progress for the heartbeat to write

    def _mine(self) -> QuerySet[Job]:
        return Job.objects.filter(pk=self.job.pk, state=JobState.RUNNING, attempts=self.attempt)

    def check(self) -> None:
        """Raise LeaseLost if the heartbeat found the job taken over."""
        if self.lost.is_set():
            raise LeaseLost(self.job.pk)

    def report(self, progress: int) -> None:
        """Progress of work that commits nothing until it ends (a file being written): the heartbeat
        writes it on its own connection. Writing it here could fail on SQLite while this connection
        still reads the rows being written out (its snapshot is older than the heartbeat's commits)."""
        self.check()
        self.reported = progress

    def save(
        self,
        checkpoint: dict[str, Any] | None = None,
        *,
        progress: int | None = None,
        total: int | None = None,
        about: tuple[str, str] | None = None,
    ) -> None:
        """Record progress (and where to resume) with a heartbeat; `about` names the object the job
        turned out to make (a bulk hold). Called inside the transaction that did the work it
        describes, it commits with that work or not at all."""
        self.check()
        now = timezone.now()
        fields: dict[str, Any] = {"heartbeat_at": now, "lease_until": now + lease()}
        if checkpoint is not None:
            fields["checkpoint"] = checkpoint
        if progress is not None:
            fields["progress"] = progress
        if total is not None:
            fields["total"] = total
        if about is not None:
            fields["object_type"], fields["object_id"] = about
        if self._mine().update(**fields) != 1:
            self.lost.set()
            raise LeaseLost(self.job.pk)
        if checkpoint is not None:
            self.checkpoint = dict(checkpoint)

    def done(self, result: dict[str, Any] | None = None) -> None:
        """Mark the job done inside the caller's transaction, so "done" commits with the last of the work."""
        self.check()
        now = timezone.now()
        job = self._mine().select_for_update().first()
        if job is None:
            self.lost.set()
            raise LeaseLost(self.job.pk)
        job.state, job.result, job.finished_at = JobState.DONE, result or {}, now
        job.heartbeat_at, job.lease_until = now, None
        if job.total:
            job.progress = job.total
        job.save(update_fields=["state", "result", "finished_at", "heartbeat_at", "lease_until", "progress"])
        self.finished = True


def beat_interval() -> float:
    """A heartbeat every quarter lease, and at least every 5 seconds (progress shows that often)."""
    return max(min(lease().total_seconds() / 4, 5.0), 0.2)


class _Heartbeat(threading.Thread):
    """Pushes the lease forward (and writes reported progress) while the handler works, on its own
    connection."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(name=f"job-{ctx.job.pk}-heartbeat", daemon=True)
        self.ctx = ctx
        self.halt = threading.Event()

    def run(self) -> None:
        try:
            while not self.halt.wait(beat_interval()):
                try:
                    now = timezone.now()
                    fields: dict[str, Any] = {"heartbeat_at": now, "lease_until": now + lease()}
                    if self.ctx.reported is not None:
                        fields["progress"] = self.ctx.reported
                    if self.ctx._mine().update(**fields) != 1:
                        self.ctx.lost.set()
                        return
                except DatabaseError as exc:  # busy database: the next beat tries again
                    log.warning("jobs.heartbeat_failed", job_id=self.ctx.job.pk, error=str(exc))
        finally:
            connections.close_all()  # this thread's connections only


def _claim(qs: QuerySet[Job], now: datetime) -> Context | None:
    with transaction.atomic():
        job = qs.select_for_update(skip_locked=True).filter(state=JobState.QUEUED, run_after__lte=now).first()
        if job is None:
            return None
        job.state, job.attempts = JobState.RUNNING, job.attempts + 1
        job.started_at = job.heartbeat_at = now
        job.lease_until, job.worker = now + lease(), WORKER
        job.save(update_fields=["state", "attempts", "started_at", "heartbeat_at", "lease_until", "worker"])
    return Context(job)


def claim(job_id: int, now: datetime | None = None) -> Context | None:
    """Take job `job_id` if it is queued and due (None when another worker has it or it is finished)."""
    return _claim(Job.objects.filter(pk=job_id), now or timezone.now())


def claim_next(now: datetime | None = None) -> Context | None:
    """Take the queued job that has waited longest."""
    return _claim(Job.objects.order_by("run_after", "id"), now or timezone.now())


def run(job_id: int) -> Job | None:
    """Claim and run one job; returns it as it stands afterwards (as found if it could not be claimed)."""
    ctx = claim(job_id)
    if ctx is None:
        return Job.objects.filter(pk=job_id).first()
    return execute(ctx)


def run_due(limit: int = 1000) -> int:
    """Run queued jobs that are due, one after another, in this process (`posfleet worker --once`)."""
    ran = 0
    while ran < limit:
        ctx = claim_next()
        if ctx is None:
            break
        execute(ctx)
        ran += 1
    return ran


def execute(ctx: Context) -> Job:
    job = ctx.job
    kind = registry.get(job.kind)
    token = context.request_id.set(f"job-{job.pk}")
    beat = _Heartbeat(ctx)
    beat.start()
    try:
        if kind is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        log.info("jobs.started", job_id=job.pk, kind=job.kind, attempt=ctx.attempt)
        result = kind.handler(job, ctx)
        if not ctx.finished:
            with transaction.atomic():
                ctx.done(result)
        log.info("jobs.done", job_id=job.pk, kind=job.kind, attempt=ctx.attempt)
    except LeaseLost:
        log.warning("jobs.lease_lost", job_id=job.pk, kind=job.kind, attempt=ctx.attempt)
    except Exception as exc:
        log.exception("jobs.attempt_failed", job_id=job.pk, kind=job.kind, attempt=ctx.attempt)
        fail(ctx, exc, unknown_kind=kind is None)
    finally:
        beat.halt.set()
        beat.join()
        context.request_id.reset(token)
    return Job.objects.get(pk=job.pk)


def describe(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc)
    return f"{type(exc).__name__}: {text}"[:2000]


def fail(ctx: Context, exc: BaseException, *, unknown_kind: bool = False) -> None:
    """The attempt raised: queue the next attempt after a pause, or fail the job for good.

    A domain error other than a conflict would answer the same next time, so it is not retried."""
    permanent = unknown_kind or (isinstance(exc, DomainError) and not isinstance(exc, Conflict))
    now = timezone.now()
    with transaction.atomic():
        job = ctx._mine().select_for_update().first()
        if job is None:
            return
        job.error_code = JobError.UNKNOWN_KIND if unknown_kind else JobError.EXCEPTION
        job.error = describe(exc)
        if permanent or job.attempts >= job.max_attempts:
            mark_failed(job, now)
            return
        job.state, job.run_after, job.lease_until, job.worker = (
            JobState.QUEUED,
            now + backoff(job.attempts),
            None,
            "",
        )
        job.sent_at = now
        job.save(
            update_fields=["state", "run_after", "lease_until", "worker", "sent_at", "error_code", "error"]
        )
        send_on_commit(job)


def mark_failed(job: Job, now: datetime) -> None:
    """Fail `job` for good (row locked by the caller): its owner's record says so in the same transaction."""
    job.state, job.finished_at, job.lease_until, job.worker = JobState.FAILED, now, None, ""
    job.save(update_fields=["state", "finished_at", "lease_until", "worker", "error_code", "error"])
    kind = registry.get(job.kind)
    if kind is not None and kind.on_failed is not None:
        kind.on_failed(job)
    record(
        Actor.system("worker", name="jobs"),
        Change(
            "job",
            str(job.pk),
            "job.failed",
            None,
            {"kind": job.kind, "attempts": job.attempts, "error_code": job.error_code},
            f"failed after {job.attempts} attempt(s)",
        ),
        at=now,
    )


@db_task(name="jobs.run")
def run_job(job_id: int) -> str:
    """The queue's message: "run job N". Defined beside `run` so sending needs no module above this one."""
    job = run(job_id)
    return job.state if job is not None else "missing"


def send(job_id: int, eta: datetime | None = None) -> None:
    """Hand job `job_id` to the queue (at `eta` if later). A failure here loses nothing: the sweep
    sends queued jobs again."""
    try:
        if eta is not None and eta > timezone.now():
            run_job.schedule(args=(job_id,), eta=eta)
        else:
            run_job(job_id)
    except Exception:
        log.exception("jobs.send_failed", job_id=job_id)


def send_on_commit(job: Job) -> None:
    transaction.on_commit(functools.partial(send, job.pk, job.run_after))


def lost_detail(job: Job) -> str:
    beat = job.heartbeat_at.isoformat() if job.heartbeat_at else "never"
    return f"attempt {job.attempts} on {job.worker or 'an unknown worker'}: last heartbeat {beat}"
