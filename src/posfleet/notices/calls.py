"""Phone-call tasks: an agent calls the merchant about a stop, reading a script that says what never
to ask, and records the outcome (reached, no answer, wrong number, refused) and a callback time.
Each outcome is an audit event on the notice: the call is part of the evidence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from posfleet.notices.choices import CallOutcome, CallState, DeliveryState, ReasonCategory
from posfleet.notices.models import CallTask, Delivery, Notice


def script(notice: Notice) -> str:
    """What the agent says, in the notice's language, ending with what they must never ask."""
    with translation.override(notice.language):
        category = str(ReasonCategory(notice.reason_category).label) if notice.reason_category else ""
        lines = [
            _("Introduce yourself: %(inst)s, merchant service.") % {"inst": settings.POSFLEET_INSTITUTION},
            _("Tell the merchant: %(title)s (reason: %(c)s).") % {"title": notice.title, "c": category},
            _("Terminals: %(t)s.") % {"t": ", ".join(notice.terminals or []) or "-"},
            _("Say that the full notice is in their merchant portal under Notices."),
            _(
                "Offer the check: they can verify this call on our verification page with the code in "
                "their notice (ending %(hint)s) and the last four digits of their phone, or call the "
                "hotline %(h)s."
            )
            % {"hint": notice.code_hint, "h": settings.POSFLEET_HOTLINE},
            _("Never ask for card numbers, passwords or PINs, or the verification code itself."),
        ]
    return "\n".join(str(line) for line in lines)


def open_task(notice: Notice, delivery: Delivery) -> CallTask:
    return CallTask.objects.create(
        notice=notice,
        delivery=delivery,
        merchant=notice.merchant,
        phone=delivery.recipient,
        script=script(notice),
    )


def _require(actor: Actor) -> None:
    if not actor.has_perm(perm("work_call_task")):
        raise PermissionDenied()


def open_tasks(actor: Actor, state: str | None = CallState.OPEN, limit: int = 200) -> list[CallTask]:
    _require(actor)
    qs = CallTask.objects.select_related("notice", "merchant").order_by("id")
    if state:
        qs = qs.filter(state=state)
    return list(qs[:limit])


def record_outcome(
    actor: Actor,
    task_id: int,
    *,
    outcome: str,
    note: str = "",
    callback_at: datetime | None = None,
    expected_version: int | None = None,
) -> CallTask:
    """The agent's call: reached → delivered; no answer → stays open (call back at `callback_at`);
    wrong number or refused → failed. Audited on the notice."""
    _require(actor)
    if outcome not in CallOutcome.values:
        raise ValidationFailed(details={"outcome": list(CallOutcome.values)})
    if callback_at is not None and timezone.is_naive(callback_at):
        raise ValidationFailed(
            details={"callback_at": [_("Times must carry a time zone offset (ISO 8601).")]}
        )
    task = CallTask.objects.select_for_update().select_related("delivery").filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("No call task %(id)s.") % {"id": task_id})
    if expected_version is not None and expected_version != task.version:
        raise StaleVersion(details={"current_version": task.version})
    if task.state == CallState.DONE:
        raise Conflict(_("This call task is done."), code="call_done")
    now = timezone.now()
    before: dict[str, Any] = {"state": task.state, "attempts": task.attempts}
    task.outcome, task.note, task.attempts = outcome, (note or "").strip()[:2000], task.attempts + 1
    task.agent, task.agent_name, task.version = actor.user, actor.name, task.version + 1
    delivery = task.delivery
    delivery.attempts, delivery.updated_at = delivery.attempts + 1, now
    if outcome == CallOutcome.NO_ANSWER:
        task.callback_at = callback_at
        delivery.error = str(CallOutcome.NO_ANSWER.label)
    else:
        task.state, task.done_at, task.callback_at = CallState.DONE, now, None
        reached = outcome == CallOutcome.REACHED
        delivery.state = DeliveryState.DELIVERED if reached else DeliveryState.FAILED
        delivery.error = "" if reached else outcome
        delivery.sent_at = now
    task.save()
    delivery.save(update_fields=["state", "attempts", "error", "sent_at", "updated_at"])
    after = {
        "call_task_id": task.pk,
        "outcome": outcome,
        "state": task.state,
        "callback_at": callback_at.isoformat() if callback_at else None,
    }
    record(actor, Change("notice", str(task.notice_id), "call.outcome", before, after, task.note or outcome))
    return task
