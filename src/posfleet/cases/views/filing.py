"""An agent files a case for a merchant who phoned, e-mailed, faxed, posted or walked in, including an
application for a terminal by an existing merchant or by a new one (the applicant's data)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from posfleet.cases import services as case_services
from posfleet.cases.choices import CaseKind, required_materials
from posfleet.cases.forms import (
    ApplicantForm,
    ApplicationForm,
    CaseRequestForm,
    attach_errors,
    hold_choices,
    material_rows,
    unprefixed,
)
from posfleet.core.errors import DomainError
from posfleet.registry import pickers, prices
from posfleet.registry.choices import MerchantKind
from posfleet.registry.models import Merchant, Terminal
from posfleet.web.staff import console_actor, domain_error_response, domain_errors, staff_view


@staff_view(perm="file_case")
@domain_errors
@require_http_methods(["GET", "POST"])
def file_for_merchant(request: HttpRequest) -> HttpResponse:
    raw_merchant = request.GET.get("merchant") or request.POST.get("merchant") or ""
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    valid_id = raw_merchant.isdigit() and len(raw_merchant) <= 12
    merchant = Merchant.objects.filter(pk=int(raw_merchant)).first() if valid_id else None
    if merchant is None or kind not in CaseKind.values:
        if raw_merchant and merchant is None:
            messages.error(request, _("No merchant with this number."))
        return render(
            request,
            "cases/file_choose.html",
            {
                "kinds": CaseKind.choices,
                "merchant_value": raw_merchant,
                "merchant_label": pickers.merchant_name(raw_merchant),
                "kind": kind,
            },
        )
    form: CaseRequestForm | ApplicationForm
    if kind == CaseKind.APPLICATION:
        initial = {"install_address": merchant.address}
        form = ApplicationForm(request.POST or None, initial=initial, with_channel=True)
    else:
        tids = list(Terminal.objects.filter(merchant=merchant).order_by("tid").values_list("tid", flat=True))
        form = CaseRequestForm(
            kind,
            tids,
            request.POST or None,
            with_channel=True,
            holds=hold_choices(merchant.pk) if kind == CaseKind.APPEAL else (),
            initial={"hold": request.GET.get("hold")},
        )
    context = {
        "merchant": merchant,
        "kind": kind,
        "kind_label": CaseKind(kind).label,
        "form": form,
        "required": material_rows(required_materials(kind, merchant.kind), ()),
        "costs": prices.for_request(merchant, kind),
    }
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "cases/file_form.html", context, status=422)
        try:
            with transaction.atomic():
                case = case_services.file_case(
                    console_actor(request),
                    case_services.CaseInput(
                        kind=kind,
                        merchant_id=merchant.pk,
                        channel=form.cleaned_data["channel"],
                        **form.service_input(),
                    ),
                )
        except DomainError as exc:
            attach_errors(form, exc.details)
            return domain_error_response(request, exc, "cases/file_form.html", context)
        messages.success(request, _("Case #%(id)s was filed.") % {"id": case.pk})
        return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
    return render(request, "cases/file_form.html", context)


@staff_view(perm="file_case")
@domain_errors
@require_http_methods(["GET", "POST"])
def file_new_applicant(request: HttpRequest) -> HttpResponse:
    """A new merchant applies for its first terminal (walk-in, phone, mail): its data and the application."""
    applicant_form = ApplicantForm(request.POST or None, prefix="applicant")
    form = ApplicationForm(request.POST or None, new_merchant=True, with_channel=True)
    context = {
        "applicant_form": applicant_form,
        "form": form,
        "by_kind": [
            (label, material_rows(required_materials(CaseKind.APPLICATION, code), ()))
            for code, label in MerchantKind.choices
        ],
    }
    if request.method == "POST":
        if not (applicant_form.is_valid() and form.is_valid()):
            return render(request, "cases/file_applicant.html", context, status=422)
        try:
            with transaction.atomic():
                case = case_services.file_case(
                    console_actor(request),
                    case_services.CaseInput(
                        kind=CaseKind.APPLICATION,
                        applicant=applicant_form.applicant_input(),
                        channel=form.cleaned_data["channel"],
                        **form.service_input(),
                    ),
                )
        except DomainError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            attach_errors(applicant_form, unprefixed(details, "applicant."))
            attach_errors(form, {k: v for k, v in details.items() if not k.startswith("applicant")})
            return domain_error_response(request, exc, "cases/file_applicant.html", context)
        messages.success(request, _("Case #%(id)s was filed.") % {"id": case.pk})
        return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
    return render(request, "cases/file_applicant.html", context)
