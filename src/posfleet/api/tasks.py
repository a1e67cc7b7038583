"""Periodic jobs of the API, run by the Huey consumer (`posfleet worker`).

Stored Idempotency-Key responses are only needed while clients may still retry; they are kept for
IDEMPOTENCY_DAYS and then purged, so the table does not grow without bound.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from posfleet.api.idempotency import purge

IDEMPOTENCY_DAYS = 7


def purge_idempotency_records() -> int:
    with transaction.atomic():
        return purge(timezone.now() - timedelta(days=IDEMPOTENCY_DAYS))


@db_periodic_task(crontab(minute="17", hour="3"), name="api.purge_idempotency_records")
def purge_idempotency_records_daily() -> int:
    return purge_idempotency_records()
