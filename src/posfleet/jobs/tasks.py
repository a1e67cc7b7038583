"""The worker's side of jobs: the Huey task that runs one job, and the sweep every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from posfleet.core.periodic import at_once, at_worker_start, describe
from posfleet.jobs import runner, sweep


@db_task(name="jobs.run")
def run_job(job_id: int) -> str:
    job = runner.run(job_id)
    return job.state if job is not None else "missing"


@db_periodic_task(crontab(minute="*"), name="jobs.sweep")
def sweep_every_minute() -> dict[str, int]:
    return sweep.sweep()


describe("jobs.sweep", "jobs sweep: {}")
describe("jobs.run_due", "ran {} queued job(s)")
at_once("jobs.run_due", runner.run_due)
# A worker that starts takes up at once what a dead one left (expired leases, lost messages).
at_worker_start("jobs.sweep", sweep.sweep)
