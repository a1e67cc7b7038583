"""The daily settlement job: at 02:00 in the institution's time zone (later if the cut-off is later),
settle the business day just closed.

One job per business day (`settlement.run`, keyed by the day), so the jobs page shows it and the
sweep picks up a killed run. Its batches and its "done" commit together: killed before, nothing is
settled and the next attempt runs the day again; after, it never runs again. Huey's crontabs are in
UTC, so the hour is worked out from the zone's offset at start-up (02:00 Shanghai = 18:00 UTC).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from posfleet.accounts.roles import perm
from posfleet.core.actor import Actor
from posfleet.jobs import registry
from posfleet.jobs import services as jobs
from posfleet.jobs.models import Job
from posfleet.jobs.runner import Context
from posfleet.settlement.services import INSTITUTION_TZ, RunResult, run_settlement

log = logging.getLogger(__name__)


def _run_hour() -> int:
    """02:00 in the institution's time zone, or the first whole hour after a later settlement
    cut-off, as the hour Huey's crontab reads (UTC unless configured otherwise)."""
    cut = time.fromisoformat(settings.POSFLEET_SETTLEMENT_CUTOFF)
    local = max(2, cut.hour + (1 if cut.minute else 0))
    if not HUEY.utc:
        return local % 24
    offset = datetime.now(INSTITUTION_TZ).utcoffset() or timedelta(0)
    return int(local - offset / timedelta(hours=1)) % 24


RUN_HOUR = _run_hour()
JOB_KIND = "settlement.run"


def _yesterday() -> date:
    return datetime.now(INSTITUTION_TZ).date() - timedelta(days=1)


def _summary(result: RunResult) -> dict[str, Any]:
    return {
        "business_date": result.business_date.isoformat(),
        "created": len(result.created),
        "paid": len(result.paid),
    }


def settle_day(business_date: date | str | None = None) -> dict[str, Any]:
    """Settle `business_date` (default: yesterday in Asia/Shanghai) as the system worker, in this
    process (`posfleet run_settlement`)."""
    day = business_date or _yesterday()
    with transaction.atomic():
        summary = _summary(run_settlement(Actor.system("worker", name="settlement"), day))
    log.info("settlement run", extra={f"settlement_{k}": v for k, v in summary.items()})
    return summary


@registry.register(JOB_KIND, label=_("Settlement run"), max_attempts=5)
def _run(job: Job, ctx: Context) -> dict[str, Any]:
    with transaction.atomic():
        summary = _summary(
            run_settlement(Actor.system("worker", name="settlement"), job.payload["business_date"])
        )
        ctx.done(summary)  # the batches and "done" commit together
    log.info("settlement run", extra={f"settlement_{k}": v for k, v in summary.items()})
    return summary


def settle_day_job(business_date: date | str | None = None) -> Job:
    """The settlement of `business_date` (default yesterday) as a job, run here unless it ran already."""
    day = str(business_date or _yesterday())
    return jobs.run_now(
        JOB_KIND,
        {"business_date": day},
        key=f"{JOB_KIND}:{day}",
        perm=perm("run_settlement"),
        object_type="business_date",
        object_id=day,
    )


@db_periodic_task(crontab(hour=str(RUN_HOUR), minute="0"), name="settlement.daily")
def daily_settlement() -> dict[str, Any]:
    job = settle_day_job()
    return dict(job.result) or {"business_date": job.payload.get("business_date"), "job": job.state}


@db_task(name="settlement.run_day")
def settle_day_task(business_date: str) -> dict[str, Any]:
    return dict(settle_day_job(business_date).result)
