"""Portal requests (cases): file a request, upload materials, follow it to the end.

The merchant sees only their own cases: every lookup is filtered on `request.merchant_id`, so another
merchant's case id is a 404. Filing and uploading go through the cases services with the portal Actor,
which check the rest (terminals of this merchant, dates, file content and size).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from posfleet.cases import services as case_services
from posfleet.cases.choices import (
    REQUIRED_MATERIALS,
    REVIEWABLE_STATES,
    CaseChannel,
    CaseKind,
    CaseState,
    ExportState,
    MaterialType,
    Reason,
)
from posfleet.cases.forms import (
    CaseRequestForm,
    CommentForm,
    MaterialForm,
    ReasonForm,
    attach_errors,
    labelled_checklist,
    labelled_timeline,
)
from posfleet.cases.models import Case
from posfleet.core.errors import DomainError, NotFound
from posfleet.notices.models import Notice
from posfleet.portal.views import pdf_response
from posfleet.portal.views_util import merchant_view, portal_actor
from posfleet.registry.models import Terminal

PAGE = 50


def _merchant_id(request: HttpRequest) -> int:
    return int(request.merchant_id)  # type: ignore[attr-defined]


def _my_case(request: HttpRequest, case_id: int) -> Case:
    """The case if it is my merchant's (the service decides); anyone else's is a 404."""
    try:
        return case_services.get_case(portal_actor(request), case_id)
    except NotFound:
        raise Http404 from None


@merchant_view
def case_list(request: HttpRequest) -> HttpResponse:
    cases = list(Case.objects.filter(merchant_id=_merchant_id(request)).order_by("-id")[:PAGE])
    return render(request, "portal/cases/list.html", {"cases": cases, "kinds": CaseKind.choices})


@merchant_view
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    """Pick a kind, then fill that kind's form (its reasons, my terminals, its dates)."""
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    if kind not in CaseKind.values:
        return render(request, "portal/cases/choose_kind.html", {"kinds": CaseKind.choices})
    tids = list(
        Terminal.objects.filter(merchant_id=_merchant_id(request))
        .order_by("tid")
        .values_list("tid", flat=True)
    )
    form = CaseRequestForm(kind, tids, request.POST or None)
    material_form = MaterialForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.service_input()
        try:
            with transaction.atomic():
                case = case_services.file_case(
                    portal_actor(request),
                    case_services.CaseInput(
                        kind=kind, merchant_id=_merchant_id(request), channel=CaseChannel.PORTAL, **data
                    ),
                )
                upload = request.FILES.get("file")
                if upload is not None:
                    case_services.add_material(
                        portal_actor(request), case.pk, request.POST.get("type", ""), upload
                    )
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
        "kind": kind,
        "kind_label": CaseKind(kind).label,
        "form": form,
        "material_form": material_form,
        "required": case_services_required(kind),
    }
    return render(request, "portal/cases/new.html", context, status=status)


def case_services_required(kind: str) -> list[tuple[str, Any]]:
    labels = dict(MaterialType.choices)
    return [(m, labels[m]) for m in REQUIRED_MATERIALS.get(kind, ())]


def _detail_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    labels = dict(MaterialType.choices)
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
        "materials": list(case.materials.order_by("id")),
        "missing": [(m, labels.get(m, m)) for m in case.missing_materials()],
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
        "can_export": case.is_stop and case.state in (CaseState.APPROVED, CaseState.IN_PROGRESS),
    }


@merchant_view
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _my_case(request, case_id)
    return render(request, "portal/cases/detail.html", _detail_context(request, case))


@merchant_view
@require_POST
def case_material(request: HttpRequest, case_id: int) -> HttpResponse:
    """Upload one material; a refused file (type, size, content) is explained in my language."""
    case = _my_case(request, case_id)
    form = MaterialForm(request.POST, request.FILES)
    status = 200
    if form.is_valid():
        try:
            with transaction.atomic():
                case_services.add_material(
                    portal_actor(request), case.pk, form.cleaned_data["type"], form.cleaned_data["file"]
                )
        except DomainError as exc:
            if not attach_errors(form, exc.details):
                form.add_error("file", str(exc.message))
            messages.error(request, str(exc.message))
            status = exc.status
        else:
            messages.success(request, _("The material was uploaded."))
            return HttpResponseRedirect(reverse("portal:case", args=[case.pk]))
    else:
        status = 422
    context = _detail_context(request, case) | {"material_form": form}
    return render(request, "portal/cases/detail.html", context, status=status)


@merchant_view
def case_letter(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        notice, pdf = case_services.letter_pdf(portal_actor(request), case_id)
    except NotFound:
        raise Http404 from None
    return pdf_response(pdf, f"case-{case_id}-letter-{notice.pk}.pdf")


@merchant_view
def case_export(request: HttpRequest, case_id: int) -> HttpResponse:
    """The data export (my transaction history as CSV) once the worker has built it, with its SHA-256."""
    try:
        export, data = case_services.export_file(portal_actor(request), case_id)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("portal:case", args=[case_id]))
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="case-{case_id}-transactions.csv"'
    response["X-Content-SHA256"] = export.sha256
    return response


def _act(request: HttpRequest, case_id: int, call: Any, success: str) -> HttpResponse:
    """Run one service call for my case; a refusal comes back as a message on the case page."""
    _my_case(request, case_id)
    try:
        with transaction.atomic():
            call()
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
    form = CommentForm({"kind": "comment", "text": request.POST.get("text", "")})
    text = form.data["text"]
    return _act(
        request,
        case_id,
        lambda: case_services.add_comment(portal_actor(request), case_id, text),
        _("Your message was added."),
    )


@merchant_view
@require_POST
def case_cancel(request: HttpRequest, case_id: int) -> HttpResponse:
    """Withdraw my request before it is decided."""
    form = ReasonForm(request.POST)
    reason = form.data.get("reason", "")
    return _act(
        request,
        case_id,
        lambda: case_services.cancel(portal_actor(request), case_id, reason),
        _("Your request was withdrawn."),
    )


@merchant_view
@require_POST
def case_export_start(request: HttpRequest, case_id: int) -> HttpResponse:
    """Ask for my transaction history as a CSV file (built by the worker)."""
    return _act(
        request,
        case_id,
        lambda: case_services.start_export(portal_actor(request), case_id),
        _("Your data export is being prepared."),
    )
