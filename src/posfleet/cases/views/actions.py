"""POST actions on a case from the console. Each wraps one service call in a transaction; a refusal
re-renders the case with the message and the error's status (step-up goes to the step-up page and back).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.cases import services as case_services
from posfleet.cases.forms import (
    CommentForm,
    DecisionForm,
    MaterialForm,
    ReturnsForm,
    StopForm,
    attach_errors,
)
from posfleet.cases.views.detail import detail_context, return_choices
from posfleet.core.errors import DomainError, ValidationFailed
from posfleet.core.labels import local_time
from posfleet.settlement import closing
from posfleet.web.staff import View, console_actor, domain_error_response, domain_errors, staff_view


def _back(case_id: int) -> str:
    return reverse("cases:detail", args=[case_id])


def posted_version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def run(
    request: HttpRequest,
    case_id: int,
    call: Callable[[], Any],
    success: str | Callable[[Any], str],
    **forms: Any,
) -> HttpResponse:
    """Carry out `call` in one transaction; on a DomainError show the case again with the reason.
    `success` is the message, or makes it from what `call` returned (to say what was done)."""
    try:
        with transaction.atomic():
            result = call()
    except DomainError as exc:
        return refuse(request, case_id, exc, **forms)
    messages.success(request, success(result) if callable(success) else success)
    return HttpResponseRedirect(_back(case_id))


def refuse(request: HttpRequest, case_id: int, exc: DomainError, **forms: Any) -> HttpResponse:
    """The case page again, with the refusal as a message, field errors on the forms, and its status."""
    try:
        case = case_services.get_case(console_actor(request), case_id)
    except DomainError:
        return domain_error_response(request, exc)
    for form in forms.values():
        if form is not None and hasattr(form, "cleaned_data"):
            attach_errors(form, exc.details)
    context = detail_context(request, case, **forms)
    return domain_error_response(request, exc, "cases/detail.html", context, step_up_next=_back(case_id))


def invalid(request: HttpRequest, case_id: int, **forms: Any) -> HttpResponse:
    return refuse(request, case_id, ValidationFailed(_("Some fields are not valid.")), **forms)


def run_form(
    request: HttpRequest,
    case_id: int,
    name: str,
    form: Any,
    call: Callable[[dict[str, Any]], Any],
    success: str,
) -> HttpResponse:
    """`run` with the form's cleaned data; an invalid form shows the case again with its errors. The
    form goes back to the page under `name` either way, so a refusal keeps what was typed."""
    if not form.is_valid():
        return invalid(request, case_id, **{name: form})
    return run(request, case_id, lambda: call(form.cleaned_data), success, **{name: form})


def case_action(view: View) -> View:
    """A POST by staff on a case page; a refusal that escapes the view is shown, never a 500."""
    return staff_view(domain_errors(require_POST(view)))


@case_action
def decide(request: HttpRequest, case_id: int) -> HttpResponse:
    return run_form(
        request,
        case_id,
        "decision_form",
        DecisionForm(request.POST),
        lambda data: case_services.decide(
            console_actor(request),
            case_id,
            data["decision"],
            data["reason"],
            expected_version=posted_version(request),
        ),
        _("Decision recorded."),
    )


@case_action
def material(request: HttpRequest, case_id: int) -> HttpResponse:
    """An agent attaches a scan the merchant brought, mailed or faxed (checked like any upload)."""
    return run_form(
        request,
        case_id,
        "material_form",
        MaterialForm(request.POST, request.FILES),
        lambda data: case_services.add_material(console_actor(request), case_id, data["type"], data["file"]),
        _("The material was uploaded."),
    )


@case_action
def comment(request: HttpRequest, case_id: int) -> HttpResponse:
    return run_form(
        request,
        case_id,
        "comment_form",
        CommentForm(request.POST),
        lambda data: case_services.add_comment(
            console_actor(request),
            case_id,
            data["text"],
            kind=data["kind"],
            visible_to_merchant=bool(request.POST.get("visible_to_merchant")),
        ),
        _("Added to the case."),
    )


@case_action
def stop(request: HttpRequest, case_id: int) -> HttpResponse:
    """Stop the terminals of a deactivation or closure now, or at a later effective time (step-up)."""
    form = StopForm(request.POST)
    if not form.is_valid():
        return invalid(request, case_id)
    when = request.POST.get("when", "")
    at = None if when == "now" else form.cleaned_data.get("at")
    if when == "at" and at is None:
        return refuse(request, case_id, ValidationFailed(_("Give the time to stop at, or stop now.")))
    actor = console_actor(request)

    return run(
        request,
        case_id,
        lambda: case_services.stop_terminals(actor, case_id, at=at, expected_version=posted_version(request)),
        stop_message,
    )


@case_action
def returns(request: HttpRequest, case_id: int) -> HttpResponse:
    """Warehouse: record each returned item's condition (good, damaged, missing)."""
    case = case_services.get_case(console_actor(request), case_id)
    done = set(case.returns.values_list("item", flat=True))
    form = ReturnsForm([c for c in return_choices(case) if c[0] not in done], request.POST)
    return run_form(
        request,
        case_id,
        "returns_form",
        form,
        lambda _data: case_services.record_returns(console_actor(request), case_id, form.service_items()),
        _("Returns recorded."),
    )


@case_action
def statement(request: HttpRequest, case_id: int) -> HttpResponse:
    return run(
        request,
        case_id,
        lambda: case_services.issue_final_statement(console_actor(request), case_id),
        _("The final statement was issued."),
    )


@case_action
def export(request: HttpRequest, case_id: int) -> HttpResponse:
    return run(
        request,
        case_id,
        lambda: case_services.start_export(console_actor(request), case_id),
        _("The data export was started; the worker builds it."),
    )


@case_action
def settle(request: HttpRequest, case_id: int) -> HttpResponse:
    """Finance: penalty, deductions from the deposit, refund with its proof (step-up)."""
    proof = request.POST.get("proof", "")
    return run(
        request,
        case_id,
        lambda: case_services.settle(
            console_actor(request), case_id, proof=proof, expected_version=posted_version(request)
        ),
        _("The money of the case was settled."),
    )


@case_action
def payment(request: HttpRequest, case_id: int) -> HttpResponse:
    """Finance: the merchant paid (part of) a shortfall, amount in yuan with up to two decimals."""
    try:
        amount = parse_yuan(request.POST.get("amount", ""))
    except ValueError:
        exc = ValidationFailed(details={"amount": [_("Enter an amount like 123.45.")]})
        return refuse(request, case_id, exc)
    ref = request.POST.get("ref", "")
    return run(
        request,
        case_id,
        lambda: case_services.record_payment(console_actor(request), case_id, amount, ref=ref),
        _("The payment was recorded."),
    )


@case_action
def complete(request: HttpRequest, case_id: int) -> HttpResponse:
    return run(
        request,
        case_id,
        lambda: case_services.complete(
            console_actor(request), case_id, expected_version=posted_version(request)
        ),
        _("The case is complete."),
    )


def parse_yuan(raw: str) -> int:
    """'123.45' → 12345 fen, exactly (no float); raises ValueError on anything else."""
    text = raw.strip().replace(",", "")
    if not text or text.count(".") > 1:
        raise ValueError(raw)
    whole, _dot, frac = text.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise ValueError(raw)
    fen = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    if fen <= 0:
        raise ValueError(raw)
    return fen


@case_action
def take(request: HttpRequest, case_id: int) -> HttpResponse:
    """Assign the case to me (reviewers and case workers)."""
    return run(
        request,
        case_id,
        lambda: case_services.assign(console_actor(request), case_id, request.user),
        _("The case is assigned to you."),
    )


def stop_message(case: Any) -> str:
    """Say what the stop did, from the case as the service left it (not from what was asked)."""
    if case.stopped_at is not None:
        return _("The terminals were stopped at %(at)s; they can no longer transact.") % {
            "at": local_time(case.stopped_at)
        }
    return _("The stop is scheduled for %(at)s; the terminals keep transacting until then.") % {
        "at": local_time(case.effective_at)
    }


@case_action
def pay_batches(request: HttpRequest, case_id: int) -> HttpResponse:
    """Finance: pay a closing merchant's due settled batches now (the settlement service decides)."""
    actor = console_actor(request)
    case = case_services.get_case(actor, case_id)
    return run(
        request,
        case_id,
        lambda: closing.pay_closing_merchant(actor, case.merchant_id),
        lambda paid: _("%(n)d settlement batches paid out.") % {"n": len(paid)},
    )
