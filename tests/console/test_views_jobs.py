"""The console's jobs page: who sees which jobs, filters, the stuck and failed ones, retry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from posfleet.audit.models import AuditEvent
from posfleet.core.actor import Actor
from posfleet.jobs import runner
from posfleet.jobs.models import Job
from tests import builders
from tests.jobs import builders as jb

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(kind):
    name = kind("tests.page", lambda job, ctx: {"ok": True}, label="Page test")
    technician = builders.user(role="technician")
    done = jb.enqueue(name, perm="accounts.run_settlement")
    runner.run(done.pk)
    stuck = jb.enqueue(name, perm="accounts.settle_case")  # finance's part of a case
    runner.claim(stuck.pk)
    jb.expire(stuck)
    failed = jb.enqueue(name, perm="accounts.hold_maintenance", actor=Actor.for_user(technician, "console"))
    Job.objects.filter(pk=failed.pk).update(
        state="failed", error_code="exception", error="OSError: disk full"
    )
    return {"done": done, "stuck": stuck, "failed": failed, "technician": technician}


def _ids(response):
    return [r["job"].pk for r in response.context["rows"]]


def test_admin_sees_all_jobs_newest_first_with_their_state(staff_client, jobs, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        r = staff_client.get(reverse("console:jobs"))
    assert r.status_code == 200
    assert _ids(r) == [jobs["failed"].pk, jobs["stuck"].pk, jobs["done"].pk]
    html = r.content.decode()
    assert "worker lost" in html and "disk full" in html and "Page test" in html
    assert html.count(">Retry<") == 2  # the failed and the stuck one


def test_filters(staff_client, jobs):
    assert _ids(staff_client.get(reverse("console:jobs"), {"state": "failed"})) == [jobs["failed"].pk]
    assert len(_ids(staff_client.get(reverse("console:jobs"), {"kind": "tests.page"}))) == 3
    assert len(_ids(staff_client.get(reverse("console:jobs"), {"state": "bogus"}))) == 3  # ignored


def test_each_role_sees_the_jobs_of_its_work_and_its_own(en_client, jobs):
    en_client.force_login(jobs["technician"])
    assert _ids(en_client.get(reverse("console:jobs"))) == [jobs["failed"].pk]
    en_client.force_login(builders.user(role="finance"))
    assert _ids(en_client.get(reverse("console:jobs"))) == [jobs["stuck"].pk, jobs["done"].pk]
    en_client.force_login(builders.user(role="warehouse"))
    assert _ids(en_client.get(reverse("console:jobs"))) == []


def test_retry_queues_the_job_again_and_is_audited(en_client, jobs):
    en_client.force_login(jobs["technician"])
    r = en_client.post(reverse("console:job_retry", args=[jobs["failed"].pk]))
    assert r.status_code == 302
    job = Job.objects.get(pk=jobs["failed"].pk)
    assert job.state in ("queued", "done")  # queued, and run at once by the in-process queue
    assert AuditEvent.objects.filter(action="job.retry", object_id=str(job.pk)).count() == 1
    r = en_client.post(reverse("console:job_retry", args=[jobs["done"].pk]))
    assert r.status_code == 404


def test_the_page_reads_in_chinese(client, jobs):
    client.force_login(builders.user(role="admin"))
    html = client.get(reverse("console:jobs")).content.decode()
    assert "任务" in html and "失败" in html


def test_a_big_bulk_hold_from_the_console_is_queued_and_shown_on_the_jobs_page(
    en_client, login, settings, django_capture_on_commit_callbacks
):
    from tests.console.test_views_terminals import start_bulk

    settings.BULK_INLINE_MAX = 2
    login("technician", stepped_up=True)
    ts = [builders.terminal() for _ in range(3)]
    url = start_bulk(en_client, "hold:maintenance", [t.tid for t in ts])
    with django_capture_on_commit_callbacks(execute=True):
        r = en_client.post(url, {"reason": "firmware push"})
    assert r.status_code == 302 and r["Location"] == reverse("console:jobs")
    job = Job.objects.get(kind="lifecycle.bulk_hold")
    page = en_client.get(r["Location"]).content.decode()
    assert f"as job #{job.pk}" in page and f"job-{job.pk}" in page
    assert job.state == "done" and job.result["placed"] == 3
    hold_id = job.result["hold_id"]
    with django_capture_on_commit_callbacks(execute=True):
        r = en_client.post(reverse("console:hold_release", args=[hold_id]), {"reason": "window over"})
    assert r.status_code == 302 and r["Location"] == reverse("console:jobs")
    assert Job.objects.get(kind="lifecycle.bulk_release").state == "done"
