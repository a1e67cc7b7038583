"""Console pages of the notices: a notice with its deliveries (webhook replay), the agents' call
queue, the risk officers' fraud-report queue (an agent records a report here too)."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.core.errors import DomainError
from posfleet.notices import calls, fraud, services, webhooks
from posfleet.notices.choices import CallOutcome, FraudChannel
from posfleet.web.staff import console_actor, domain_error_response, staff_view


@staff_view(perm="view_fleet")
def notice_list(request: HttpRequest) -> HttpResponse:
    merchant = request.GET.get("merchant_id") or ""
    merchant_id = int(merchant) if merchant.isdigit() else None
    items = services.list_notices(console_actor(request), merchant_id, limit=100)
    return render(request, "notices/console/list.html", {"notices": items, "merchant_id": merchant_id})


@staff_view(perm="view_fleet")
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = services.get_notice(console_actor(request), notice_id)
    context = {
        "notice": notice,
        "deliveries": list(notice.deliveries.select_related("endpoint").order_by("id")),
        "calls": list(notice.call_tasks.order_by("id")),
        "can_replay": request.user.has_perm("accounts.manage_webhooks"),
    }
    return render(request, "notices/console/detail.html", context)


@require_POST
@staff_view(perm="manage_webhooks")
def delivery_replay(request: HttpRequest, notice_id: int, delivery_id: int) -> HttpResponse:
    back = reverse("notices_console:notice", args=[notice_id])
    try:
        with transaction.atomic():
            webhooks.replay(console_actor(request), delivery_id)
    except DomainError as exc:
        return domain_error_response(request, exc, step_up_next=back)
    messages.success(request, _("The webhook is queued to be sent again."))
    return HttpResponseRedirect(back)


@staff_view(perm="work_call_task")
def call_list(request: HttpRequest) -> HttpResponse:
    tasks = calls.open_tasks(console_actor(request))
    return render(request, "notices/console/calls.html", {"tasks": tasks, "outcomes": CallOutcome.choices})


def _when(raw: str | None) -> datetime | None:
    value = parse_datetime(raw or "")
    if value is not None and value.tzinfo is None:
        from django.utils import timezone

        value = timezone.make_aware(value)
    return value


@require_POST
@staff_view(perm="work_call_task")
def call_outcome(request: HttpRequest, task_id: int) -> HttpResponse:
    back = reverse("notices_console:calls")
    try:
        with transaction.atomic():
            calls.record_outcome(
                console_actor(request),
                task_id,
                outcome=request.POST.get("outcome", ""),
                note=request.POST.get("note", ""),
                callback_at=_when(request.POST.get("callback_at")),
            )
    except DomainError as exc:
        return domain_error_response(request, exc, step_up_next=back)
    messages.success(request, _("Call recorded."))
    return HttpResponseRedirect(back)


@staff_view
def fraud_queue(request: HttpRequest) -> HttpResponse:
    actor = console_actor(request)
    reports = (
        list(fraud.queue(actor, None)[:200]) if request.user.has_perm("accounts.review_fraud_report") else []
    )
    return render(
        request, "notices/console/fraud.html", {"reports": reports, "channels": FraudChannel.choices}
    )


@require_POST
@staff_view
def fraud_file(request: HttpRequest) -> HttpResponse:
    back = reverse("notices_console:fraud")
    merchant = request.POST.get("merchant_id") or ""
    try:
        with transaction.atomic():
            fraud.file_report(
                console_actor(request),
                merchant_id=int(merchant) if merchant.isdigit() else None,
                caller_number=request.POST.get("caller_number", ""),
                channel=request.POST.get("channel", ""),
                claimed=request.POST.get("claimed", ""),
                asked_for=request.POST.get("asked_for", ""),
            )
    except DomainError as exc:
        return domain_error_response(request, exc, step_up_next=back)
    messages.success(request, _("Report recorded for the risk officers."))
    return HttpResponseRedirect(back)


@require_POST
@staff_view(perm="review_fraud_report")
def fraud_review(request: HttpRequest, report_id: int) -> HttpResponse:
    back = reverse("notices_console:fraud")
    try:
        with transaction.atomic():
            fraud.review(console_actor(request), report_id, note=request.POST.get("note", ""))
    except DomainError as exc:
        return domain_error_response(request, exc, step_up_next=back)
    messages.success(request, _("Report reviewed."))
    return HttpResponseRedirect(back)
