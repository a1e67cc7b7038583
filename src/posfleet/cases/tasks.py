"""Worker jobs of cases (Huey): export builds, scheduled stops and suspension reminders.

Every job is idempotent: it re-reads the row, does nothing when the work is done, and the periodic
sweeps pick up anything a lost scheduled job missed.
"""

from __future__ import annotations

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from posfleet.cases.services import closure, export, review


@db_task(name="cases.build_export")
def build_case_export(export_id: int) -> None:
    export.build_export(export_id)


@db_task(name="cases.stop_terminals")
def stop_case_terminals(case_id: int) -> int:
    return closure.stop_due()


@db_task(name="cases.suspension_reminder")
def suspension_reminder(case_id: int) -> bool:
    with transaction.atomic():
        return review.send_reminder(case_id)


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
