"""Console screens for repairs: the order queue, reporting a fault for a merchant, an order's page with
the actions its state allows, loaners, terminals due for inspection, a TID's repair history (with the
swap) and the repair figures. Views gather input and render; services decide.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.core.actor import Actor
from posfleet.core.errors import DomainError, NotFound, ValidationFailed
from posfleet.registry.choices import Condition
from posfleet.registry.models import Terminal
from posfleet.repair import forms, transitions
from posfleet.repair.choices import (
    FINAL_STATES,
    SYMPTOMS,
    FaultCategory,
    Frequency,
    QcCheck,
    RepairState,
    SwapKind,
    Symptom,
    Where,
)
from posfleet.repair.models import FaultEvidence, RepairOrder, RepairStep
from posfleet.repair.services import faults, loaners, orders, prevention
from posfleet.repair.services import swap as swaps
from posfleet.repair.services.common import get_order
from posfleet.web.charts import BAR_WIDTH, bars
from posfleet.web.staff import (
    console_actor,
    domain_error_response,
    domain_errors,
    forbidden,
    staff_view,
)

PAGE = 100


def fault_report_page(
    request: HttpRequest,
    *,
    actor: Callable[[HttpRequest], Actor],
    template: str,
    terminals: list[Terminal] | None,
    refused: Callable[[HttpRequest, DomainError, str, dict[str, Any]], HttpResponse],
    thanks: str,
    order_view: str,
) -> HttpResponse:
    """The fault report of the console and the portal. GET: the form, empty but for the TID of the link
    that led here. POST: the fault and its uploads filed in one transaction, then `thanks` (with the
    order's `id`) on the order's page; a refusal shows the form again as posted."""
    context: dict[str, Any] = {
        "categories": FaultCategory.choices,
        "symptoms": [(cat, [(s, Symptom(s).label) for s in names]) for cat, names in SYMPTOMS.items()],
        "frequencies": Frequency.choices,
        "terminals": terminals,
        "form": request.POST or {"tid": forms.clean(request.GET.get("tid"))[:8]},
    }
    if request.method != "POST":
        return render(request, template, context)
    reporter = actor(request)
    try:
        with transaction.atomic():
            fault = forms.file_fault(reporter, request)
    except DomainError as exc:
        return refused(request, exc, template, context)
    messages.success(request, thanks % {"id": fault.order.pk})
    return HttpResponseRedirect(reverse(order_view, args=[fault.order.pk]))


@staff_view(perm="view_fleet")
def index(request: HttpRequest) -> HttpResponse:
    state = forms.clean(request.GET.get("state"))
    qs = RepairOrder.objects.select_related("fault", "merchant", "terminal__model").order_by("-id")
    if state in RepairState.values:
        qs = qs.filter(state=state)
    context = {"orders": list(qs[:PAGE]), "state": state, "states": RepairState.choices}
    return render(request, "repair/index.html", context)


@staff_view
def report(request: HttpRequest) -> HttpResponse:
    if not any(request.user.has_perm(f"accounts.{c}") for c in ("report_fault", "work_repair")):
        return forbidden(request, _("You do not have permission to see this page."))
    return fault_report_page(
        request,
        actor=console_actor,
        template="repair/report.html",
        terminals=None,
        refused=domain_error_response,
        thanks=_("Fault reported: repair order #%(id)s."),
        order_view="repair:order",
    )


def load_order(order_id: int) -> RepairOrder:
    return (
        RepairOrder.objects.select_related("fault", "merchant", "terminal__model")
        .prefetch_related(
            "quotes",
            Prefetch("steps", RepairStep.objects.prefetch_related("parts")),
            "qc_results",
            "fault__evidence",
            "loaners__terminal",
        )
        .get(pk=order_id)
    )


def order_context(order: RepairOrder) -> dict[str, Any]:
    qc = list(order.qc_results.all())
    last = max((r.round for r in qc), default=0)
    return {
        "order": order,
        "actions": transitions.available(order.state),
        "checklist": [(c, QcCheck(c).label if c in QcCheck.values else c) for c in orders.qc_checks(order)],
        "qc_last": [r for r in qc if r.round == last],
        "qc_round": last,
        "wheres": Where.choices,
        "conditions": Condition.choices,
        "loan": next((x for x in order.loaners.all() if x.state == "lent"), None),
        "is_open": order.state not in FINAL_STATES,
    }


@staff_view(perm="view_fleet")
@domain_errors
def order_page(request: HttpRequest, order_id: int) -> HttpResponse:
    get_order(console_actor(request), order_id)
    return render(request, "repair/order.html", order_context(load_order(order_id)))


@require_POST
@staff_view
@domain_errors
def act(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = console_actor(request)
    action = forms.clean(request.POST.get("action"))
    order = get_order(actor, order_id)
    data = forms.action_data(request.POST, list(orders.qc_checks(order)))
    back = reverse("repair:order", args=[order_id])
    try:
        with transaction.atomic():
            order = orders.apply(actor, order_id, action, data)
    except DomainError as exc:
        return domain_error_response(
            request, exc, "repair/order.html", order_context(load_order(order_id)), step_up_next=back
        )
    if action == "qc" and order.state == RepairState.REPAIRING:
        messages.warning(request, _("A QC check failed: the terminal goes back to repairing."))
    else:
        messages.success(request, _("Done: %(action)s.") % {"action": transitions.label(action)})
    return HttpResponseRedirect(back)


@require_POST
@staff_view
@domain_errors
def lend(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = console_actor(request)
    order = get_order(actor, order_id)
    back = reverse("repair:order", args=[order_id])
    try:
        due = forms.due_on(request.POST.get("due_on", ""))
    except ValueError:
        due = None
    try:
        with transaction.atomic():
            loan = loaners.lend(
                actor, order.merchant_id, order.pk, due_on=due, tid=forms.clean(request.POST.get("tid"))[:8]
            )
    except DomainError as exc:
        return domain_error_response(request, exc, "repair/order.html", order_context(load_order(order_id)))
    messages.success(
        request, _("Loaner %(tid)s lent until %(due)s.") % {"tid": loan.terminal.tid, "due": loan.due_on}
    )
    return HttpResponseRedirect(back)


@staff_view(perm="view_fleet")
def loaner_list(request: HttpRequest) -> HttpResponse:
    context = {
        "lent": list(loaners.lent_to_all().select_related("merchant", "order")),
        "overdue_ids": {x.pk for x in loaners.overdue()},
        "conditions": Condition.choices,
    }
    return render(request, "repair/loaners.html", context)


@require_POST
@staff_view
@domain_errors
def loaner_return(request: HttpRequest) -> HttpResponse:
    tid = forms.clean(request.POST.get("tid")).strip().upper()[:8]
    try:
        with transaction.atomic():
            loan = loaners.return_loaner(
                console_actor(request),
                tid,
                condition=forms.clean(request.POST.get("condition")),
                note=forms.clean(request.POST.get("note")),
            )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("repair:loaners"))
    messages.success(
        request,
        _("Loaner %(tid)s received (%(condition)s).")
        % {"tid": tid, "condition": loan.get_condition_display()},
    )
    return HttpResponseRedirect(reverse("repair:loaners"))


@staff_view(perm="view_fleet")
def inspections(request: HttpRequest) -> HttpResponse:
    rows = list(prevention.due_for_inspection()[:PAGE])
    return render(request, "repair/inspections.html", {"rows": rows})


@staff_view(perm="view_fleet")
@domain_errors
def terminal_history(request: HttpRequest, tid: str) -> HttpResponse:
    terminal = Terminal.objects.select_related("model", "merchant").filter(tid=tid.upper()[:8]).first()
    if terminal is None:
        raise NotFound(_("No terminal with TID %(tid)s.") % {"tid": tid})
    found = prevention.history(terminal)
    context = {
        "terminal": terminal,
        "orders": found["orders"],
        "swaps": found["swaps"],
        "kinds": SwapKind.choices,
        "newest": swaps.newest_patch(terminal.model),
        "can_swap": request.user.has_perm("accounts.swap_terminal"),
    }
    return render(request, "repair/terminal.html", context)


@require_POST
@staff_view
@domain_errors
def swap(request: HttpRequest, tid: str) -> HttpResponse:
    back = reverse("repair:terminal", args=[tid])
    kind = forms.clean(request.POST.get("kind"))
    try:
        with transaction.atomic():
            done = swaps.swap(
                console_actor(request),
                tid,
                reason=forms.clean(request.POST.get("reason")),
                new_sn=forms.clean(request.POST.get("new_sn")).strip()[:40],
                kind=kind,
            )
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(back)
    messages.success(
        request,
        _("Swapped: %(tid)s now runs on SN %(new)s (was %(old)s); the old device carries TID %(spare)s.")
        % {"tid": done.tid, "new": done.new_sn, "old": done.old_sn, "spare": done.old_tid_now},
    )
    return HttpResponseRedirect(back)


def _figures() -> dict[str, Any]:
    per_month = prevention.faults_per_model_month()
    mttr = prevention.mean_time_to_repair()
    return {
        "faults": bars([(f"{r.model}-{r.month}", f"{r.model} {r.month}", r.faults, "") for r in per_month]),
        "mttr": mttr,
        "mttr_chart": bars([(r.model, r.model, round(r.mean_hours), "") for r in mttr]),
        "bar_width": BAR_WIDTH,
    }


@staff_view(perm="view_fleet")
def stats(request: HttpRequest) -> HttpResponse:
    return render(request, "repair/stats.html", _figures())


@staff_view(perm="view_fleet")
def figures(request: HttpRequest) -> HttpResponse:
    """The charts alone, which the dashboard loads after its own numbers."""
    return render(request, "repair/_figures.html", _figures())


@staff_view(perm="view_fleet")
@domain_errors
def evidence(request: HttpRequest, evidence_id: int) -> HttpResponse:
    item, data = faults.read_evidence(console_actor(request), evidence_id)
    return evidence_response(item, data)


def evidence_response(item: FaultEvidence, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type=item.content_type)
    response["Content-Disposition"] = (
        f'inline; filename="evidence-{item.pk}.{item.stored_name.rsplit(".", 1)[-1]}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
