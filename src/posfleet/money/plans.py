"""Merchants' rate plans: assignment, the 30-day rule for increases, and the plan in force at a time.

A change is a new `MerchantPlan` row, never an edit, and never in the past. A decrease (no rate higher,
no cap worse) may take effect at once; an increase needs a notice of that plan (`notify_increase`) at
least 30 days before. Before a merchant's first version, the first version applies.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from posfleet.accounts.roles import perm
from posfleet.audit.services import Change, record
from posfleet.core.actor import Actor
from posfleet.core.errors import NotFound, PermissionDenied, ValidationFailed
from posfleet.money.choices import CHANNELS
from posfleet.money.models import MerchantPlan, PlanNotice, RatePlan
from posfleet.notices.tell import tell_merchant
from posfleet.registry.models import Merchant

DEFAULT_PLAN = "STANDARD"
NOTICE_PERIOD = timedelta(days=30)
PAST_TOLERANCE = timedelta(minutes=5)


def _require(actor: Actor) -> None:
    if not actor.has_perm(perm("manage_rate_plan")):
        raise PermissionDenied()


def get_plan(code: str, *, field: str = "code") -> RatePlan:
    plan = RatePlan.objects.filter(code=code).first()
    if plan is None:
        raise ValidationFailed(details={field: [_("Unknown rate plan %(code)s.") % {"code": code}]})
    return plan


def _merchant(merchant_id: int) -> Merchant:
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        raise NotFound(_("No merchant %(id)s.") % {"id": merchant_id})
    return merchant


def assign_initial(actor: Actor, merchant: Merchant, code: str | None) -> MerchantPlan:
    """The plan a new merchant starts on (called in the merchant's creating transaction)."""
    plan = get_plan(code or DEFAULT_PLAN, field="rate_plan")
    version = MerchantPlan.objects.create(
        merchant=merchant, plan=plan, effective_from=timezone.now(), created_by=actor.name
    )
    record(
        actor,
        Change(
            "merchant", str(merchant.pk), "rate_plan.assign", None, {"rate_plan": plan.code}, "initial plan"
        ),
    )
    return version


def is_decrease(current: RatePlan, new: RatePlan) -> bool:
    """True when no channel costs the merchant more under `new`: rate no higher, cap not worse."""
    for channel in CHANNELS:
        cur_bp, cur_cap = current.rate(channel)
        new_bp, new_cap = new.rate(channel)
        if new_bp > cur_bp:
            return False
        if cur_cap is not None and (new_cap is None or new_cap > cur_cap):
            return False
    return True


def versions(merchant_id: int) -> list[MerchantPlan]:
    return list(
        MerchantPlan.objects.filter(merchant_id=merchant_id)
        .select_related("plan")
        .order_by("effective_from", "id")
    )


def plan_at(merchant_id: int, at: datetime | None = None) -> RatePlan:
    """The plan in force for the merchant at `at` (now by default)."""
    at = at or timezone.now()
    version = (
        MerchantPlan.objects.filter(merchant_id=merchant_id, effective_from__lte=at)
        .select_related("plan")
        .order_by("-effective_from", "-id")
        .first()
    )
    if version is None:
        version = (
            MerchantPlan.objects.filter(merchant_id=merchant_id)
            .select_related("plan")
            .order_by("effective_from", "id")
            .first()
        )
    if version is None:
        return get_plan(DEFAULT_PLAN)
    return version.plan


class PlanIndex:
    """Plans in force for many merchants, loaded in two queries (ingest looks up every row here)."""

    def __init__(self, merchant_ids: Iterable[int] | None = None) -> None:
        self.plans = {p.pk: p for p in RatePlan.objects.all()}
        self.default = next((p for p in self.plans.values() if p.code == DEFAULT_PLAN), None)
        qs = MerchantPlan.objects.order_by("merchant_id", "effective_from", "id")
        if merchant_ids is not None:
            qs = qs.filter(merchant_id__in=list(merchant_ids))
        starts: dict[int, list[datetime]] = defaultdict(list)
        plan_ids: dict[int, list[int]] = defaultdict(list)
        for mid, eff, pid in qs.values_list("merchant_id", "effective_from", "plan_id"):
            starts[mid].append(eff)
            plan_ids[mid].append(pid)
        self.starts = dict(starts)
        self.plan_ids = dict(plan_ids)
        self.rates = {pk: (p.code, p.rates()) for pk, p in self.plans.items()}
        self.default_rates = self.rates[self.default.pk] if self.default is not None else None

    def rates_at(
        self, merchant_id: int, at: datetime
    ) -> tuple[str, dict[str, tuple[int, int | None]]] | None:
        """(plan code, {channel: (rate_bp, cap_fen)}) in force — the hot path of ingest."""
        starts = self.starts.get(merchant_id)
        if not starts:
            return self.default_rates
        if len(starts) == 1:
            return self.rates[self.plan_ids[merchant_id][0]]
        i = bisect.bisect_right(starts, at) - 1
        return self.rates[self.plan_ids[merchant_id][max(i, 0)]]

    def at(self, merchant_id: int, at: datetime) -> RatePlan | None:
        starts = self.starts.get(merchant_id)
        if not starts:
            return self.default
        i = bisect.bisect_right(starts, at) - 1
        return self.plans[self.plan_ids[merchant_id][max(i, 0)]]


@dataclass(frozen=True)
class PlanChange:
    version: MerchantPlan
    increase: bool


def latest_notice(merchant_id: int, code: str) -> PlanNotice | None:
    return (
        PlanNotice.objects.filter(merchant_id=merchant_id, plan__code=code)
        .order_by("-notified_at", "-id")
        .first()
    )


def change_plan(
    actor: Actor, merchant_id: int, code: str, effective_from: datetime | None = None
) -> PlanChange:
    """Move the merchant to plan `code` from `effective_from` (now by default) under the 30-day rule."""
    _require(actor)
    merchant = _merchant(merchant_id)
    plan = get_plan(code)
    now = timezone.now()
    if effective_from is not None and timezone.is_naive(effective_from):
        effective_from = timezone.make_aware(effective_from)
    effective = effective_from or now
    if effective < now - PAST_TOLERANCE:
        raise ValidationFailed(
            _("A plan change cannot take effect in the past."),
            details={"effective_from": [_("Choose a time from now on.")]},
        )
    current = plan_at(merchant.pk, effective)
    if current.pk == plan.pk:
        raise ValidationFailed(
            _("The merchant is already on plan %(code)s at that time.") % {"code": code},
            details={"code": [_("Already on this plan.")]},
        )
    increase = not is_decrease(current, plan)
    notified_at = None
    if increase:
        notice = latest_notice(merchant.pk, plan.code)
        if notice is None:
            raise ValidationFailed(
                _(
                    "Plan %(code)s costs the merchant more than %(current)s: notify the merchant first; "
                    "the change can take effect 30 days after the notice."
                )
                % {"code": plan.code, "current": current.code},
                details={"code": [_("An increase needs a recorded notice 30 days ahead.")]},
            )
        earliest = notice.notified_at + NOTICE_PERIOD
        if effective_from is None or effective_from < earliest:
            raise ValidationFailed(
                _(
                    "An increase cannot take effect sooner than 30 days after the merchant was notified "
                    "(notified %(notified)s; earliest %(earliest)s)."
                )
                % {
                    "notified": timezone.localtime(notice.notified_at).strftime("%Y-%m-%d %H:%M"),
                    "earliest": timezone.localtime(earliest).strftime("%Y-%m-%d %H:%M"),
                },
                details={"effective_from": [_("At the earliest %(at)s.") % {"at": earliest.isoformat()}]},
            )
        notified_at = notice.notified_at
    version = MerchantPlan.objects.create(
        merchant=merchant, plan=plan, effective_from=effective, notified_at=notified_at, created_by=actor.name
    )
    record(
        actor,
        Change(
            "merchant",
            str(merchant.pk),
            "rate_plan.change",
            {"rate_plan": current.code},
            {"rate_plan": plan.code, "effective_from": effective.isoformat(), "increase": increase},
            "increase after notice" if increase else "decrease",
        ),
    )
    return PlanChange(version, increase)


def notify_increase(actor: Actor, merchant_id: int, code: str) -> PlanNotice:
    """Record and send the notice of a coming move to plan `code`."""
    _require(actor)
    merchant = _merchant(merchant_id)
    plan = get_plan(code)
    now = timezone.now().replace(microsecond=0)  # whole seconds: the earliest date round-trips through JSON
    notice = PlanNotice.objects.create(
        merchant=merchant,
        plan=plan,
        notified_at=now,
        created_by=actor.name,
        notice_id=_send(actor, merchant, plan, now + NOTICE_PERIOD),
    )
    record(
        actor,
        Change(
            "merchant",
            str(merchant.pk),
            "rate_plan.notify",
            None,
            {"rate_plan": plan.code, "notified_at": now.isoformat(), "notice_id": notice.notice_id},
            "notice of a rate plan increase",
        ),
    )
    return notice


def _send(actor: Actor, merchant: Merchant, plan: RatePlan, earliest: datetime) -> int:
    rates = "; ".join(
        f"{c} {bp / 100:.2f}%" + (f" (≤ {cap / 100:.2f})" if cap is not None else "")
        for c, (bp, cap) in plan.rates().items()
    )
    with translation.override("zh-hans"):  # the merchant reads notices in Chinese
        title = _("Notice of a change of your rate plan")
        body = _("From %(date)s at the earliest your rates change to plan %(code)s: %(rates)s.") % {
            "date": timezone.localtime(earliest).strftime("%Y-%m-%d"),
            "code": plan.code,
            "rates": rates,
        }
    return tell_merchant(actor, merchant, title, body)


PLAN_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")


@dataclass
class PlanInput:
    code: str
    name: str
    rates: dict[str, dict[str, Any]]  # channel → {"rate_bp": int, "cap_fen": int | None}


def create_plan(actor: Actor, data: PlanInput) -> RatePlan:
    """A new rate plan. Plans are never edited (transactions name the plan whose rates they used)."""
    _require(actor)
    errors: dict[str, list[str]] = {}
    code = (data.code or "").strip().upper()
    if not PLAN_CODE_RE.match(code):
        errors["code"] = [_("2 to 40 capital letters, digits, - or _.")]
    elif RatePlan.objects.filter(code=code).exists():
        errors["code"] = [_("Plan %(code)s exists already; plans are never edited.") % {"code": code}]
    name = (data.name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = [_("A name of at most 200 characters is required.")]
    values: dict[str, Any] = {}
    rates = data.rates if isinstance(data.rates, dict) else {}
    for channel in CHANNELS:
        spec = rates.get(channel)
        if not isinstance(spec, dict):
            errors[f"rates.{channel}"] = [_("A rate for this channel is required.")]
            continue
        bp, cap = spec.get("rate_bp"), spec.get("cap_fen")
        if isinstance(bp, bool) or not isinstance(bp, int) or not 0 <= bp <= 10000:
            errors.setdefault(f"rates.{channel}", []).append(_("rate_bp is a whole number from 0 to 10000."))
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
            errors.setdefault(f"rates.{channel}", []).append(_("cap_fen is empty or a whole number ≥ 0."))
        values[f"{channel}_bp"], values[f"{channel}_cap_fen"] = bp, cap
    unknown = set(rates) - set(CHANNELS)
    if unknown:
        errors["rates"] = [_("Unknown channel %(c)s.") % {"c": ", ".join(sorted(map(str, unknown)))}]
    if errors:
        raise ValidationFailed(details=errors)
    plan = RatePlan.objects.create(code=code, name=name, **values)
    record(actor, Change("rate_plan", plan.code, "rate_plan.create", None, plan.as_dict(), "new rate plan"))
    return plan
