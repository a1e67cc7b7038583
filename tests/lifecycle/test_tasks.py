"""The worker's minute job: ended holds are closed once, with their audit event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from huey.api import TaskWrapper

from posfleet.audit.models import AuditEvent
from posfleet.audit.services import verify
from posfleet.lifecycle import holds, tasks
from posfleet.lifecycle.models import Hold
from tests import builders as b

pytestmark = pytest.mark.django_db


def _ended_hold(tid: str) -> Hold:
    """A hold whose scheduled end has passed (written directly: the service refuses past ends)."""
    now = timezone.now()
    with transaction.atomic():
        hold = holds.place_hold(b.actor("technician"), kind="maintenance", reason="upgrade", tid=tid)
    Hold.objects.filter(pk=hold.pk).update(
        starts_at=now - timedelta(hours=2), ends_at=now - timedelta(minutes=1)
    )
    return hold


def test_close_holds_closes_ended_holds_once_and_audits() -> None:
    t = b.terminal()
    ended = _ended_hold(t.tid)
    with transaction.atomic():
        open_hold = holds.place_hold(b.actor("technician"), kind="fault", reason="screen", tid=t.tid)

    assert tasks.close_holds() == 1
    assert tasks.close_holds() == 0  # idempotent

    ended.refresh_from_db()
    open_hold.refresh_from_db()
    assert ended.closed and not open_hold.closed
    events = AuditEvent.objects.filter(action="hold.expire", object_id=t.tid)
    assert events.count() == 1
    assert events.get().channel == "worker"
    assert verify().ok


def test_merchant_hold_expiry_is_audited_on_the_merchant() -> None:
    m = b.merchant()
    now = timezone.now()
    with transaction.atomic():
        hold = holds.place_hold(
            b.actor("agent"), kind="merchant_suspension", reason="renovation", merchant_id=m.pk
        )
    Hold.objects.filter(pk=hold.pk).update(starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    assert tasks.close_holds() == 1
    assert AuditEvent.objects.filter(
        action="hold.expire", object_type="merchant", object_id=str(m.pk)
    ).exists()


def test_periodic_task_is_registered_every_minute() -> None:
    task = tasks.close_ended_holds_every_minute
    assert isinstance(task, TaskWrapper)
    from huey.contrib.djhuey import HUEY

    assert task.task_class in HUEY._registry._periodic_tasks
    minute = timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)
    assert all(task.task_class().validate_datetime(minute + timedelta(minutes=i)) for i in range(3))
    assert task.call_local() == 0


def test_worker_once_runs_the_job(capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    t = b.terminal()
    _ended_hold(t.tid)
    call_command("worker", "--once")
    assert "closed 1 ended hold(s)" in capsys.readouterr().out
