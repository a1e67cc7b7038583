"""The jobs API: a job is seen by the roles that own its work and by its starter; retry rules."""

from __future__ import annotations

import pytest

from posfleet.core.actor import Actor
from posfleet.jobs import runner
from posfleet.jobs.models import Job
from tests.api.builders import Api
from tests.jobs import builders as jb

pytestmark = pytest.mark.django_db


def _actor(api):
    return Actor.for_user(api.user, "api")


def _job(kind, name="tests.api", **kw):
    return jb.enqueue(kind(name, lambda job, ctx: {"ok": True}), perm="accounts.work_case", **kw)


def test_a_job_is_seen_by_the_owning_roles_and_its_starter(kind):
    agent = Api("agent")
    job = _job(kind, actor=_actor(agent))
    assert Api("reviewer").get(f"/jobs/{job.pk}").status_code == 200  # work_case
    assert Api("admin").get(f"/jobs/{job.pk}").json()["created_by"] == agent.user.username
    assert agent.get(f"/jobs/{job.pk}").status_code == 200  # started it
    r = Api("technician").get(f"/jobs/{job.pk}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert Api("technician").get("/jobs").json()["items"] == []


def test_list_filters_and_pages(kind):
    jobs = [_job(kind) for _ in range(3)]
    runner.run(jobs[0].pk)
    api = Api("admin")
    body = api.get("/jobs", {"state": "done"}).json()
    assert [j["id"] for j in body["items"]] == [jobs[0].pk] and body["items"][0]["result"] == {"ok": True}
    page = api.get("/jobs", {"kind": "tests.api", "limit": 2}).json()
    assert [j["id"] for j in page["items"]] == [jobs[2].pk, jobs[1].pk]
    rest = api.get("/jobs", {"kind": "tests.api", "cursor": page["next_cursor"]}).json()
    assert [j["id"] for j in rest["items"]] == [jobs[0].pk] and rest["next_cursor"] is None
    assert api.get("/jobs", {"state": "stuck"}).status_code == 422
    assert api.get("/jobs", {"kind": "nope"}).status_code == 422


def test_retry_a_failed_or_stuck_job_but_not_a_live_or_done_one(kind):
    job = _job(kind)
    api = Api("reviewer")
    runner.claim(job.pk)
    r = api.post(f"/jobs/{job.pk}/retry")
    assert r.status_code == 409 and r.json()["error"]["code"] == "job_running"
    jb.expire(job)
    r = api.post(f"/jobs/{job.pk}/retry")
    assert r.status_code == 200 and r.json()["state"] == "queued" and r.json()["error_code"] == "worker_lost"
    runner.run(job.pk)
    r = api.post(f"/jobs/{job.pk}/retry")
    assert r.status_code == 409 and r.json()["error"]["code"] == "job_done"
    Job.objects.filter(pk=job.pk).update(state="failed", max_attempts=2, attempts=2)
    r = api.post(f"/jobs/{job.pk}/retry")
    assert r.status_code == 200 and r.json()["max_attempts"] == 5  # a fresh set of attempts
    assert Api("technician").post(f"/jobs/{job.pk}/retry").status_code == 404
