"""A case as staff see it: facts, materials (images inline, PDFs linked), review and work actions,
checklist with reasons, comments and calls, returns, money, export, letters and the timeline."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from posfleet.accounts.roles import is_custodian
from posfleet.cases import services as case_services
from posfleet.cases.choices import FINAL_STATES, REVIEWABLE_STATES, CaseKind, CaseState, Reason
from posfleet.cases.forms import (
    CommentForm,
    DecisionForm,
    DeliverForm,
    MaterialForm,
    ReasonForm,
    ResubmitForm,
    ReturnsForm,
    ShipForm,
    labelled_checklist,
    labelled_timeline,
    material_rows,
)
from posfleet.cases.models import Application, Case
from posfleet.notices.models import Notice
from posfleet.registry.models import Accessory
from posfleet.settlement import closing
from posfleet.web.staff import console_actor, domain_errors, staff_view

WORKING_STATES = (CaseState.APPROVED, CaseState.IN_PROGRESS)
STOCK_CHOICES = 50  # terminals offered in the allocation list (the service picks the best by default)


def return_choices(case: Case) -> list[tuple[str, str]]:
    """Each lent item of the scope with a readable label, for the inspection form."""
    keys = case_services.expected_returns(case) if case.is_stop else []
    ids = [int(k.split(":", 1)[1]) for k in keys if k.startswith("accessory:")]
    accessories = {a.pk: a for a in Accessory.objects.filter(pk__in=ids).select_related("terminal")}
    out = []
    for key in keys:
        kind, ref = key.split(":", 1)
        if kind == "terminal":
            out.append((key, f"{ref}"))
        else:
            a = accessories.get(int(ref))
            out.append((key, f"{a.get_kind_display()} {a.serial} ({a.terminal.tid})" if a else key))
    return out


def _review_perm(case: Case) -> str:
    """Who decides: risk officers an appeal (the hold kind's permission), reviewers the rest."""
    if case.kind == CaseKind.APPEAL and case.hold is not None:
        return f"accounts.hold_{case.hold.kind}"
    return "accounts.review_case"


def detail_context(request: HttpRequest, case: Case, **forms: Any) -> dict[str, Any]:
    done = {r.item: r for r in case.returns.all()}
    pending_returns = [(k, label) for k, label in return_choices(case) if k not in done]
    materials = list(case.materials.order_by("id"))
    export = getattr(case, "export", None) if case.is_stop else None
    settlement = getattr(case, "settlement", None) if case.is_stop else None
    user = request.user
    case = Case.objects.select_related("merchant", "assignee", "hold", "hold__terminal").get(pk=case.pk)
    return {
        "case": case,
        "reason_label": dict(Reason.choices).get(case.reason, case.reason),
        "scope": list(case.scope.select_related("terminal", "terminal__model").order_by("terminal__tid")),
        "materials": materials,
        "missing": case.missing_materials(),
        "checklist": labelled_checklist(case_services.checklist(case)) if case.is_stop else [],
        "timeline": labelled_timeline(case_services.timeline(case)),
        "comments": list(case.comments.order_by("id")),
        "returns": list(done.values()),
        "notices": list(Notice.objects.filter(case_id=case.pk, merchant_id=case.merchant_id).order_by("id")),
        "export": export,
        "settlement": settlement,
        "can_review": case.state in REVIEWABLE_STATES and user.has_perm(_review_perm(case)),
        "hold": case.hold,
        "next_steps": case_services.appeal_next_steps(case),
        "still_stopped": case_services.still_stopped(case),
        "can_work": case.state in WORKING_STATES and user.has_perm("accounts.work_case"),
        "can_inspect": case.state in WORKING_STATES and user.has_perm("accounts.inspect_return"),
        "can_settle": case.state in WORKING_STATES and user.has_perm("accounts.settle_case"),
        "is_custodian": is_custodian(user),
        "can_read_documents": user.has_perm("accounts.read_case_documents"),
        "payable_batches": (
            closing.due_batches(case.merchant_id)
            if case.is_stop
            and case.state in WORKING_STATES
            and user.has_perm("accounts.run_settlement")
            and closing.may_pay_now(case.merchant)
            else []
        ),
        "can_take": case.assignee_id != user.pk
        and case.state not in FINAL_STATES
        and (user.has_perm("accounts.review_case") or user.has_perm("accounts.work_case")),
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "returns_form": forms.get("returns_form") or ReturnsForm(pending_returns),
        "reason_form": ReasonForm(),
        "material_rows": material_rows(case.required_materials, (m.type for m in materials)),
        "material_form": forms.get("material_form") or MaterialForm(),
        "can_add_material": case.state not in FINAL_STATES
        and any(user.has_perm(f"accounts.{p}") for p in ("file_case", "review_case", "work_case")),
        **application_context(request, case, **forms),
    }


def application_context(request: HttpRequest, case: Case, **forms: Any) -> dict[str, Any]:
    """An application's data and which of its steps this person may take now."""
    if case.kind != CaseKind.APPLICATION:
        return {"application": None}
    app = Application.objects.select_related("terminal_model", "terminal").get(case=case)
    user = request.user
    approved, working = case.state == CaseState.APPROVED, case.state == CaseState.IN_PROGRESS
    shipped, delivered = app.shipped_on is not None, app.delivered_on is not None
    can_allocate = approved and user.has_perm("accounts.allocate_terminal")
    stock = list(case_services.stock_for(app.terminal_model)[:STOCK_CHOICES]) if can_allocate else []
    return {
        "application": app,
        "stock": stock,
        "can_allocate": can_allocate,
        "can_ship": working and not shipped and user.has_perm("accounts.ship_terminal"),
        "can_deliver": working
        and shipped
        and not delivered
        and (user.has_perm("accounts.ship_terminal") or user.has_perm("accounts.activate_terminal")),
        "can_activate": working and delivered and user.has_perm("accounts.activate_terminal"),
        "can_resubmit": case.state == CaseState.REJECTED and user.has_perm("accounts.file_case"),
        "ship_form": forms.get("ship_form") or ShipForm(initial={"shipped_on": timezone.localdate()}),
        "deliver_form": forms.get("deliver_form")
        or DeliverForm(initial={"delivered_on": timezone.localdate()}),
        "resubmit_form": forms.get("resubmit_form")
        or ResubmitForm(initial={"install_address": app.install_address}),
    }


@staff_view
@domain_errors
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_services.get_case(console_actor(request), case_id)
    return render(request, "cases/detail.html", detail_context(request, case))
