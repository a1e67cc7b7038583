"""Files of a case for staff: a material (images and PDFs inline, anything else as a download),
the data export, the case's letters, and the evidence archive."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from posfleet.cases import services as case_services
from posfleet.cases.models import CaseExport
from posfleet.console.views_util import console_actor, domain_errors, staff_view
from posfleet.notices import services as notice_services

INLINE_TYPES = {"image/jpeg", "image/png", "application/pdf"}


@staff_view
@domain_errors
def material(request: HttpRequest, material_id: int) -> HttpResponse:
    item, data = case_services.read_material(console_actor(request), material_id)
    response = HttpResponse(data, content_type=item.content_type)
    disposition = "inline" if item.content_type in INLINE_TYPES else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="material-{item.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["X-Content-SHA256"] = item.sha256
    return response


@staff_view
@domain_errors
def export_csv(request: HttpRequest, case_id: int) -> HttpResponse:
    export, data = case_services.export_file(console_actor(request), case_id)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="case-{case_id}-transactions.csv"'
    response["X-Content-SHA256"] = export.sha256
    return response


@staff_view
@domain_errors
def notice_pdf(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    case = case_services.get_case(console_actor(request), case_id)
    notice, pdf = notice_services.notice_pdf(console_actor(request), notice_id)
    if notice.case_id != case.pk:
        raise Http404
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="case-{case.pk}-notice-{notice.pk}.pdf"'
    return response


@staff_view
@domain_errors
def archive(request: HttpRequest, case_id: int) -> HttpResponse:
    """Everything said and sent in the case (materials, comments, notices, timeline) as one ZIP."""
    name, data = case_services.case_archive(console_actor(request), case_id)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_view
@domain_errors
def export_status(request: HttpRequest, case_id: int) -> HttpResponse:
    """The export's progress line; HTMX polls it every 2 seconds while the worker builds the file."""
    case = case_services.get_case(console_actor(request), case_id)
    export = CaseExport.objects.filter(case=case).first()
    return render(request, "cases/_export_status.html", {"case": case, "export": export})
