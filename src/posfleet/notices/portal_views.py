"""The merchant's report of a suspicious call or SMS, from the portal's verification help page."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from posfleet.core.errors import DomainError
from posfleet.notices import fraud
from posfleet.web.merchant import merchant_view, portal_actor


@require_POST
@merchant_view
def report_fraud(request: HttpRequest) -> HttpResponse:
    try:
        with transaction.atomic():
            fraud.file_report(
                portal_actor(request),
                caller_number=request.POST.get("caller_number", ""),
                channel=request.POST.get("channel", ""),
                claimed=request.POST.get("claimed", ""),
                asked_for=request.POST.get("asked_for", ""),
            )
    except DomainError as exc:
        messages.error(request, str(exc.message) if exc.message else _("Check the form."))
        return HttpResponseRedirect(reverse("portal:verify"))
    messages.success(
        request, _("Thank you. Our risk team will look into it. Do not follow the caller's instructions.")
    )
    return HttpResponseRedirect(reverse("portal:verify"))
