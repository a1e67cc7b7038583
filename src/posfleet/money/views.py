"""Console pages of the money app: overview with the 30-day chart, rate plans.

Views gather input and render; rules (the 30-day rule, fees) live in `plans`, `fees`, `ingest`. A
merchant's money page lists transactions with their settlement, settlement's rule: its view is
`settlement.views.merchant_money`, mounted among the money pages by `posfleet.urls`.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from posfleet.core.errors import DomainError, ValidationFailed
from posfleet.money import plans, queries
from posfleet.money.choices import Channel
from posfleet.money.models import Account, MerchantPlan, PlanNotice, RatePlan, Transaction
from posfleet.web.staff import console_actor, domain_error_response, int_or_none, staff_view


@staff_view(perm="view_money")
def overview(request: HttpRequest) -> HttpResponse:
    days = queries.daily_totals(30)
    flagged = list(Transaction.objects.filter(flagged=True).order_by("-id")[:20])
    institution = dict(Account.objects.filter(merchant__isnull=True).values_list("code", "balance_fen"))
    context = {
        "days": days,
        "volume_bars": queries.bars(days, "volume_fen"),
        "fee_bars": queries.bars(days, "fee_fen"),
        "volume_total": sum(d.volume_fen for d in days),
        "fee_total": sum(d.fee_fen for d in days),
        "count_total": sum(d.count for d in days),
        "flagged_total": sum(d.flagged for d in days),  # totals: from the daily rollups
        "flagged": flagged,
        "institution": sorted(institution.items()),
        "chart_width": 40 + 22 * len(days) + 10,
    }
    return render(request, "money/overview.html", context)


def _plans_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    recent = list(MerchantPlan.objects.select_related("merchant", "plan").order_by("-created_at", "-id")[:20])
    notices = list(PlanNotice.objects.select_related("merchant", "plan").order_by("-notified_at", "-id")[:20])
    rate_plans = list(RatePlan.objects.order_by("code"))
    rows = [
        {"plan": p, "rates": [(Channel(c).label, bp, cap) for c, (bp, cap) in p.rates().items()]}
        for p in rate_plans
    ]
    return {
        "plans": rows,
        "channels": Channel.choices,
        "can_manage": request.user.has_perm("accounts.manage_rate_plan"),
        "codes": [p.code for p in rate_plans],
        "recent": recent,
        "notices": notices,
        "form": extra.pop("form", {}),
        **extra,
    }


@staff_view(perm="view_money")
def rate_plans(request: HttpRequest) -> HttpResponse:
    """The plans with their rates; change a merchant's plan (30-day rule) or record an increase notice."""
    if request.method == "POST":
        return _plan_post(request)
    form = {"merchant_id": request.GET.get("merchant", "")}
    return render(request, "money/rate_plans.html", _plans_context(request, form=form))


def _plan_post(request: HttpRequest) -> HttpResponse:
    data = request.POST
    form = {k: data.get(k, "") for k in ("merchant_id", "code", "effective_from", "action")}
    try:
        actor = console_actor(request)
        if form["action"] == "create":
            with transaction.atomic():
                plan = plans.create_plan(actor, _plan_input(data))
            messages.success(request, _("Rate plan %(code)s created.") % {"code": plan.code})
            return HttpResponseRedirect(reverse("money:rate_plans"))
        merchant_id = int_or_none(form["merchant_id"])
        if merchant_id is None:
            raise ValidationFailed(details={"merchant_id": [_("Enter a merchant ID.")]})
        with transaction.atomic():
            if form["action"] == "notify":
                notice = plans.notify_increase(actor, merchant_id, form["code"])
                earliest = timezone.localtime(notice.notified_at + plans.NOTICE_PERIOD)
                messages.success(
                    request,
                    _("Notice recorded; the increase may take effect from %(at)s.")
                    % {"at": earliest.strftime("%Y-%m-%d %H:%M")},
                )
            else:
                effective = _effective(form["effective_from"])
                change = plans.change_plan(actor, merchant_id, form["code"], effective)
                messages.success(
                    request,
                    _("Merchant %(id)s moves to plan %(code)s from %(at)s.")
                    % {
                        "id": merchant_id,
                        "code": form["code"],
                        "at": timezone.localtime(change.version.effective_from).strftime("%Y-%m-%d %H:%M"),
                    },
                )
    except DomainError as exc:
        return domain_error_response(
            request, exc, "money/rate_plans.html", _plans_context(request, form=form)
        )
    return HttpResponseRedirect(f"{reverse('money:rate_plans')}?merchant={merchant_id}")


def _plan_input(data: Any) -> plans.PlanInput:
    """The create form: rate in basis points and an optional cap in fen per channel."""
    rates: dict[str, dict[str, Any]] = {}
    for channel in Channel.values:
        bp_raw = (data.get(f"{channel}_bp") or "").strip()
        cap_raw = (data.get(f"{channel}_cap") or "").strip()
        rates[channel] = {
            "rate_bp": int(bp_raw) if bp_raw.isdigit() else bp_raw or None,
            "cap_fen": int(cap_raw) if cap_raw.isdigit() else (cap_raw or None),
        }
    return plans.PlanInput(data.get("code", ""), data.get("name", ""), rates)


def _effective(raw: str) -> datetime | None:
    """'' → now; 'YYYY-MM-DD' → that day's start; 'YYYY-MM-DDTHH:MM' → that time (Asia/Shanghai)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return timezone.make_aware(datetime.combine(date.fromisoformat(raw), time.min))
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            details={"effective_from": [_("Use YYYY-MM-DD or YYYY-MM-DD HH:MM.")]}
        ) from None
    return timezone.make_aware(value) if timezone.is_naive(value) else value
