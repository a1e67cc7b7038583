"""What every delivery channel (SMS, e-mail, webhooks) shares with the delivery loop: the answer a send
gives, and queueing a delivery's next attempt as a job. It stands below both so neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posfleet.jobs import services as jobs
from posfleet.jobs.models import Job
from posfleet.notices.models import Delivery

DELIVER_JOB = "notices.deliver"


@dataclass(frozen=True)
class Outcome:
    """What a channel answered. `transient`: nothing was sent and trying later may work. `gone`: the
    recipient says it will never accept (HTTP 410)."""

    ok: bool
    provider_id: str = ""
    error: str = ""
    transient: bool = False
    gone: bool = False


def enqueue(delivery: Delivery, attempt: str, when: Any = None) -> Job:
    """The job for one attempt at `delivery` (its key names the attempt: one job per attempt)."""
    return jobs.enqueue(
        DELIVER_JOB,
        {"delivery_id": delivery.pk},
        key=f"{DELIVER_JOB}:{delivery.pk}:{attempt}",
        perm="accounts.view_fleet",
        object_type="notice",
        object_id=str(delivery.notice_id),
        run_after=when,
    )
