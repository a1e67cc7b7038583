"""Terminal detail: what the terminal is, its holds (in force, scheduled, past), the moves it can make
now, and its history from the audit log; forms to place and release holds and to apply a move.

Every form posts to its own small view that calls one service inside a transaction; on a domain error the
detail page is redisplayed with the message and the error's status, and what was typed is kept across
the step-up detour.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from posfleet.accounts.roles import perm
from posfleet.console import hold_forms, queries
from posfleet.console.forms import ReasonForm, TransitionForm
from posfleet.core import labels
from posfleet.core.errors import DomainError, NotFound
from posfleet.jobs.models import Job
from posfleet.lifecycle import bulk as bulk_holds
from posfleet.lifecycle import holds as hold_services
from posfleet.lifecycle import services as lifecycle
from posfleet.lifecycle import transitions
from posfleet.lifecycle.eligibility import may_transact
from posfleet.lifecycle.models import Hold, HoldKind
from posfleet.lifecycle.refusals import refusals_since_stop
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.models import Merchant
from posfleet.web.staff import (
    DetailPage,
    console_actor,
    domain_error_response,
    domain_errors,
    form_refused,
    int_or_none,
    recall_form,
    remember_form,
    safe_next,
    staff_view,
)

REASON_LABELS = {
    "unknown_terminal": gettext_lazy("Unknown terminal"),
    "no_merchant": gettext_lazy("Not bound to a merchant"),
    "merchant_not_active": gettext_lazy("Merchant not active"),
    "terminal_not_active": gettext_lazy("Terminal not active"),
    "merchant_hold": gettext_lazy("Hold on the merchant"),
    "terminal_hold": gettext_lazy("Hold on the terminal"),
}
labels.register(REASON_LABELS)
KIND_LABELS: dict[str, Any] = {
    **dict(HoldKind.choices),
    **dict(TerminalState.choices),
    **{k: v for k, v in MerchantState.choices if k not in dict(TerminalState.choices)},
}


def reason_lines(answer: Any) -> list[dict[str, Any]]:
    """The answer's refusal reasons in the reader's language, with their ISO response codes."""
    return [
        {
            "label": REASON_LABELS.get(r.code, r.code),
            "kind": KIND_LABELS.get(r.kind, r.kind) if r.kind else "",
            "code": r.response_code,
        }
        for r in answer.reasons
    ]


def detail_url(tid: str) -> str:
    return reverse("console:terminal", args=[tid])


def terminal_context(request: HttpRequest, tid: str, /, **forms: Any) -> dict[str, Any]:
    terminal = lifecycle.get_terminal(tid)
    user = request.user
    url = detail_url(tid)
    holds = list(Hold.objects.placed_on_terminal(terminal.pk).select_related("placed_by", "released_by"))
    merchant_holds = (
        list(Hold.objects.in_force().filter(on_merchant=True, merchant_id=terminal.merchant_id))
        if terminal.merchant_id
        else []
    )
    moves = [m for m in transitions.available(terminal.state) if user.has_perm(perm(m.permission))]
    apply_initial = recall_form(request, f"{url}:apply") or {}
    return {
        "terminal": terminal,
        "accessories": list(terminal.accessories.all()),
        "holds": queries.split_holds(holds),
        "merchant_holds": merchant_holds,
        "moves": moves,
        "apply_form": forms.get("apply_form") or TransitionForm(initial=apply_initial),
        "apply_initial": apply_initial,
        **hold_forms.context(request, url, forms.get("hold_form")),
        "answer": (answer := may_transact(terminal.tid)),
        "refused": refusals_since_stop(terminal),
        "alerts": list(terminal.device_alerts.order_by("-day")[:5]),
        "reasons": reason_lines(answer),
        "history": queries.history("terminal", terminal.tid),
    }


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


TERMINAL_PAGE = DetailPage("console/terminals/detail.html", detail_url, terminal_context)


@staff_view(perm="view_fleet")
@domain_errors
def terminal_detail(request: HttpRequest, tid: str) -> HttpResponse:
    return TERMINAL_PAGE.show(request, tid)


@require_POST
@staff_view(perm="view_fleet")
def terminal_apply(request: HttpRequest, tid: str) -> HttpResponse:
    form = TransitionForm(request.POST)
    url = detail_url(tid)
    if not form.is_valid():
        return TERMINAL_PAGE.refuse(request, tid, form_refused(form), apply_form=form)
    data = form.cleaned_data
    remember_form(request, f"{url}:apply", {"action": data["action"], "reason": data["reason"]})
    params: dict[str, Any] = {}
    try:
        if data.get("merchant_id"):
            merchant = Merchant.objects.filter(pk=data["merchant_id"]).first()
            if merchant is None:
                raise NotFound(_("No merchant %(id)s.") % {"id": data["merchant_id"]})
            params["merchant"] = merchant
        with transaction.atomic():
            terminal = lifecycle.apply(
                console_actor(request),
                tid,
                data["action"],
                reason=data["reason"],
                expected_version=data.get("version"),
                **params,
            )
    except DomainError as exc:
        return TERMINAL_PAGE.refuse(request, tid, exc)
    recall_form(request, f"{url}:apply")
    messages.success(
        request,
        _("Terminal %(tid)s is now %(state)s.") % {"tid": tid, "state": terminal.get_state_display()},
    )
    return HttpResponseRedirect(url)


@require_POST
@staff_view(perm="view_fleet")
def terminal_hold(request: HttpRequest, tid: str) -> HttpResponse:
    return hold_forms.place(request, TERMINAL_PAGE, tid, tid=tid)


@require_POST
@staff_view(perm="view_fleet")
def hold_release(request: HttpRequest, hold_id: int) -> HttpResponse:
    back = safe_next(request, request.POST.get("next"), reverse("console:terminals"))
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A reason is required."))
        return HttpResponseRedirect(back)
    tid = (request.POST.get("tid") or "").strip() or None
    version = int_or_none(request.POST.get("version"))
    try:
        with transaction.atomic():
            if tid is None:
                released = bulk_holds.release(
                    console_actor(request),
                    hold_id,
                    reason=form.cleaned_data["reason"],
                    expected_version=version,
                )
            else:
                released = hold_services.release_hold(
                    console_actor(request),
                    hold_id,
                    reason=form.cleaned_data["reason"],
                    expected_version=version,
                    tid=tid,
                )
    except DomainError as exc:
        return domain_error_response(request, exc, step_up_next=back)
    if isinstance(released, Job):
        messages.success(
            request,
            _("Queued: the worker releases the hold from %(n)d terminal(s) as job #%(job)d.")
            % {"n": released.total, "job": released.pk},
        )
        return HttpResponseRedirect(reverse("console:jobs"))
    messages.success(request, _("Hold released."))
    return HttpResponseRedirect(back)
