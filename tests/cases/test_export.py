"""Data export: idempotent start, worker build with checksum, and the checklist item's failure reasons."""

import hashlib

import pytest
from django.db import transaction

from posfleet.cases import services
from posfleet.cases.models import CaseExport
from posfleet.core.errors import Conflict, NotFound
from tests import builders
from tests.cases import builders as cb
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
