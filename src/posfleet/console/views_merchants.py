"""Merchants: list with search and a create form, and the merchant detail page (contract, terminals,
holds on the merchant, lifecycle moves, history, and links into money, settlement and cases).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from posfleet.accounts.roles import perm
from posfleet.console import hold_forms, queries
from posfleet.console.forms import MerchantForm, ReasonForm
from posfleet.core.errors import DomainError
from posfleet.lifecycle import services as lifecycle
from posfleet.lifecycle import transitions
from posfleet.lifecycle.models import Hold
from posfleet.registry import prices
from posfleet.registry import services as registry
from posfleet.registry.choices import MerchantState, TerminalState
from posfleet.registry.filters import filter_merchants
from posfleet.registry.models import Contract, Merchant
from posfleet.web.lists import list_page
from posfleet.web.staff import (
    DetailPage,
    console_actor,
    domain_error_response,
    domain_errors,
    form_refused,
    int_or_none,
    recall_form,
    remember_form,
    staff_view,
)

TERMINALS_SHOWN = 50


def _merchant_list_context(request: HttpRequest, form: MerchantForm | None = None) -> dict[str, Any]:
    q = (request.GET.get("q") or "").strip()
    state = request.GET.get("state") or ""
    qs = filter_merchants(
        Merchant.objects.all(), state=state if state in MerchantState.values else "", search=q
    )
    return {
        **list_page(request.GET, qs, key="id", size=50),
        "q": q,
        "state": state,
        "states": MerchantState.choices,
        "form": form or MerchantForm(),
        "can_create": request.user.has_perm(perm("manage_merchant")),
    }


@require_http_methods(["GET", "POST"])
@staff_view(perm="view_fleet")
def merchant_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "console/merchants/list.html", _merchant_list_context(request))
    form = MerchantForm(request.POST)
    if not form.is_valid():
        return domain_error_response(
            request,
            form_refused(form),
            "console/merchants/list.html",
            _merchant_list_context(request, form),
        )
    data = form.cleaned_data
    try:
        with transaction.atomic():
            merchant = registry.create_merchant(
                console_actor(request),
                registry.MerchantInput(
                    kind=data["kind"],
                    name=data["name"],
                    contact_name=data["contact_name"],
                    phone=data["phone"],
                    email=data["email"],
                    licence_no=data["licence_no"],
                    legal_representative=data["legal_representative"],
                    settlement_card=data["settlement_card"],
                    address=data["address"],
                    contract_template=data["contract_template"] or None,
                ),
            )
    except DomainError as exc:
        for field, msgs in (exc.details or {}).items():
            if field in form.fields and isinstance(msgs, list):
                for msg in msgs:
                    form.add_error(field, str(msg))
        return domain_error_response(
            request, exc, "console/merchants/list.html", _merchant_list_context(request, form)
        )
    messages.success(request, _("Merchant %(name)s created.") % {"name": merchant.name})
    return HttpResponseRedirect(merchant_url(merchant.pk))


def merchant_url(merchant_id: int) -> str:
    return reverse("console:merchant", args=[merchant_id])


def merchant_context(request: HttpRequest, merchant_id: int, /, **forms: Any) -> dict[str, Any]:
    merchant = registry.get_merchant(merchant_id)
    user = request.user
    url = merchant_url(merchant.pk)
    holds = list(
        Hold.objects.filter(merchant=merchant, on_merchant=True).select_related("placed_by", "released_by")
    )
    terminals = list(merchant.terminals.select_related("model").order_by("id")[: TERMINALS_SHOWN + 1])
    by_state = dict(merchant.terminals.order_by().values_list("state").annotate(n=Count("id")))
    moves = [
        m
        for m in transitions.MERCHANT_TABLE
        if m.source == merchant.state and user.has_perm(perm(m.permission))
    ]
    contract = Contract.objects.filter(merchant=merchant).select_related("template").first()
    return {
        "merchant": merchant,
        "contract": contract,
        "prices": prices.all_lines(contract) if contract else [],
        "terminals": terminals[:TERMINALS_SHOWN],
        "more_terminals": len(terminals) > TERMINALS_SHOWN,
        "terminal_states": [
            (s.value, s.label, by_state[s.value]) for s in TerminalState if s.value in by_state
        ],
        "holds": queries.split_holds(holds, timezone.now()),
        **hold_forms.context(request, url, forms.get("hold_form")),
        "moves": moves,
        "apply_initial": recall_form(request, f"{url}:apply") or {},
        "history": queries.history("merchant", str(merchant.pk)),
    }


MERCHANT_PAGE = DetailPage("console/merchants/detail.html", merchant_url, merchant_context)


@staff_view(perm="view_fleet")
@domain_errors
def merchant_detail(request: HttpRequest, merchant_id: int) -> HttpResponse:
    return MERCHANT_PAGE.show(request, merchant_id)


@require_POST
@staff_view(perm="view_fleet")
def merchant_hold(request: HttpRequest, merchant_id: int) -> HttpResponse:
    return hold_forms.place(request, MERCHANT_PAGE, merchant_id, merchant_id=merchant_id)


@require_POST
@staff_view(perm="view_fleet")
def merchant_apply(request: HttpRequest, merchant_id: int) -> HttpResponse:
    url = merchant_url(merchant_id)
    form = ReasonForm(request.POST)
    action = request.POST.get("action", "")
    if not form.is_valid():
        return MERCHANT_PAGE.refuse(request, merchant_id, form_refused(form))
    remember_form(request, f"{url}:apply", {"action": action, "reason": form.cleaned_data["reason"]})
    try:
        with transaction.atomic():
            merchant = lifecycle.apply_merchant(
                console_actor(request),
                merchant_id,
                action,
                reason=form.cleaned_data["reason"],
                expected_version=int_or_none(request.POST.get("version")),
            )
    except DomainError as exc:
        return MERCHANT_PAGE.refuse(request, merchant_id, exc)
    recall_form(request, f"{url}:apply")
    messages.success(request, _("Merchant is now %(state)s.") % {"state": merchant.get_state_display()})
    return HttpResponseRedirect(url)
