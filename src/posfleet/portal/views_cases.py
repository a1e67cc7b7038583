"""Portal requests (cases): file a request, upload materials, follow it to the end.

Every lookup is filtered on `request.merchant_id`, so another merchant's case is a 404; the cases
services, called with the portal Actor, check the rest (terminals, dates, files). A portal login
belongs to one merchant, so here a merchant applies as itself; a business that is not a merchant yet
applies through an agent (console) or a partner's system (API). The materials asked for follow the
merchant's kind (`cases.choices.required_materials`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from posfleet.cases import services as case_services
from posfleet.cases.choices import (
    REVIEWABLE_STATES,
    CaseChannel,
    CaseKind,
    CaseState,
    ExportState,
    MaterialType,
    Reason,
    required_materials,
)
from posfleet.cases.forms import (
    ApplicationForm,
    CaseRequestForm,
    CommentForm,
    MaterialForm,
    ResubmitForm,
    attach_errors,
    hold_choices,
    labelled_checklist,
    labelled_timeline,
    material_rows,
)
from posfleet.cases.models import Application, Case
from posfleet.core.actor import Actor
from posfleet.core.downloads import CSV, download
from posfleet.core.errors import DomainError, ValidationFailed
from posfleet.notices.models import Notice
from posfleet.registry import prices
from posfleet.registry.models import Merchant, Terminal
from posfleet.web.merchant import merchant_view, or_404, portal_actor

PAGE = 50
P = ParamSpec("P")


def _merchant_id(request: HttpRequest) -> int:
    return int(request.merchant_id)  # type: ignore[attr-defined]


def _my_case(request: HttpRequest, case_id: int) -> Case:
    """The case if it is my merchant's (the service decides); anyone else's is a 404."""
    return or_404(lambda: case_services.get_case(portal_actor(request), case_id))


@merchant_view
def case_list(request: HttpRequest) -> HttpResponse:
    cases = list(Case.objects.filter(merchant_id=_merchant_id(request)).order_by("-id")[:PAGE])
    return render(request, "portal/cases/list.html", {"cases": cases, "kinds": CaseKind.choices})


def _merchant(request: HttpRequest) -> Merchant:
    return Merchant.objects.get(pk=_merchant_id(request))


def typed_files(request: HttpRequest) -> list[tuple[str, Any]]:
    """Files posted one per material type (`file_<type>`), in the order of the types."""
    return [
        (code, request.FILES[f"file_{code}"])
        for code in MaterialType.values
        if f"file_{code}" in request.FILES
    ]


def _attach_typed(request: HttpRequest, case_id: int) -> int:
    """Store each `file_<type>` upload; a refused file names its type (the caller's transaction rolls back)."""
    files = typed_files(request)
    labels = dict(MaterialType.choices)
    for code, upload in files:
        try:
            case_services.add_material(portal_actor(request), case_id, code, upload)
        except ValidationFailed as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            texts = [str(m) for msgs in details.values() for m in msgs] or [str(exc.message)]
            raise ValidationFailed(
                _("%(material)s: %(problem)s") % {"material": labels[code], "problem": " ".join(texts)},
                details={"file": texts},
            ) from exc
    return len(files)


@merchant_view
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    """Pick a kind, then fill that kind's form (its reasons, my terminals, its dates)."""
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    if kind not in CaseKind.values:
        return render(request, "portal/cases/choose_kind.html", {"kinds": CaseKind.choices})
    merchant = _merchant(request)
    form: CaseRequestForm | ApplicationForm
    if kind == CaseKind.APPLICATION:
        form = ApplicationForm(request.POST or None, initial={"install_address": merchant.address})
    else:
        tids = list(
            Terminal.objects.filter(merchant_id=merchant.pk).order_by("tid").values_list("tid", flat=True)
        )
        form = CaseRequestForm(
            kind,
            tids,
            request.POST or None,
            holds=hold_choices(merchant.pk) if kind == CaseKind.APPEAL else (),
            initial={"hold": request.GET.get("hold")},
        )
    material_form = MaterialForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.service_input()
        try:
            with transaction.atomic():
                case = case_services.file_case(
                    portal_actor(request),
                    case_services.CaseInput(
                        kind=kind, merchant_id=merchant.pk, channel=CaseChannel.PORTAL, **data
                    ),
                )
                upload = request.FILES.get("file")
                if upload is not None:
                    case_services.add_material(
                        portal_actor(request), case.pk, request.POST.get("type", ""), upload
                    )
                _attach_typed(request, case.pk)
        except DomainError as exc:
            if not attach_errors(form, exc.details):
                form.add_error(None, str(exc.message))
            messages.error(request, str(exc.message))
            status = exc.status
        else:
            messages.success(request, _("Your request #%(id)s was filed.") % {"id": case.pk})
            return HttpResponseRedirect(reverse("portal:case", args=[case.pk]))
    elif request.method == "POST":
        status = 422
    context = {
        "still_stopped": _still_stopped(merchant) if kind == CaseKind.REACTIVATION else [],
        "kind": kind,
        "kind_label": CaseKind(kind).label,
        "form": form,
        "material_form": material_form,
        "merchant": merchant,
        "required": material_rows(required_materials(kind, merchant.kind), ()),
        "costs": prices.for_request(merchant, kind),
    }
    templates: dict[str, str] = {
        CaseKind.APPLICATION: "portal/cases/new_application.html",
        CaseKind.APPEAL: "portal/cases/new_appeal.html",
    }
    template = templates.get(kind, "portal/cases/new.html")
    return render(request, template, context, status=status)


def _still_stopped(merchant: Merchant) -> list[Any]:
    """What would still stop my suspended terminals once a reactivation lifts their suspensions."""
    terminals = list(Terminal.objects.filter(merchant_id=merchant.pk).order_by("tid")[:100])
    suspended = case_services.suspended_tids([t.tid for t in terminals], timezone.now())
    stops = case_services.stops_after(merchant, [t for t in terminals if t.tid in suspended])
    return [s for rows in stops.values() for s in rows]


def _detail_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    labels = dict(MaterialType.choices)
    materials = list(case.materials.order_by("id"))
    application = (
        Application.objects.select_related("terminal_model", "terminal").filter(case=case).first()
        if case.kind == CaseKind.APPLICATION
        else None
    )
    letters = list(
        Notice.objects.filter(case_id=case.pk, merchant_id=case.merchant_id)
        .exclude(pdf_path="")
        .order_by("id")
    )
    export = getattr(case, "export", None) if case.is_stop else None

    return {
        "case": case,
        "reason_label": dict(Reason.choices).get(case.reason, case.reason),
        "scope": list(case.scope.select_related("terminal").order_by("terminal__tid")),
        "materials": materials,
        "missing": [(m, labels.get(m, m)) for m in case.missing_materials()],
        "material_rows": material_rows(case.required_materials, (m.type for m in materials)),
        "application": application,
        "resubmit_form": ResubmitForm(initial={"install_address": application.install_address})
        if application is not None
        else None,
        "can_resubmit": application is not None and case.state == CaseState.REJECTED,
        "checklist": labelled_checklist(case_services.checklist(case)) if case.is_stop else [],
        "timeline": labelled_timeline(case_services.timeline(case, for_merchant=True)),
        "comments": list(case.comments.filter(visible_to_merchant=True).order_by("id")),
        "letter": letters[-1] if letters else None,
        "letters": letters,
        "export": export,
        "export_done": export is not None and export.state == ExportState.DONE,
        "material_form": MaterialForm(),
        "comment_form": CommentForm(),
        "can_cancel": case.state in REVIEWABLE_STATES,
        "hold": case.hold,
        "still_stopped": case_services.still_stopped(case),
        "next_steps": case_services.appeal_next_steps(case),
        "can_export": case.is_stop and case.state in (CaseState.APPROVED, CaseState.IN_PROGRESS),
    }


@merchant_view
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _my_case(request, case_id)
    return render(request, "portal/cases/detail.html", _detail_context(request, case))


@merchant_view
@require_POST
def case_material(request: HttpRequest, case_id: int) -> HttpResponse:
    """Upload materials: one with its type chosen, or one file per missing type from the checklist.
    A refused file (type, size, content) is explained in my language and nothing of the post is kept."""
    case = _my_case(request, case_id)
    typed = bool(typed_files(request))
    form = MaterialForm(request.POST, request.FILES)
    status = 200
    if typed or form.is_valid():
        try:
            with transaction.atomic():
                if typed:
                    _attach_typed(request, case.pk)
                else:
                    case_services.add_material(
                        portal_actor(request), case.pk, form.cleaned_data["type"], form.cleaned_data["file"]
                    )
        except DomainError as exc:
            if typed or not attach_errors(form, exc.details):
                form.add_error("file" if "file" in form.fields else None, str(exc.message))
            messages.error(request, str(exc.message))
            status = exc.status
        else:
            messages.success(request, _("The material was uploaded."))
            return HttpResponseRedirect(reverse("portal:case", args=[case.pk]))
    else:
        status = 422
    case.refresh_from_db()
    context = _detail_context(request, case) | {"material_form": form}
    return render(request, "portal/cases/detail.html", context, status=status)


@merchant_view
@require_POST
def case_resubmit(request: HttpRequest, case_id: int) -> HttpResponse:
    """Correct my rejected application (what changed, the installation address) and send it back."""
    form = ResubmitForm(request.POST)
    data = form.data
    return _act(
        request,
        case_id,
        _("Your application is back in review."),
        case_services.resubmit,
        note=data.get("note", ""),
        install_address=data.get("install_address", ""),
    )


@merchant_view
def case_letter(request: HttpRequest, case_id: int) -> HttpResponse:
    notice, pdf = or_404(lambda: case_services.letter_pdf(portal_actor(request), case_id))
    return download(pdf, "application/pdf", f"case-{case_id}-letter-{notice.pk}.pdf")


@merchant_view
def case_export(request: HttpRequest, case_id: int) -> HttpResponse:
    """The data export (my transaction history as CSV) once the worker has built it, with its SHA-256."""
    try:
        export, data = or_404(lambda: case_services.export_file(portal_actor(request), case_id))
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("portal:case", args=[case_id]))
    return download(data, CSV, export.filename, sha256=export.sha256)


def _act(
    request: HttpRequest,
    case_id: int,
    success: str,
    service: Callable[Concatenate[Actor, int, P], object],
    *args: P.args,
    **kwargs: P.kwargs,
) -> HttpResponse:
    """`service(actor, case_id, ...)` for my case in one transaction; back to the case page with
    `success`, or with the refusal as a message."""
    _my_case(request, case_id)
    try:
        with transaction.atomic():
            service(portal_actor(request), case_id, *args, **kwargs)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, success)
    return HttpResponseRedirect(reverse("portal:case", args=[case_id]))


def _error_text(exc: DomainError) -> str:
    details = exc.details if isinstance(exc.details, dict) else {}
    extra = [str(m) for msgs in details.values() if isinstance(msgs, list | tuple) for m in msgs]
    return " ".join([str(exc.message), *extra[:5]])


@merchant_view
@require_POST
def case_comment(request: HttpRequest, case_id: int) -> HttpResponse:
    """A message to the institution about my request (kept with the case as evidence)."""
    text = request.POST.get("text", "")
    return _act(request, case_id, _("Your message was added."), case_services.add_comment, text)


@merchant_view
@require_POST
def case_cancel(request: HttpRequest, case_id: int) -> HttpResponse:
    """Withdraw my request before it is decided."""
    reason = request.POST.get("reason", "")
    return _act(request, case_id, _("Your request was withdrawn."), case_services.cancel, reason)


@merchant_view
@require_POST
def case_export_start(request: HttpRequest, case_id: int) -> HttpResponse:
    """Ask for my transaction history as a CSV file (built by the worker)."""
    return _act(request, case_id, _("Your data export is being prepared."), case_services.start_export)
