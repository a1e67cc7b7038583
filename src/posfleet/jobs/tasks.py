"""The worker's side of jobs: the sweep every minute and at worker start (the task that runs one job,
`jobs.run`, is defined in the runner)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from posfleet.core.periodic import at_once, at_worker_start, describe
from posfleet.jobs import runner, sweep


@db_periodic_task(crontab(minute="*"), name="jobs.sweep")
def sweep_every_minute() -> dict[str, int]:
    return sweep.sweep()


describe("jobs.sweep", "jobs sweep: {}")
describe("jobs.run_due", "ran {} queued job(s)")
at_once("jobs.run_due", runner.run_due)
# A worker that starts takes up at once what a dead one left (expired leases, lost messages).
at_worker_start("jobs.sweep", sweep.sweep)
