"""Workers racing for jobs (PostgreSQL, real connections): each job is run by exactly one of them."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from posfleet.jobs import runner
from posfleet.jobs.models import Job
from tests.jobs import builders as jb

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database (PostgreSQL)"),
]


def test_racing_workers_run_each_job_once(kind):
    ran: list[int] = []
    lock = threading.Lock()

    def handler(job, ctx):
        with lock:
            ran.append(job.pk)
        return {}

    name = kind("tests.race", handler)
    ids = [jb.enqueue(name).pk for _ in range(30)]
    barrier = threading.Barrier(4)

    def worker(by_id: bool) -> None:
        try:
            barrier.wait()
            if by_id:  # every message names every job: most claims find it taken
                for job_id in ids:
                    runner.run(job_id)
            else:
                runner.run_due()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n % 2 == 0,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(ran) == sorted(ids)
    assert set(Job.objects.filter(kind=name).values_list("state", "attempts")) == {("done", 1)}
