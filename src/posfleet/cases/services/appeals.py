"""Appeals: a merchant asks the institution to lift a stop the institution placed.

Appealable: risk freezes and compliance holds that have not ended, on the merchant, one of its
terminals or some of them (a bulk hold); not its own suspension, maintenance or a fault, which end
otherwise. One open appeal per hold: filing checks it (409) and a partial unique constraint on
`Case.hold` holds it against a race. Deciding needs the hold kind's own permission (`hold_<kind>`) and
approving a fresh step-up; approval releases the hold (a bulk hold for this merchant's terminals only),
a rejection tells the merchant why and what it can do next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.accounts.stepup import require_step_up
from posfleet.cases.choices import OPEN_STATES, CaseKind, CaseState
from posfleet.cases.models import Case
from posfleet.cases.services.common import delegate, update_case
from posfleet.core.actor import Actor
from posfleet.core.errors import Conflict, PermissionDenied
from posfleet.lifecycle.holds import release_hold
from posfleet.lifecycle.models import Hold, HoldKind, HoldTerminal
from posfleet.registry.models import Merchant, Terminal

APPEALABLE_KINDS = (HoldKind.RISK_FREEZE, HoldKind.COMPLIANCE)
REVIEW_PERMS = tuple(f"hold_{kind}" for kind in APPEALABLE_KINDS)


def appealable_holds(merchant_id: int, now: datetime | None = None) -> list[Hold]:
    """The holds this merchant may appeal against now, oldest first."""
    under_bulk = HoldTerminal.objects.filter(terminal__merchant_id=merchant_id, released_at__isnull=True)
    return list(
        Hold.objects.not_ended(now)
        .filter(kind__in=APPEALABLE_KINDS)
        .filter(
            Q(on_merchant=True, merchant_id=merchant_id)
            | Q(on_merchant=False, bulk=False, terminal__merchant_id=merchant_id)
            | Q(bulk=True, pk__in=under_bulk.values("hold_id"))
        )
        .select_related("terminal")
        .order_by("starts_at", "id")
    )


def terminals_under(hold: Hold, merchant_id: int) -> list[Terminal]:
    """The merchant's terminals the hold stops by name (none for a hold on the whole merchant)."""
    if hold.on_merchant:
        return []
    if hold.bulk:
        return list(
            Terminal.objects.filter(
                merchant_id=merchant_id, hold_links__hold=hold, hold_links__released_at__isnull=True
            ).order_by("tid")
        )
    return [hold.terminal] if hold.terminal is not None and hold.terminal.merchant_id == merchant_id else []


def open_appeal(hold_id: int) -> Case | None:
    return Case.objects.filter(kind=CaseKind.APPEAL, hold_id=hold_id, state__in=OPEN_STATES).first()


def already_open(case: Case) -> Conflict:
    return Conflict(
        _("This stop already has an open appeal (#%(id)s); add to it instead.") % {"id": case.pk},
        code="appeal_open",
        details={"case_id": case.pk},
    )


def check_filing(
    hold_id: int | None, merchant_id: int | None, errors: Any, now: datetime
) -> tuple[Merchant | None, Hold | None, list[Terminal]]:
    """The merchant, the hold and the terminals of an appeal; problems go to `errors` by field."""
    hold = Hold.objects.select_related("terminal").filter(pk=hold_id).first() if hold_id else None
    if hold is None:
        errors.add("hold_id", _("Name the stop you appeal against.") if not hold_id else _("No such stop."))
        return None, None, []
    if merchant_id is None and not hold.bulk:
        merchant_id = hold.merchant_id if hold.on_merchant else hold.terminal.merchant_id  # type: ignore[union-attr]
    merchant = Merchant.objects.filter(pk=merchant_id).first() if merchant_id else None
    if merchant is None:
        errors.add("merchant_id", _("No such merchant."))
        return None, None, []
    if hold.kind not in APPEALABLE_KINDS:
        errors.add(
            "hold_id",
            _("Only a risk freeze or a compliance hold can be appealed; this stop is a %(kind)s.")
            % {"kind": HoldKind(hold.kind).label},
        )
    elif hold.pk not in {h.pk for h in appealable_holds(merchant.pk, now)}:
        errors.add("hold_id", _("This stop has ended or does not stop this merchant's terminals."))
    return merchant, hold, terminals_under(hold, merchant.pk) if not errors else []


def require_reviewer(actor: Actor, case: Case) -> None:
    """Deciding an appeal is the risk officer's: the permission over the hold's kind."""
    kind = case.hold.kind if case.hold is not None else HoldKind.RISK_FREEZE
    if not actor.has_perm(perm(f"hold_{kind}")):
        raise PermissionDenied(_("Appeals against a stop are decided by risk officers."))


def approve(actor: Actor, case: Case, text: str, common: dict[str, object], now: datetime) -> list[int]:
    """Release the hold for this merchant and complete the appeal; returns the holds released."""
    require_step_up(actor)
    helper = delegate(actor)
    hold = Hold.objects.get(pk=case.hold_id or 0)
    why = _("Appeal #%(id)s approved: %(reason)s") % {"id": case.pk, "reason": text}
    released: list[int] = []
    ended = hold.released_at is not None or (hold.ends_at is not None and hold.ends_at <= now)
    if not ended and hold.bulk:
        tids = [t.tid for t in terminals_under(hold, case.merchant_id)]
        for tid in tids:
            release_hold(helper, hold.pk, reason=why, tid=tid)
        released = [hold.pk] if tids else []
    elif not ended:
        release_hold(helper, hold.pk, reason=why)
        released = [hold.pk]
    update_case(
        actor,
        case,
        "approve",
        text,
        extra={"decision": "approve", "released_holds": released},
        state=CaseState.COMPLETED,
        completed_at=timezone.now(),
        **common,
    )
    return released


# The same, in the notice (the merchant's language; notices are written in Chinese).
NEXT_STEPS_ZH = (
    "\n下一步：您可以补充新的证据（收据、送货单、合同）再次提出申诉，或联系我们的客服了解原因。"
    "我们的来电不会索要卡号、密码或验证码。"
)


def next_steps() -> str:
    """What a merchant whose appeal was rejected can do (shown in the portal and in the notice)."""
    return _(
        "You may file a new appeal with further evidence (receipts, delivery notes, contracts), "
        "or ask our service staff to explain the decision. Calls from us never ask for card "
        "numbers, passwords or codes."
    )


def next_steps_of(case: Case) -> str:
    """`next_steps()` for a rejected appeal, empty for anything else."""
    if case.kind == CaseKind.APPEAL and case.state == CaseState.REJECTED:
        return next_steps()
    return ""
