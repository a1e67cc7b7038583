"""Data export: idempotent start, worker build with checksum, and the checklist item's failure reasons."""

import hashlib

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.cases import services
from posfleet.cases.models import CaseExport, files_dir
from posfleet.core.errors import Conflict, NotFound
from posfleet.jobs import runner
from posfleet.jobs.models import Job
from tests import builders
from tests.cases import builders as cb
from tests.cases.test_api import Api
from tests.jobs import builders as jb
from tests.settlement.builders import at, days_ago, tx


def _case():
    m = builders.merchant()
    t = builders.terminal(merchant_obj=m)
    for n in range(3):
        tx(m, 10_000 + n, at(days_ago(1), hour=9 + n), tid=t.tid)
    return cb.approved("deactivation", m, [t.tid])


def _start(actor, case, **kw):
    with transaction.atomic():
        return services.start_export(actor, case.pk, **kw)


@pytest.mark.django_db
class TestExport:
    def test_not_requested_then_pending_then_done(self, django_capture_on_commit_callbacks):
        case = _case()
        item = cb.item_map(case)["data_exported"]
        assert not item.ok and "not been exported" in item.why
        with pytest.raises(NotFound):
            services.export_file(builders.actor("reviewer"), case.pk)
        export = _start(builders.actor("reviewer"), case)  # on_commit not run: still pending
        assert export.state == "pending"
        item = cb.item_map(case)["data_exported"]
        assert not item.ok and "being built" in item.why
        with pytest.raises(Conflict):
            services.export_file(builders.actor("reviewer"), case.pk)
        services.build_export(export.pk)
        export.refresh_from_db()
        assert (export.state, export.rows, export.progress) == ("done", 3, 100)
        _meta, data = services.export_file(builders.actor("reviewer"), case.pk)
        assert hashlib.sha256(data).hexdigest() == export.sha256
        assert cb.item_map(case)["data_exported"].ok

    def test_start_is_idempotent(self, django_capture_on_commit_callbacks):
        case = _case()
        with django_capture_on_commit_callbacks(execute=True):
            first = _start(builders.actor("reviewer"), case)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            again = _start(builders.actor("reviewer"), case)
        assert first.pk == again.pk and CaseExport.objects.count() == 1
        assert callbacks == []  # a finished export is not rebuilt unless asked
        assert services.build_export(first.pk).state == "done"  # a repeated job does nothing

    def test_missing_file_and_failure_are_reported(self, django_capture_on_commit_callbacks):
        case = _case()
        with django_capture_on_commit_callbacks(execute=True):
            export = _start(builders.actor("reviewer"), case)
        export.refresh_from_db()
        export.path.unlink()
        assert "missing" in cb.item_map(case)["data_exported"].why
        CaseExport.objects.filter(pk=export.pk).update(state="failed", error="disk full")
        assert "disk full" in cb.item_map(case)["data_exported"].why

    def test_merchant_may_export_own_data_only(self, django_capture_on_commit_callbacks):
        case = _case()
        with django_capture_on_commit_callbacks(execute=True):
            _start(cb.portal_actor(case.merchant), case)
        assert services.export_file(cb.portal_actor(case.merchant, username="owner2"), case.pk)[0].rows == 3
        with pytest.raises(NotFound):
            services.export_file(cb.portal_actor(builders.merchant()), case.pk)


@pytest.mark.django_db
class TestExportJob:
    """The export is a job: a dead worker's export is taken up again, a rebuild always queues."""

    def _stuck(self, case):
        """An export whose worker died after writing part of its file."""
        export = _start(builders.actor("reviewer"), case)
        ctx = runner.claim(export.job_id)
        name = "0123456789abcdef0123456789abcdef.csv"
        with transaction.atomic():
            ctx.save({"file": name}, progress=1, total=3)
        CaseExport.objects.filter(pk=export.pk).update(state="running")
        partial = files_dir("exports") / f"{name}.part"
        partial.write_bytes(b"switch_id,tid\nSW1,")
        jb.expire(Job.objects.get(pk=export.job_id))
        return export, partial

    def test_the_api_answers_with_the_export_and_its_job(self, client):
        case = _case()
        api = Api(client, builders.user(role="reviewer"))
        r = api.post(f"/cases/{case.pk}/export")
        assert r.status_code == 202
        body = r.json()
        assert body["state"] == "pending" and body["job"]["kind"] == "cases.export"
        assert body["job"]["state"] == "queued" and body["job"]["attempts"] == 0
        job = api.get(f"/jobs/{body['job']['id']}").json()
        assert job["object_type"] == "case" and job["object_id"] == str(case.pk)

    def test_rebuild_of_a_stuck_export_queues_another_attempt(
        self, client, django_capture_on_commit_callbacks
    ):
        case = _case()
        export, partial = self._stuck(case)
        api = Api(client, builders.user(role="reviewer"))
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            r = api.post(f"/cases/{case.pk}/export?rebuild=true")
        assert r.status_code == 202 and len(callbacks) == 1
        assert (r.json()["state"], r.json()["job"]["state"]) == ("pending", "queued")
        assert r.json()["job"]["error_code"] == "worker_lost"
        export.refresh_from_db()
        job = Job.objects.get(pk=export.job_id)
        assert (export.state, job.state, job.attempts) == ("done", "done", 2)
        assert not partial.exists() and list(files_dir("exports").iterdir()) == [export.path]
        assert hashlib.sha256(export.path.read_bytes()).hexdigest() == export.sha256
        assert export.rows == 3

    def test_a_row_left_running_without_a_job_is_built_again(self, django_capture_on_commit_callbacks):
        case = _case()
        export = CaseExport.objects.create(case=case, state="running", progress=37)  # from before jobs
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            again = _start(builders.actor("reviewer"), case, rebuild=True)
        assert again.pk == export.pk and len(callbacks) == 1
        export.refresh_from_db()
        assert export.state == "done" and export.job.state == "done"

    def test_a_built_export_reads_100_percent_whatever_progress_was_stored(self):
        case = _case()
        export = CaseExport.objects.create(case=case, state="done", progress=0)
        assert export.percent == 100 and export.as_dict()["progress"] == 100

    def test_a_failed_export_is_tried_again_and_a_live_one_is_left_alone(
        self, django_capture_on_commit_callbacks
    ):
        case = _case()
        export = _start(builders.actor("reviewer"), case)
        runner.claim(export.job_id)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            _start(builders.actor("reviewer"), case, rebuild=True)
        assert callbacks == []  # its worker is alive: nothing is queued twice
        job = Job.objects.get(pk=export.job_id)
        with transaction.atomic():
            runner.mark_failed(Job.objects.select_for_update().get(pk=job.pk), timezone.now())
        export.refresh_from_db()
        assert export.state == "failed"
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            _start(builders.actor("reviewer"), case)
        export.refresh_from_db()
        assert len(callbacks) == 1 and export.state == "done" and export.job.state == "done"
        assert export.job_id != job.pk  # a new job; the failed one stays as it was, for the record

    def test_a_worker_that_lost_its_lease_leaves_no_file(self, monkeypatch):
        case = _case()
        export = _start(builders.actor("reviewer"), case)

        def taken_over(self, progress):
            raise runner.LeaseLost(export.job_id)

        monkeypatch.setattr(runner.Context, "report", taken_over)
        services.build_export(export.pk)
        export.refresh_from_db()
        assert export.state == "running" and not export.sha256
        assert list(files_dir("exports").iterdir()) == []

    def test_a_rebuild_replaces_the_file(self, django_capture_on_commit_callbacks):
        case = _case()
        with django_capture_on_commit_callbacks(execute=True):
            first = _start(builders.actor("reviewer"), case)
        first.refresh_from_db()
        old = first.path
        with django_capture_on_commit_callbacks(execute=True):
            _start(builders.actor("reviewer"), case, rebuild=True)
        first.refresh_from_db()
        assert first.path != old and not old.exists() and first.path.exists()
        assert Job.objects.filter(kind="cases.export").count() == 2
