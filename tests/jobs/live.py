"""Set-up and checks of the live worker tests, run as `python -m tests.jobs.live COMMAND` in a
subprocess against the file database the test and its `posfleet worker` processes share (the
environment names it: DATABASE_URL, POSFLEET_VAR_DIR). Prints one JSON line."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posfleet.settings")
    import django

    django.setup()


def seed_export(rows: int) -> dict[str, Any]:
    """A merchant with `rows` transactions, an approved deactivation case, and its export requested
    (the job is queued in the file queue for a worker to take)."""
    from django.db import transaction
    from django.utils import timezone

    from posfleet.cases import services
    from posfleet.money.models import Transaction, business_date_of
    from tests import builders
    from tests.cases import builders as cb

    m = builders.merchant()
    t = builders.terminal(merchant_obj=m)
    start = timezone.now() - timedelta(days=30)
    batch = []
    for n in range(rows):
        at = start + timedelta(seconds=n)
        batch.append(
            Transaction(
                switch_id=f"LIVE{n:010d}",
                tid=t.tid,
                merchant_id=m.pk,
                channel="credit",
                type="sale",
                amount_fen=1000 + n % 997,
                occurred_at=at,
                fee_fen=6,
                net_fen=994 + n % 997,
                rate_plan_code="STANDARD",
                rate_bp=60,
                business_date=business_date_of(at),
            )
        )
        if len(batch) == 5000:
            Transaction.objects.bulk_create(batch)
            batch = []
    Transaction.objects.bulk_create(batch)
    case = cb.approved("deactivation", m, [t.tid])
    with transaction.atomic():
        export = services.start_export(builders.actor("reviewer"), case.pk)
    return {"case_id": case.pk, "export_id": export.pk, "job_id": export.job_id, "merchant_id": m.pk}


def expected_sha256(merchant_id: int) -> dict[str, Any]:
    """The SHA-256 and row count of the export built in one pass, uninterrupted, from the same rows."""
    import hashlib

    from posfleet.cases.services.export import csv_chunks

    digest = hashlib.sha256()
    rows = 0
    for chunk, written in csv_chunks(merchant_id):
        digest.update(chunk)
        rows = written
    return {"sha256": digest.hexdigest(), "rows": rows}


def main(argv: list[str]) -> None:
    _setup()
    command, *args = argv
    if command == "seed_export":
        out = seed_export(int(args[0]))
    elif command == "expected_sha256":
        out = expected_sha256(int(args[0]))
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
