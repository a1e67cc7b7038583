"""The daily settlement job: at 02:00 Asia/Shanghai, settle yesterday (the business day just closed).

Idempotent like `run_settlement` itself: a missed or repeated run changes nothing already settled, and
the run also pays the T+1 batches that fell due. Huey evaluates crontabs in UTC unless configured
otherwise, so 02:00 in Shanghai (UTC+8, no daylight saving) is 18:00 UTC of the day before.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from posfleet.core.actor import Actor
from posfleet.settlement.services import SHANGHAI, run_settlement

log = logging.getLogger(__name__)
RUN_HOUR = 18 if HUEY.utc else 2


def settle_day(business_date: date | str | None = None) -> dict[str, Any]:
    """Settle `business_date` (default: yesterday in Asia/Shanghai) as the system worker."""
    day = business_date or (datetime.now(SHANGHAI).date() - timedelta(days=1))
    with transaction.atomic():
        result = run_settlement(Actor.system("worker", name="settlement"), day)
    summary = {
        "business_date": result.business_date.isoformat(),
        "created": len(result.created),
        "paid": len(result.paid),
    }
    log.info("settlement run", extra={f"settlement_{k}": v for k, v in summary.items()})
    return summary


@db_periodic_task(crontab(hour=str(RUN_HOUR), minute="0"), name="settlement.daily")
def daily_settlement() -> dict[str, Any]:
    return settle_day()


@db_task(name="settlement.run_day")
def settle_day_task(business_date: str) -> dict[str, Any]:
    return settle_day(business_date)
