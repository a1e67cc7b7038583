"""Filing a case (portal, agent or console), cancelling it, comments and the case queues.

Filing validates everything up front and writes nothing on bad input: unknown or foreign terminals,
dates in the past, an end before the start and a reason outside the kind's list are all 422 with the
offending field named. A portal user files only for their own merchant (the channel is `portal`).
An application names an existing merchant or carries a new applicant's data (application.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.audit.services import Change, record
from posfleet.cases.choices import (
    OPEN_STATES,
    REASONS,
    CaseChannel,
    CaseKind,
    CaseState,
    CommentKind,
)
from posfleet.cases.models import Case, CaseComment, CaseTerminal
from posfleet.cases.services import appeals, application, reactivation
from posfleet.cases.services.common import (
    check_version,
    get_case,
    portal_merchant_id,
    require,
    require_staff,
    update_case,
)
from posfleet.cases.services.inputs import CaseInput
from posfleet.core.actor import Actor
from posfleet.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from posfleet.core.filters import filter_given
from posfleet.lifecycle.models import Hold
from posfleet.lifecycle.services import require_reason
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Merchant, Terminal

# A start "now" typed into a form is a few minutes old when it arrives; older than this is the past.
PAST_GRACE = timedelta(minutes=10)
STOPPABLE_STATES = (
    TerminalState.ALLOCATED,
    TerminalState.ACTIVE,
    TerminalState.IN_REPAIR,
    TerminalState.DEACTIVATED,
)


class _Errors(dict[str, list[str]]):
    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)


def _check_dates(data: CaseInput, errors: _Errors, now: datetime) -> None:
    for name in ("starts_at", "ends_at"):
        value = getattr(data, name)
        if value is not None and timezone.is_naive(value):
            errors.add(name, _("Give the time with its time zone offset (ISO 8601)."))
            return
    if data.kind == CaseKind.SUSPENSION:
        if data.starts_at is None:
            errors.add("starts_at", _("The expected start is required."))
        if data.ends_at is None:
            errors.add("ends_at", _("The expected end is required."))
    if data.starts_at is not None and data.starts_at < now - PAST_GRACE:
        errors.add("starts_at", _("The start cannot be in the past."))
    if data.ends_at is not None:
        if data.ends_at <= now:
            errors.add("ends_at", _("The end cannot be in the past."))
        if data.starts_at is not None and data.ends_at <= data.starts_at:
            errors.add("ends_at", _("The end must be after the start."))
    if data.planned_date is not None and data.planned_date < timezone.localdate(now):
        errors.add("planned_date", _("The planned date cannot be in the past."))


def _check_terminals(
    data: CaseInput, merchant: Merchant | None, errors: _Errors, now: datetime
) -> list[Terminal]:
    tids = list(dict.fromkeys(t.strip().upper() for t in data.terminals if t and t.strip()))
    found = {t.tid: t for t in Terminal.objects.filter(tid__in=tids)}
    for tid in tids:
        terminal = found.get(tid)
        if terminal is None:
            errors.add("terminals", _("No terminal with TID %(tid)s.") % {"tid": tid})
        elif merchant is not None and terminal.merchant_id != merchant.pk:
            errors.add("terminals", _("Terminal %(tid)s does not belong to this merchant.") % {"tid": tid})
    if merchant is None or "terminals" in errors:
        return []
    if data.kind == CaseKind.CLOSURE:
        # A closure covers the whole merchant, whatever was ticked.
        return list(merchant.terminals.filter(state__in=STOPPABLE_STATES).order_by("id"))
    if not tids:
        errors.add("terminals", _("Choose at least one terminal."))
        return []
    chosen = [found[t] for t in tids]
    if data.kind == CaseKind.SUSPENSION:
        for t in chosen:
            if t.state != TerminalState.ACTIVE:
                errors.add("terminals", _("Terminal %(tid)s is not active.") % {"tid": t.tid})
    elif data.kind == CaseKind.REACTIVATION:
        suspended = reactivation.suspended_tids(tids, now)
        for t in chosen:
            if t.tid not in suspended:
                errors.add("terminals", _("Terminal %(tid)s is not suspended.") % {"tid": t.tid})
    else:
        for t in chosen:
            if t.state not in STOPPABLE_STATES:
                errors.add("terminals", _("Terminal %(tid)s is already stopped for good.") % {"tid": t.tid})
    busy = set(
        CaseTerminal.objects.filter(
            terminal__in=chosen, case__kind=data.kind, case__state__in=OPEN_STATES
        ).values_list("terminal__tid", flat=True)
    )
    for tid in sorted(busy):
        errors.add(
            "terminals", _("Terminal %(tid)s already has an open request of this kind.") % {"tid": tid}
        )
    return chosen


def file_case(actor: Actor, data: CaseInput) -> Case:
    """Validate and record a new case (state `submitted`); its `missing_materials()` says what to upload."""
    own, channel = _filer(actor, data)
    now = timezone.now()
    errors = _Errors()
    if data.kind not in CaseKind.values:
        errors.add("kind", _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(CaseKind.values)})
        raise ValidationFailed(details=errors)
    applying = data.kind == CaseKind.APPLICATION
    reason = data.reason or (application.default_reason(data) if applying else "")
    if reason not in REASONS[data.kind]:
        errors.add("reason", _("Choose one of: %(reasons)s.") % {"reasons": ", ".join(REASONS[data.kind])})
    if channel not in CaseChannel.values:
        errors.add("channel", _("Choose one of: %(c)s.") % {"c": ", ".join(CaseChannel.values)})
    if len(data.note or "") > 4000 or len(data.follow_up_note or "") > 4000:
        errors.add("note", _("At most 4000 characters."))
    terminals: list[Terminal] = []
    hold = None
    if applying:
        merchant, fields = application.check_filing(data, own, errors)
        _check_dates(data, errors, now)
    elif data.kind == CaseKind.APPEAL:
        merchant, hold, terminals = appeals.check_filing(data.hold_id, data.merchant_id, errors, now)
        if merchant is not None and own is not None and merchant.pk != own:
            raise PermissionDenied(_("You can only file requests for your own business."))
    else:
        merchant = _check_merchant(data, errors)
        _check_dates(data, errors, now)
        terminals = _check_terminals(data, merchant, errors, now)
    if errors:
        raise ValidationFailed(details=dict(errors))
    if hold is not None and (open_case := appeals.open_appeal(hold.pk)) is not None:
        raise appeals.already_open(open_case)
    if merchant is None:
        assert applying and data.applicant is not None
        merchant = application.new_applicant(actor, data.applicant)
    case = _create(actor, data, merchant, reason, channel, hold, now)
    CaseTerminal.objects.bulk_create([CaseTerminal(case=case, terminal=t) for t in terminals])
    after = {
        "kind": case.kind,
        "merchant_id": merchant.pk,
        "terminals": [t.tid for t in terminals],
        "reason": case.reason,
        "channel": channel,
        "starts_at": case.starts_at.isoformat() if case.starts_at else None,
        "ends_at": case.ends_at.isoformat() if case.ends_at else None,
        "planned_date": case.planned_date.isoformat() if case.planned_date else None,
        "state": case.state,
        "version": case.version,
    }
    if hold is not None:
        after |= {"hold_id": hold.pk, "hold_kind": hold.kind}
    if applying:
        after |= application.record_filing(case, data.applicant is not None, fields)
    record(actor, Change("case", str(case.pk), "case.file", None, after, case.note or case.reason), at=now)
    return case


def _filer(actor: Actor, data: CaseInput) -> tuple[int | None, str]:
    """The merchant filing for itself in the portal (None for staff, who need `file_case`) and the
    channel: a merchant files for its own business only, always through the portal."""
    own = portal_merchant_id(actor)
    if own is None:
        require(actor, "file_case")
        return None, data.channel
    if data.kind == CaseKind.APPEAL and data.merchant_id is None:
        data.merchant_id = own
    if data.merchant_id != own:
        raise PermissionDenied(_("You can only file requests for your own business."))
    return own, CaseChannel.PORTAL


def _create(
    actor: Actor,
    data: CaseInput,
    merchant: Merchant,
    reason: str,
    channel: str,
    hold: Hold | None,
    now: datetime,
) -> Case:
    """The case row; a concurrent appeal on the same hold is a 409, not a second appeal."""
    fields_of_kind = {"hold": hold} if hold is not None else {}
    try:
        with transaction.atomic():  # a savepoint, so that the caller's transaction survives the refusal
            return Case.objects.create(
                merchant=merchant,
                kind=data.kind,
                reason=reason,
                note=(data.note or "").strip(),
                channel=channel,
                starts_at=data.starts_at,
                ends_at=data.ends_at,
                planned_date=data.planned_date,
                follow_up_note=(data.follow_up_note or "").strip(),
                state=CaseState.SUBMITTED,
                created_by=actor.user,
                created_by_name=actor.name,
                created_at=now,
                updated_at=now,
                **fields_of_kind,
            )
    except IntegrityError:
        open_case = appeals.open_appeal(hold.pk) if hold is not None else None
        if open_case is None:
            raise
        raise appeals.already_open(open_case) from None


def _check_merchant(data: CaseInput, errors: _Errors) -> Merchant | None:
    merchant = Merchant.objects.filter(pk=data.merchant_id).first() if data.merchant_id else None
    if merchant is None:
        errors.add("merchant_id", _("No such merchant."))
    elif merchant.state not in (MerchantState.ACTIVE, MerchantState.CLOSING):
        errors.add("merchant_id", _("The merchant is not active."))
    elif (
        data.kind == CaseKind.CLOSURE
        and Case.objects.filter(merchant=merchant, kind=CaseKind.CLOSURE, state__in=OPEN_STATES).exists()
    ):
        errors.add("merchant_id", _("The merchant already has an open closure request."))
    return merchant


def cancel(actor: Actor, case_id: int, reason: str, *, expected_version: int | None = None) -> Case:
    """Withdraw a case before it is decided (the merchant or an agent)."""
    case = get_case(actor, case_id, for_update=True)
    if portal_merchant_id(actor) is None:
        require(actor, "file_case", "review_case")
    text = require_reason(reason)
    check_version(case, expected_version)
    if case.state not in (CaseState.SUBMITTED, CaseState.NEEDS_MATERIALS):
        raise InvalidTransition(_("Only a request that is not decided yet can be cancelled."))
    return update_case(actor, case, "cancel", text, state=CaseState.CANCELLED)


def assign(actor: Actor, case_id: int, user: Any) -> Case:
    """Give the case to a member of staff (or nobody)."""
    require_staff(actor, "review_case", "work_case")
    case = get_case(actor, case_id, for_update=True)
    name = user.get_username() if user is not None else ""
    return update_case(actor, case, "assign", name, extra={"assignee": name}, assignee=user)


def add_comment(
    actor: Actor,
    case_id: int,
    body: str,
    *,
    kind: str = CommentKind.COMMENT,
    visible_to_merchant: bool = True,
) -> CaseComment:
    """A comment, a logged call or e-mail; kept with the case as evidence (DESIGN.md §6)."""
    case = get_case(actor, case_id)
    if portal_merchant_id(actor) is not None:
        kind, visible_to_merchant = CommentKind.COMMENT, True
    else:
        require(actor, "file_case", "review_case", "work_case", "inspect_return", "settle_case")
    text = (body or "").strip()
    if not text:
        raise ValidationFailed(details={"body": [_("This field is required.")]})
    if len(text) > 4000:
        raise ValidationFailed(details={"body": [_("At most 4000 characters.")]})
    if kind not in CommentKind.values:
        raise ValidationFailed(details={"kind": [", ".join(CommentKind.values)]})
    comment = CaseComment.objects.create(
        case=case,
        author=actor.user,
        author_name=actor.name,
        kind=kind,
        body=text,
        visible_to_merchant=visible_to_merchant,
    )
    after = {"comment_id": comment.pk, "kind": kind, "visible_to_merchant": visible_to_merchant}
    record(actor, Change("case", str(case.pk), "case.comment", None, after, text[:500]))
    return comment


def cases_for(
    actor: Actor,
    kind: str | None = None,
    state: str | None = None,
    merchant_id: int | None = None,
) -> QuerySet[Case]:
    """The cases the actor may see, newest first; `case.age`/`case.overdue` give the SLA age."""
    errors = _Errors()
    if kind and kind not in CaseKind.values:
        errors.add("kind", ", ".join(CaseKind.values))
    if state and state not in CaseState.values:
        errors.add("state", ", ".join(CaseState.values))
    if errors:
        raise ValidationFailed(details=dict(errors))
    qs = Case.objects.select_related("merchant", "assignee").order_by("-id")
    own = portal_merchant_id(actor)
    if own is not None:
        qs = qs.filter(merchant_id=own)
    else:
        require(actor, "view_fleet", "file_case", "review_case", "work_case", "inspect_return", "settle_case")
    return filter_given(qs, merchant_id=merchant_id, kind=kind, state=state)
