"""Periodic jobs of the notices, run by the Huey consumer (`posfleet worker`): purging the rate-limit
counters of windows that have ended (each window needs its row for a minute only)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from posfleet.core.periodic import describe
from posfleet.notices import ratelimit


@db_periodic_task(crontab(minute="*/10"), name="notices.purge_rate_counters")
def purge_rate_counters() -> int:
    return ratelimit.purge()


describe("notices.purge_rate_counters", "purged {} rate-limit counter(s)")


from posfleet.notices import deliveries  # noqa: E402, F401  (registers the delivery job)
