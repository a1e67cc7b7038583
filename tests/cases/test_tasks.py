"""Worker jobs run inline in tests (Huey immediate): reminders and scheduled stops are idempotent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from posfleet.cases import tasks
from posfleet.cases.models import Case
from posfleet.cases.services import review
from posfleet.jobs import runner
from posfleet.jobs.models import Job
from posfleet.notices.models import Notice
from tests import builders
from tests.cases import builders as cb


@pytest.mark.django_db
def test_reminder_job_and_sweep_send_once():
    m = builders.merchant()
    t = builders.terminal(merchant_obj=m)
    case = cb.approved("suspension", m, [t.tid], **cb.window(hours_from_now=0.01, length_hours=20))
    # make the reminder due now: the window ends within the lead time
    Case.objects.filter(pk=case.pk).update(
        starts_at=timezone.now() - timedelta(hours=30), ends_at=timezone.now() + timedelta(hours=2)
    )
    assert tasks.suspension_reminder(case.pk)() is True
    assert tasks.suspension_reminder(case.pk)() is False
    assert tasks.reminders_due.call_local() == 0
    assert Notice.objects.filter(case_id=case.pk, kind="reminder").count() == 1


@pytest.mark.django_db
def test_stop_job_stops_due_cases_once():
    fleet = cb.lent_fleet()
    case = cb.approved("deactivation", fleet["merchant"], [fleet["t2"].tid])
    Case.objects.filter(pk=case.pk).update(effective_at=timezone.now() - timedelta(seconds=1))
    assert tasks.stop_due_every_minute.call_local() == 1
    assert tasks.stop_case_terminals(case.pk)() == 0
    fleet["t2"].refresh_from_db()
    assert fleet["t2"].state == "deactivated"


@pytest.mark.django_db
def test_approval_queues_one_reminder_job_due_before_the_end(django_capture_on_commit_callbacks):
    m = builders.merchant()
    t = builders.terminal(merchant_obj=m)
    case = cb.approved("suspension", m, [t.tid], **cb.window(hours_from_now=0.01, length_hours=20))
    job = Job.objects.get(kind="cases.reminder")
    case.refresh_from_db()
    assert (job.key, job.state, job.object_id) == (f"cases.reminder:{case.pk}", "queued", str(case.pk))
    assert job.run_after == review.reminder_due_at(case)
    assert runner.run(job.pk).state == "queued"  # not due yet
    Case.objects.filter(pk=case.pk).update(
        starts_at=timezone.now() - timedelta(hours=30), ends_at=timezone.now() + timedelta(hours=2)
    )
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    assert runner.run(job.pk).result == {"sent": True}
    assert tasks.reminders_due.call_local() == 0  # the sweep finds it sent
    assert Notice.objects.filter(case_id=case.pk, kind="reminder").count() == 1
