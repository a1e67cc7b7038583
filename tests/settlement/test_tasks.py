import pytest

from posfleet.jobs import runner
from posfleet.jobs.models import Job
from posfleet.jobs.sweep import sweep
from posfleet.settlement.models import SettlementBatch
from posfleet.settlement.tasks import daily_settlement, settle_day
from tests import builders as b
from tests.jobs import builders as jb
from tests.settlement.builders import at, days_ago, tx

pytestmark = pytest.mark.django_db


def test_daily_job_settles_yesterday_once():
    m = b.merchant()
    tx(m, 1000, at(days_ago(1)))
    first = daily_settlement.call_local()
    assert first["created"] == 1
    assert settle_day()["created"] == 0
    assert SettlementBatch.objects.get().business_date == days_ago(1)


def test_named_day():
    m = b.merchant()
    tx(m, 1000, at(days_ago(4)))
    assert settle_day(days_ago(4).isoformat())["created"] == 1


def test_command():
    from io import StringIO

    from django.core.management import CommandError, call_command

    m = b.merchant()
    tx(m, 1000, at(days_ago(2)))
    out = StringIO()
    call_command("run_settlement", days_ago(2).isoformat(), stdout=out)
    assert "1 batches created" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("run_settlement", "not-a-date")


def test_the_daily_run_is_a_job_once_per_day():
    m = b.merchant()
    tx(m, 1000, at(days_ago(1)))
    daily_settlement.call_local()
    assert daily_settlement.call_local()["created"] == 1  # the day's job, done: not run again
    job = Job.objects.get(kind="settlement.run")
    assert (job.key, job.state, job.attempts) == (f"settlement.run:{days_ago(1)}", "done", 1)
    assert job.perm == "accounts.run_settlement" and job.object_id == days_ago(1).isoformat()


def test_a_run_killed_before_its_commit_is_run_again_without_a_second_batch(monkeypatch):
    from posfleet.settlement import tasks

    m = b.merchant()
    tx(m, 1000, at(days_ago(1)))
    job = jb.enqueue(tasks.JOB_KIND, {"business_date": days_ago(1).isoformat()}, key="run:once")
    real = tasks.run_settlement

    def killed_after_the_batches(*args, **kwargs):
        real(*args, **kwargs)
        raise jb.Killed

    monkeypatch.setattr(tasks, "run_settlement", killed_after_the_batches)
    dead = jb.die_in(job.pk)
    assert dead.state == "running" and not SettlementBatch.objects.exists()  # rolled back with it
    monkeypatch.setattr(tasks, "run_settlement", real)
    jb.expire(dead)
    assert sweep()["requeued"] == 1
    done = runner.run(job.pk)
    assert (done.state, done.attempts, done.result["created"]) == ("done", 2, 1)
    assert SettlementBatch.objects.count() == 1
    assert runner.run(job.pk).state == "done" and SettlementBatch.objects.count() == 1


def test_a_run_whose_worker_lost_the_lease_commits_nothing():
    from posfleet.settlement import tasks

    m = b.merchant()
    tx(m, 1000, at(days_ago(1)))
    job = jb.enqueue(tasks.JOB_KIND, {"business_date": days_ago(1).isoformat()}, key="run:fenced")
    stale = runner.claim(job.pk)
    jb.expire(job)
    sweep()
    fresh = runner.claim(job.pk)
    with pytest.raises(runner.LeaseLost):
        tasks._run(job, stale)  # the presumed-dead worker wakes up: its batches roll back
    assert not SettlementBatch.objects.exists()
    assert tasks._run(job, fresh)["created"] == 1 and SettlementBatch.objects.count() == 1
