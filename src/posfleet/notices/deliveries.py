"""Carrying a notice over the merchant's channels: one `Delivery` per channel and recipient, sent by
the worker after commit, one job per attempt.

An attempt is three steps: (1) mark the delivery `sending` and count the attempt (committed), (2)
call the channel, (3) record what it answered (committed). A worker killed between 1 and 3 leaves
`sending`: the next attempt first asks the channel whether the message got through (the SMS
provider by our message id, the file backend by its file) and only sends if it did not, so a
number never gets the same notice twice. Only clear transient errors are tried again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posfleet.core import crypto
from posfleet.jobs import registry
from posfleet.jobs.models import Job
from posfleet.jobs.runner import Context
from posfleet.notices import mail, sms, webhooks
from posfleet.notices.channel import DELIVER_JOB, Outcome, enqueue
from posfleet.notices.choices import CALLED, DELIVERY_DONE, Channel, DeliveryState
from posfleet.notices.models import Delivery, Notice, NoticeKind, WebhookEndpoint

log = structlog.get_logger("posfleet.notices")
# Attempts per channel before a transient error counts as a failure; webhooks wait longer and longer.
MAX_ATTEMPTS: dict[str, int] = {Channel.SMS: 4, Channel.EMAIL: 5, Channel.WEBHOOK: 8}
WEBHOOK_BACKOFF = (60, 300, 1800, 7200, 18000, 36000, 36000)  # seconds: 1 min … 10 h


def _webhook_event(notice: Notice) -> str:
    return f"notice.{notice.kind}"


def endpoints_for(notice: Notice) -> list[WebhookEndpoint]:
    event = _webhook_event(notice)
    found = WebhookEndpoint.objects.filter(active=True).filter(
        Q(merchant_id=notice.merchant_id) | Q(merchant__isnull=True)
    )
    return [e for e in found.order_by("id") if event in e.events or "*" in e.events]


def plan(notice: Notice) -> list[Delivery]:
    """The notice's deliveries, in the issuing transaction: the portal inbox always, SMS and e-mail
    where the merchant has them, a call task for the stops an agent phones about, each webhook
    registered for the event. The jobs that send them go to the worker after commit."""
    from posfleet.notices import calls

    merchant = notice.merchant
    rows = [Delivery(notice=notice, channel=Channel.PORTAL, recipient="")]
    if merchant.phone:
        rows.append(Delivery(notice=notice, channel=Channel.SMS, recipient=merchant.phone))
    if merchant.email:
        rows.append(Delivery(notice=notice, channel=Channel.EMAIL, recipient=merchant.email))
    for endpoint in endpoints_for(notice):
        rows.append(
            Delivery(
                notice=notice, channel=Channel.WEBHOOK, recipient=f"endpoint:{endpoint.pk}", endpoint=endpoint
            )
        )
    call = (
        notice.kind in (NoticeKind.STOP, NoticeKind.DEACTIVATION)
        and notice.reason_category in CALLED
        and bool(merchant.phone)
    )
    if call:
        rows.append(Delivery(notice=notice, channel=Channel.CALL, recipient=merchant.phone))
    for row in rows:
        row.save()
        if row.channel == Channel.CALL:
            calls.open_task(notice, row)
        else:
            _enqueue(row, 1, notice.publish_at)
    return rows


def _enqueue(delivery: Delivery, attempt: int, when: Any = None) -> Job:
    return enqueue(delivery, str(attempt), when)


def _channel(channel: str) -> Any:
    return {Channel.SMS: sms, Channel.EMAIL: mail, Channel.WEBHOOK: webhooks}[Channel(channel)]


def _backoff(channel: str, attempts: int) -> timedelta:
    if channel == Channel.WEBHOOK:
        return timedelta(seconds=WEBHOOK_BACKOFF[min(attempts - 1, len(WEBHOOK_BACKOFF) - 1)])
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


def _locked(delivery_id: int) -> Delivery:
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("notice", "notice__merchant", "endpoint")
        .get(pk=delivery_id)
    )


def attempt(delivery_id: int) -> dict[str, Any]:
    """One attempt at delivery `delivery_id` (the job's work); safe to run again at any point."""
    with transaction.atomic():
        d = _locked(delivery_id)
        if d.state in DELIVERY_DONE or d.channel == Channel.CALL:
            return {"delivery_id": d.pk, "state": d.state}
        now = timezone.now()
        if d.channel == Channel.PORTAL:
            _finish(d, Outcome(ok=True), now, DeliveryState.DELIVERED)
            return {"delivery_id": d.pk, "state": d.state}
        channel = _channel(d.channel)
        if d.state == DeliveryState.SENDING:  # the last attempt died mid-send: did it get through?
            provider_id = channel.sent_before(d)
            if provider_id is not None:
                _finish(d, Outcome(ok=True, provider_id=provider_id), now)
                log.info("notices.delivery_recovered", delivery_id=d.pk, channel=d.channel)
                return {"delivery_id": d.pk, "state": d.state, "recovered": True}
        d.state, d.attempts, d.updated_at, d.next_attempt_at = (
            DeliveryState.SENDING,
            d.attempts + 1,
            now,
            None,
        )
        d.save(update_fields=["state", "attempts", "updated_at", "next_attempt_at"])
    code = crypto.decrypt(d.notice.code_enc)
    try:
        outcome: Outcome = channel.send(d, code)
    except Exception as exc:  # a bug or an unforeseen answer: not clearly transient, so not resent
        log.exception("notices.delivery_error", delivery_id=d.pk, channel=d.channel)
        outcome = Outcome(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
    with transaction.atomic():
        d = _locked(delivery_id)
        if d.state != DeliveryState.SENDING:  # recorded meanwhile (a replay, a stale worker)
            return {"delivery_id": d.pk, "state": d.state}
        _finish(d, outcome, timezone.now())
        if d.channel == Channel.WEBHOOK and d.endpoint is not None:
            webhooks.count(d.endpoint, outcome)
    return {"delivery_id": d.pk, "state": d.state, "attempts": d.attempts}


def _finish(d: Delivery, outcome: Outcome, now: Any, ok_state: str = DeliveryState.SENT) -> None:
    d.updated_at = now
    if outcome.ok:
        d.state, d.provider_id, d.error, d.sent_at = ok_state, outcome.provider_id[:100], "", now
    elif outcome.transient and not outcome.gone and d.attempts < MAX_ATTEMPTS.get(d.channel, 3):
        d.state, d.error = DeliveryState.QUEUED, outcome.error[:500]
        d.next_attempt_at = now + _backoff(d.channel, d.attempts)
        _enqueue(d, d.attempts + 1, d.next_attempt_at)
    else:
        d.state, d.error = DeliveryState.FAILED, outcome.error[:500]
    d.save(update_fields=["state", "provider_id", "error", "sent_at", "updated_at", "next_attempt_at"])


@registry.register(DELIVER_JOB, label=_("Notice delivery"), max_attempts=5)
def _deliver(job: Job, ctx: Context) -> dict[str, Any]:
    return attempt(int(job.payload["delivery_id"]))
