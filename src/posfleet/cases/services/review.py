"""Review: approve, reject or ask for materials, always with a reason the merchant sees.

Approval carries out the contract in the decision's transaction:
- suspension: a `merchant_suspension` hold on each terminal for the expected window, the fee, a letter,
  a reminder before the end;
- reactivation: those holds released, the fee, a letter; the suspension cases completed with it;
- deactivation / closure: `in_progress`, and its checklist starts (closure.py);
- application: the merchant becomes active and gets a letter; allocation, shipping and activation
  follow (application.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from huey.contrib.djhuey import db_task

from posfleet.accounts.roles import perm
from posfleet.cases.choices import (
    REVIEWABLE_STATES,
    CaseKind,
    CaseState,
    CommentKind,
    Decision,
    MaterialType,
)
from posfleet.cases.models import Case, CaseComment
from posfleet.cases.services import appeals, application, letters, reactivation
from posfleet.cases.services.common import (
    check_version,
    delegate,
    get_case,
    require_staff,
    update_case,
)
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, InvalidTransition, ValidationFailed
from posfleet.jobs import registry
from posfleet.jobs import services as jobs
from posfleet.jobs.models import Job
from posfleet.jobs.runner import Context
from posfleet.lifecycle.holds import place_hold, release_hold
from posfleet.lifecycle.models import Hold
from posfleet.lifecycle.services import require_reason
from posfleet.money import fees, ledger

REMINDER_BEFORE = timedelta(days=1)
REMINDER_JOB = "cases.reminder"


def decide(
    actor: Actor, case_id: int, decision: str, reason: str, *, expected_version: int | None = None
) -> Case:
    """Record the reviewer's decision and carry out its consequences (see the module doc)."""
    require_staff(actor, "review_case", *appeals.REVIEW_PERMS)
    if decision not in Decision.values:
        raise ValidationFailed(details={"decision": [", ".join(Decision.values)]})
    text = require_reason(reason)
    case = get_case(actor, case_id, for_update=True)
    if case.kind == CaseKind.APPEAL:
        appeals.require_reviewer(actor, case)
    else:
        require_staff(actor, "review_case")
    check_version(case, expected_version)
    if case.state not in REVIEWABLE_STATES:
        raise InvalidTransition(
            _("This case is %(state)s; only submitted cases can be decided.")
            % {"state": case.get_state_display()},
            details={"state": case.state},
        )
    now = timezone.now()
    common = {"decision_reason": text, "decided_at": now, "decided_by": actor.user}
    if decision == Decision.REJECT:
        update_case(
            actor, case, "reject", text, extra={"decision": decision}, state=CaseState.REJECTED, **common
        )
        more = appeals.NEXT_STEPS_ZH if case.kind == CaseKind.APPEAL else ""
        _tell(actor, case, _("Your request was rejected"), "申请未通过", text, more=more)
        return case
    if decision == Decision.NEED_MATERIALS:
        update_case(
            actor,
            case,
            "need_materials",
            text,
            extra={"decision": decision},
            state=CaseState.NEEDS_MATERIALS,
            **common,
        )
        _tell(actor, case, _("Please provide more materials"), "需补充材料", text)
        return case
    missing = case.missing_materials()
    if missing:
        raise Conflict(
            _("Required materials are missing: %(m)s.")
            % {"m": ", ".join(str(MaterialType(m).label) for m in missing)},
            code="materials_missing",
            details={"missing_materials": missing},
        )
    helper = delegate(actor)
    if case.kind == CaseKind.SUSPENSION:
        _approve_suspension(actor, helper, case, text, common, now)
    elif case.kind == CaseKind.REACTIVATION:
        _approve_reactivation(actor, helper, case, text, common, now)
    elif case.kind == CaseKind.APPLICATION:
        application.approve(actor, case, text, common)
    elif case.kind == CaseKind.APPEAL:
        appeals.approve(actor, case, text, common, now)
    else:
        effective = _effective_from_plan(case, now)
        update_case(
            actor,
            case,
            "approve",
            text,
            extra={"decision": decision},
            state=CaseState.IN_PROGRESS,
            effective_at=effective,
            **common,
        )
        letter_id = letters.issue_confirmation(helper, case)
        Case.objects.filter(pk=case.pk).update(letter_notice_id=letter_id)
        case.letter_notice_id = letter_id
    _tell(actor, case, _("Your request was approved"), "申请已通过", text)
    return case


def _tell(actor: Actor, case: Case, title_en: object, title_zh: str, reason: str, *, more: str = "") -> None:
    """The merchant sees the decision and its reason: a case comment and a notice (`more` after it)."""
    zh = letters.KIND_ZH.get(case.kind, case.kind)
    CaseComment.objects.create(
        case=case,
        author=actor.user,
        author_name=actor.name,
        kind=CommentKind.NOTICE,
        body=f"{title_en}: {reason}",
        visible_to_merchant=True,
    )
    letters.notify(
        delegate(actor), case, f"{zh}{title_zh}（申请编号 {case.pk}）", f"{title_zh}：{reason}{more}"
    )


def _effective_from_plan(case: Case, now: datetime) -> datetime | None:
    """The planned date's start (local midnight) when it is in the future; None means 'immediately'."""
    if case.planned_date is None or case.planned_date <= timezone.localdate(now):
        return None
    tz = timezone.get_current_timezone()
    return datetime.combine(case.planned_date, datetime.min.time(), tzinfo=tz)


def _contract_fee(case: Case, field: str) -> int:
    contract = getattr(case.merchant, "contract", None)
    return int(getattr(contract, field, 0) or 0) if contract is not None else 0


def _charge(helper: Actor, case: Case, kind: str, amount: int, memo: str) -> None:
    if amount <= 0:
        return
    ledger.charge(helper, case.merchant_id, kind, amount, ref=f"case:{case.pk}:{kind}", memo=memo)


def _approve_suspension(
    actor: Actor, helper: Actor, case: Case, text: str, common: dict[str, object], now: datetime
) -> None:
    if case.ends_at is None or case.ends_at <= now:
        raise Conflict(
            _("The requested suspension has already ended; ask the merchant for new dates."),
            code="window_passed",
        )
    start = max(case.starts_at or now, now)
    for link in case.scope.select_related("terminal").order_by("id"):
        hold = place_hold(
            helper,
            kind="merchant_suspension",
            reason=_("Suspension case #%(id)s: %(reason)s") % {"id": case.pk, "reason": case.reason},
            tid=link.terminal.tid,
            starts_at=start,
            ends_at=case.ends_at,
        )
        link.hold_id = hold.pk
        link.save(update_fields=["hold_id"])
    fee = _contract_fee(case, "suspension_fee_fen")
    update_case(
        actor,
        case,
        "approve",
        text,
        extra={"decision": "approve", "fee_fen": fee},
        state=CaseState.APPROVED,
        **common,
    )
    _charge(helper, case, "suspension_fee", fee, f"suspension case #{case.pk}")
    letter_id = letters.issue_confirmation(helper, case, fee_fen=fee)
    Case.objects.filter(pk=case.pk).update(letter_notice_id=letter_id)
    case.letter_notice_id = letter_id
    schedule_reminder(case)


def _approve_reactivation(
    actor: Actor, helper: Actor, case: Case, text: str, common: dict[str, object], now: datetime
) -> None:
    tids = letters.scope_tids(case)
    own, links, merchant_wide = reactivation.suspensions_to_lift(case.merchant_id, tids, now)
    why = _("Reactivation case #%(id)s") % {"id": case.pk}
    released = []
    for hold_id in [*own, *merchant_wide]:
        release_hold(helper, hold_id, reason=why)
        released.append(hold_id)
    # A bulk suspension over these terminals (and others) ends for these terminals only.
    for hold_id, tid in links:
        release_hold(helper, hold_id, reason=why, tid=tid)
    lifted = len(released) + len(links)
    fee = fees.reactivation_fee_fen(_contract_fee(case, "reactivation_fee_fen"), lifted)
    terminals = list(case.terminals.order_by("tid"))
    with translation.override("zh-hans"):
        still = reactivation.stops_after(case.merchant, terminals, now)
        lines = [
            f"终端 {tid} 仍停机：{stop.label}。{stop.how}" for tid, stops in still.items() for stop in stops
        ]
    update_case(
        actor,
        case,
        "approve",
        text,
        extra={
            "decision": "approve",
            "fee_fen": fee,
            "released_holds": released,
            "lifted": lifted,
            "still_stopped": [s.as_dict() for stops in still.values() for s in stops],
        },
        state=CaseState.COMPLETED,
        completed_at=now,
        **common,
    )
    _charge(helper, case, "reactivation_fee", fee, f"reactivation case #{case.pk}")
    letter_id = letters.issue_confirmation(helper, case, fee_fen=fee, extra_lines=lines)
    Case.objects.filter(pk=case.pk).update(letter_notice_id=letter_id)
    case.letter_notice_id = letter_id
    # The suspension cases whose holds were all released by this reactivation are done.
    susp_ids = (
        Case.objects.filter(kind=CaseKind.SUSPENSION, state=CaseState.APPROVED, scope__hold_id__in=released)
        .values("id")
        .distinct()
    )
    for susp in Case.objects.select_for_update(no_key=True).filter(pk__in=susp_ids).order_by("id"):
        open_left = susp.scope.exclude(hold_id__in=released).filter(
            hold_id__in=Hold.objects.not_ended(now).values("id")
        )
        if not open_left.exists():
            update_case(
                helper,
                susp,
                "complete",
                _("Reactivated by case #%(id)s") % {"id": case.pk},
                state=CaseState.COMPLETED,
                completed_at=now,
            )


# --- reminders ----------------------------------------------------------------------------------------


def reminder_due_at(case: Case) -> datetime | None:
    """When to remind the merchant that the suspension ends: a day before, or half-way if shorter."""
    if case.ends_at is None:
        return None
    start = case.starts_at or case.created_at
    lead = min(REMINDER_BEFORE, (case.ends_at - start) / 2)
    return case.ends_at - lead


def schedule_reminder(case: Case) -> None:
    """A reminder job due at its time, in the approval's transaction (one per case: its key). The
    job and `send_reminder` are idempotent; the sweep below backs them up."""
    due = reminder_due_at(case)
    if due is None:
        return
    jobs.enqueue(
        REMINDER_JOB,
        {"case_id": case.pk},
        key=f"{REMINDER_JOB}:{case.pk}",
        perm=perm("review_case"),
        object_type="case",
        object_id=str(case.pk),
        run_after=due,
    )


@registry.register(REMINDER_JOB, label=gettext_lazy("Suspension reminder"))
def _remind(job: Job, ctx: Context) -> dict[str, bool]:
    with transaction.atomic():
        sent = send_reminder(int(job.payload["case_id"]))
        ctx.done({"sent": sent})  # the notice, the case's mark and "done" commit together
    return {"sent": sent}


@db_task(name="cases.suspension_reminder")
def suspension_reminder(case_id: int) -> bool:
    """Messages queued before reminders became jobs still name this task."""
    with transaction.atomic():
        return send_reminder(case_id)


def send_reminder(case_id: int, now: datetime | None = None) -> bool:
    """Send the end-of-suspension reminder once; False when not due, already sent, or no longer relevant."""
    now = now or timezone.now()
    case = Case.objects.select_for_update(no_key=True).select_related("merchant").filter(pk=case_id).first()
    if case is None or case.kind != CaseKind.SUSPENSION or case.state != CaseState.APPROVED:
        return False
    if case.reminder_sent_at is not None:
        return False
    due = reminder_due_at(case)
    if due is None or due > now or (case.ends_at is not None and case.ends_at <= now):
        return False
    system = Actor.system("worker", name="cases reminder")
    end = letters._fmt(case.ends_at)
    notice_id = letters.notify(
        system,
        case,
        f"停机即将到期提醒（申请编号 {case.pk}）",
        f"您的停机预计于 {end} 结束。如需恢复使用，请提交停机解除申请。",
        kind="reminder",
    )
    update_case(
        system, case, "reminder", "suspension ends soon", extra={"notice_id": notice_id}, reminder_sent_at=now
    )
    return True


def due_reminder_ids(now: datetime | None = None) -> list[int]:
    """Suspension cases whose reminder is due and not sent (the sweep that backs up scheduled jobs)."""
    now = now or timezone.now()
    ids = []
    for case in Case.objects.filter(
        kind=CaseKind.SUSPENSION, state=CaseState.APPROVED, reminder_sent_at__isnull=True, ends_at__gt=now
    ).only("id", "starts_at", "ends_at", "created_at"):
        due = reminder_due_at(case)
        if due is not None and due <= now:
            ids.append(case.pk)
    return ids
