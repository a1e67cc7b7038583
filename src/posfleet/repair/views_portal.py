"""Portal screens for a merchant's repairs: report a fault (with a photo), follow the order, accept or
decline a quote, and see the loaner and its due date. Every query is scoped to the merchant."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.core.errors import DomainError, ValidationFailed
from posfleet.registry.choices import TerminalState
from posfleet.registry.models import Terminal
from posfleet.repair import forms, transitions
from posfleet.repair.models import RepairOrder
from posfleet.repair.services import faults, loaners, orders
from posfleet.repair.services.common import get_order
from posfleet.repair.views import evidence_response, fault_report_page, load_order, order_context
from posfleet.web.merchant import merchant_view, portal_actor, show_error


@merchant_view
def repair_list(request: HttpRequest) -> HttpResponse:
    mid = request.merchant_id  # type: ignore[attr-defined]
    context = {
        "orders": list(
            RepairOrder.objects.filter(merchant_id=mid).select_related("fault").order_by("-id")[:100]
        ),
        "loans": list(loaners.lent_to(mid)),
        "today": timezone.localdate(),
    }
    return render(request, "portal_repair/list.html", context)


def _own_terminals(merchant_id: int) -> list[Terminal]:
    return list(
        Terminal.objects.filter(
            merchant_id=merchant_id,
            state__in=(TerminalState.ACTIVE, TerminalState.ALLOCATED, TerminalState.IN_REPAIR),
        ).order_by("tid")
    )


@merchant_view
def report(request: HttpRequest) -> HttpResponse:
    return fault_report_page(
        request,
        actor=portal_actor,
        template="portal_repair/report.html",
        terminals=_own_terminals(request.merchant_id),  # type: ignore[attr-defined]
        refused=show_error,
        thanks=_("Thank you: we received your fault report (repair order #%(id)s)."),
        order_view="portal_repair:order",
    )


@merchant_view
def order_page(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        get_order(portal_actor(request), order_id)
    except DomainError as exc:
        return render(request, "portal/base.html", {"error": exc}, status=exc.status)
    return render(request, "portal_repair/order.html", order_context(load_order(order_id)))


@require_POST
@merchant_view
def decide(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = portal_actor(request)
    action = forms.clean(request.POST.get("action"))
    try:
        get_order(actor, order_id)
        if action not in ("accept_quote", "decline_quote"):
            raise ValidationFailed(details={"action": ["accept_quote", "decline_quote"]})
        with transaction.atomic():
            orders.apply(actor, order_id, action, forms.action_data(request.POST, []))
    except DomainError as exc:
        messages.error(request, str(exc.message))
        if exc.status == 404:
            return render(request, "portal/base.html", {"error": exc}, status=404)
        return HttpResponseRedirect(reverse("portal_repair:order", args=[order_id]))
    messages.success(request, _("Done: %(action)s.") % {"action": transitions.label(action)})
    return HttpResponseRedirect(reverse("portal_repair:order", args=[order_id]))


@merchant_view
def evidence(request: HttpRequest, evidence_id: int) -> HttpResponse:
    try:
        item, data = faults.read_evidence(portal_actor(request), evidence_id)
    except DomainError as exc:
        return render(request, "portal/base.html", {"error": exc}, status=exc.status)
    return evidence_response(item, data)
