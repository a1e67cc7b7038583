"""Periodic jobs of the lifecycle, run by the Huey consumer (`posfleet worker`).

The eligibility answer never waits for these: a hold whose `ends_at` has passed stops counting at that
instant. The worker only writes the end into the audit log (`hold.expire`) and marks the hold closed,
so the history shows when each scheduled hold ended. Running it twice, late, or concurrently with
another worker is harmless: `close_ended_holds` skips locked rows and closes each hold once.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from posfleet.core.periodic import describe
from posfleet.lifecycle import bulk, refusals
from posfleet.lifecycle.holds import close_ended_holds

log = logging.getLogger(__name__)
__all__ = ["bulk"]  # its jobs (bulk holds placed and released by the worker) register on import


def close_holds() -> int:
    """Close every hold whose scheduled end has passed; returns how many were closed."""
    closed = close_ended_holds()
    if closed:
        log.info("closed ended holds", extra={"count": closed})
    return closed


@db_periodic_task(crontab(minute="*"), name="lifecycle.close_ended_holds")
def close_ended_holds_every_minute() -> int:
    return close_holds()


describe("lifecycle.close_ended_holds", "closed {} ended hold(s)")


@db_periodic_task(crontab(minute="*"), name="lifecycle.scan_refusals")
def scan_refusals_every_minute() -> int:
    """Alerts for terminals stopped for good that keep asking (read from the counted refusals)."""
    return refusals.scan_refusals()


describe("lifecycle.scan_refusals", "raised {} device alert(s)")
