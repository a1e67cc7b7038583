"""The risk queue of device alerts: terminals stopped for good that keep asking to transact."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.console.forms import ReasonForm
from posfleet.core.errors import DomainError
from posfleet.lifecycle import refusals
from posfleet.lifecycle.models import DeviceAlert
from posfleet.web.staff import console_actor, domain_error_response, staff_view

PAGE = 100


@staff_view(perm="view_fleet")
def alert_list(request: HttpRequest) -> HttpResponse:
    """Open alerts, the latest attempt first, then the last acknowledged ones."""
    context = {
        "open": list(refusals.open_alerts().order_by("-last_at")[:PAGE]),
        "done": list(
            DeviceAlert.objects.filter(acknowledged_at__isnull=False)
            .select_related("terminal", "acknowledged_by")
            .order_by("-acknowledged_at")[:20]
        ),
        "can_acknowledge": request.user.has_perm(f"accounts.{refusals.ALERT_PERM}"),
        "form": ReasonForm(),
    }
    return render(request, "console/alerts.html", context)


@require_POST
@staff_view(perm="view_fleet")
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    back = reverse("console:alerts")
    if not form.is_valid():
        messages.error(request, _("A note is required."))
        return HttpResponseRedirect(back)
    try:
        with transaction.atomic():
            refusals.acknowledge(console_actor(request), alert_id, form.cleaned_data["reason"])
    except DomainError as exc:
        return domain_error_response(request, exc, step_up_next=back)
    messages.success(request, _("Alert acknowledged."))
    return HttpResponseRedirect(back)
