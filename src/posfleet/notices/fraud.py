"""Reports of suspicious calls and SMS that claimed to come from us (防骗): filed by a merchant for
itself (portal, its API token) or by an agent or staff for a merchant, reviewed by risk officers."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.models import merchant_id_of
from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from posfleet.notices.choices import FraudChannel, FraudState
from posfleet.notices.models import FraudReport
from posfleet.registry.models import Merchant


def file_report(
    actor: Actor,
    *,
    caller_number: str,
    channel: str,
    claimed: str,
    asked_for: str = "",
    merchant_id: int | None = None,
    occurred_at: datetime | None = None,
) -> FraudReport:
    """A merchant's user files for its own merchant only; staff who serve merchants for any (or none)."""
    own = merchant_id_of(actor.user) if actor.user is not None else None
    if own is not None:
        if merchant_id not in (None, own):
            raise PermissionDenied()
        merchant_id = own
    elif not (actor.has_perm(perm("file_case")) or actor.has_perm(perm("review_fraud_report"))):
        raise PermissionDenied()
    errors: dict[str, list[str]] = {}
    number = (caller_number or "").strip()
    if not number or len(number) > 30:
        errors["caller_number"] = [_("The number that called or texted (at most 30 characters).")]
    if channel not in FraudChannel.values:
        errors["channel"] = [_("phone or sms")]
    claimed = (claimed or "").strip()
    if not claimed:
        errors["claimed"] = [_("Say what the caller claimed.")]
    if occurred_at is not None and timezone.is_naive(occurred_at):
        errors["occurred_at"] = [_("Times must carry a time zone offset (ISO 8601).")]
    if merchant_id is not None and not Merchant.objects.filter(pk=merchant_id).exists():
        errors["merchant_id"] = [_("No such merchant.")]
    if errors:
        raise ValidationFailed(details=errors)
    report = FraudReport.objects.create(
        merchant_id=merchant_id,
        caller_number=number,
        channel=channel,
        claimed=claimed[:4000],
        asked_for=(asked_for or "").strip()[:4000],
        occurred_at=occurred_at or timezone.now(),
        source="portal" if actor.channel == "portal" else actor.channel[:10],
        created_by=actor.user,
        created_by_name=actor.name,
    )
    after = {"merchant_id": merchant_id, "channel": channel, "caller_number": number}
    record(actor, Change("fraud_report", str(report.pk), "fraud_report.file", None, after, claimed[:200]))
    return report


def queue(actor: Actor, state: str | None = FraudState.OPEN) -> QuerySet[FraudReport]:
    if not actor.has_perm(perm("review_fraud_report")):
        raise PermissionDenied()
    qs = FraudReport.objects.select_related("merchant").order_by("-id")
    return qs.filter(state=state) if state else qs


def open_count() -> int:
    return FraudReport.objects.filter(state=FraudState.OPEN).count()


def review(actor: Actor, report_id: int, *, note: str) -> FraudReport:
    if not actor.has_perm(perm("review_fraud_report")):
        raise PermissionDenied()
    report = FraudReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("No fraud report %(id)s.") % {"id": report_id})
    if report.state != FraudState.OPEN:
        raise Conflict(_("This report has been reviewed."), code="report_reviewed")
    text = (note or "").strip()
    if not text:
        raise ValidationFailed(details={"note": [_("Say what was found or done.")]})
    report.state, report.review_note = FraudState.REVIEWED, text[:4000]
    report.reviewed_by_name, report.reviewed_at = actor.name, timezone.now()
    report.save(update_fields=["state", "review_note", "reviewed_by_name", "reviewed_at"])
    record(
        actor,
        Change(
            "fraud_report",
            str(report.pk),
            "fraud_report.review",
            {"state": "open"},
            {"state": report.state},
            text,
        ),
    )
    return report
