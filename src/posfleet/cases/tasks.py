"""Periodic worker jobs of cases: the sweeps that pick up what a lost scheduled job missed.

The one-off jobs (export builds, scheduled stops, suspension reminders) are defined beside the
services that enqueue them; importing those services here registers them with the worker. Every
job is idempotent: it re-reads the row and does nothing when the work is done.
"""

from __future__ import annotations

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from posfleet.cases.services import closure, review
from posfleet.cases.services.closure import stop_case_terminals
from posfleet.cases.services.export import build_case_export
from posfleet.cases.services.review import suspension_reminder

__all__ = ["build_case_export", "stop_case_terminals", "suspension_reminder"]


@db_periodic_task(crontab(minute="*"), name="cases.stop_due")
def stop_due_every_minute() -> int:
    return closure.stop_due()


@db_periodic_task(crontab(minute="*/10"), name="cases.reminders_due")
def reminders_due() -> int:
    sent = 0
    for case_id in review.due_reminder_ids():
        with transaction.atomic():
            sent += int(review.send_reminder(case_id))
    return sent
