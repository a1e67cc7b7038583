"""Files of a case for staff: a material (images and PDFs inline, anything else as a download),
the data export, the case's letters, and the evidence archive."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from posfleet.cases import services as case_services
from posfleet.cases.models import CaseExport
from posfleet.core.downloads import CSV, download
from posfleet.notices import services as notice_services
from posfleet.web.staff import console_actor, domain_errors, staff_view

INLINE_TYPES = {"image/jpeg", "image/png", "application/pdf"}


@staff_view
@domain_errors
def material(request: HttpRequest, material_id: int) -> HttpResponse:
    item, data = case_services.read_material(console_actor(request), material_id)
    inline = item.content_type in INLINE_TYPES
    response = download(data, item.content_type, f"material-{item.pk}", inline=inline, sha256=item.sha256)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response


@staff_view
@domain_errors
def export_csv(request: HttpRequest, case_id: int) -> HttpResponse:
    export, data = case_services.export_file(console_actor(request), case_id)
    return download(data, CSV, export.filename, sha256=export.sha256)


@staff_view
@domain_errors
def notice_pdf(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    case = case_services.get_case(console_actor(request), case_id)
    notice, pdf = notice_services.notice_pdf(console_actor(request), notice_id)
    if notice.case_id != case.pk:
        raise Http404
    return download(pdf, "application/pdf", f"case-{case.pk}-notice-{notice.pk}.pdf", inline=True)


@staff_view
@domain_errors
def archive(request: HttpRequest, case_id: int) -> HttpResponse:
    """Everything said and sent in the case (materials, comments, notices, timeline) as one ZIP."""
    name, data = case_services.case_archive(console_actor(request), case_id)
    return download(data, "application/zip", name)


@staff_view
@domain_errors
def export_status(request: HttpRequest, case_id: int) -> HttpResponse:
    """The export's progress line; HTMX polls it every 2 seconds while the worker builds the file."""
    case = case_services.get_case(console_actor(request), case_id)
    export = CaseExport.objects.filter(case=case).first()
    return render(request, "cases/_export_status.html", {"case": case, "export": export})
